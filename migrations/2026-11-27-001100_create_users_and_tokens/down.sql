ALTER TABLE claims DROP COLUMN created_by;
DROP TABLE api_tokens;
DROP TABLE users;
DROP DOMAIN user_role;
