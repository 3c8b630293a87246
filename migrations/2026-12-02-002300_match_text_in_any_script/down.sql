DROP TABLE text_keys_version;

DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search_vector, DROP COLUMN search_terms;
CREATE INDEX article_revisions_headline_search_idx ON article_revisions
    USING gin (to_tsvector('english', headline));

ALTER TABLE claims DROP COLUMN search_vector, DROP COLUMN search_terms, DROP COLUMN text_key;
ALTER TABLE claims ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('english', text || ' ' || coalesce(cue, ''))) STORED;
CREATE INDEX claims_search_idx ON claims USING gin (search_vector);

ALTER TABLE speakers DROP COLUMN search_vector, DROP COLUMN search_terms, DROP COLUMN alias_keys,
                     DROP COLUMN role_name_key, DROP COLUMN name_key;
ALTER TABLE speakers ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple',
        name || ' ' || coalesce(role, '') || ' ' || coalesce(affiliation, '') || ' ' || immutable_join(aliases))) STORED;
CREATE INDEX speakers_search_idx ON speakers USING gin (search_vector);
CREATE INDEX speakers_lower_name_idx ON speakers (lower(name));

ALTER TABLE stories DROP CONSTRAINT stories_slug_format;
ALTER TABLE stories ADD CONSTRAINT stories_slug_format
    CHECK (slug ~ '^[[:alnum:]]+(-[[:alnum:]]+)*$' AND slug = lower(slug));
