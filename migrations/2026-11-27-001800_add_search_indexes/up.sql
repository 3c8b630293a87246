-- Full-text search over claims, speakers and article headlines, and trigram
-- similarity to spot the same claim logged twice.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- array_to_string is only STABLE; joining text with a space is immutable.
CREATE FUNCTION immutable_join(parts text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string(parts, ' ') $$;

ALTER TABLE claims ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('english', text || ' ' || coalesce(cue, ''))) STORED;
CREATE INDEX claims_search_idx ON claims USING gin (search_vector);
CREATE INDEX claims_text_trgm_idx ON claims USING gin (lower(text) gin_trgm_ops);

ALTER TABLE speakers ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple',
        name || ' ' || coalesce(role, '') || ' ' || coalesce(affiliation, '') || ' ' || immutable_join(aliases))) STORED;
CREATE INDEX speakers_search_idx ON speakers USING gin (search_vector);

CREATE INDEX article_revisions_headline_search_idx ON article_revisions
    USING gin (to_tsvector('english', headline));
