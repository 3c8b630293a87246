ALTER TABLE claims DROP COLUMN repeated_terms;
DROP FUNCTION repeated_lexemes(tsvector);
