-- Text in any script, matched the same way on every server.
--
-- The server's locale decided what was a letter and how it was lowercased:
-- in the C locale (initdb --no-locale) `[[:alnum:]]` and `lower()` know ASCII
-- only, so a story titled "日本・北朝鮮" broke the slug check and "ÉCOLE"
-- never matched "école". Now the service computes match keys and search
-- terms in Rust with its own Unicode data (src/domain/text.rs) and the
-- database only compares them byte for byte.

DO $$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'claimtrail needs a UTF8 database (this one is %)', current_setting('server_encoding')
            USING HINT = 'create the database with ENCODING ''UTF8'' (and TEMPLATE template0)';
    END IF;
END
$$;

-- Slugs: the words' letters are checked by the service with Unicode's rules;
-- the database keeps what does not depend on a locale: words joined by
-- single hyphens, no ASCII punctuation, space or capital, in NFC.
ALTER TABLE stories DROP CONSTRAINT stories_slug_format;
UPDATE stories SET slug = normalize(slug, NFC) WHERE slug IS NOT NFC NORMALIZED;
ALTER TABLE stories ADD CONSTRAINT stories_slug_format CHECK (
    slug ~ '^[^-]+(-[^-]+)*$'
    AND slug !~ '[\x01-\x2c\x2e\x2f\x3a-\x60\x7b-\x7f]'
    AND slug IS NFC NORMALIZED);

-- Speakers are found by key: of the name, of "role name", of each alias.
ALTER TABLE speakers
    ADD COLUMN name_key text NOT NULL DEFAULT '',
    ADD COLUMN role_name_key text,
    ADD COLUMN alias_keys text[] NOT NULL DEFAULT '{}',
    ADD COLUMN search_terms text NOT NULL DEFAULT '';
DROP INDEX speakers_lower_name_idx;
CREATE INDEX speakers_name_key_idx ON speakers (name_key);
ALTER TABLE speakers DROP COLUMN search_vector;
ALTER TABLE speakers ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED;
CREATE INDEX speakers_search_idx ON speakers USING gin (search_vector);

-- Claims: the key of the text (to recognise a claim logged again) and the
-- search terms of text and cue. A claim text can be longer than a btree
-- entry, so the key is hash-indexed.
ALTER TABLE claims
    ADD COLUMN text_key text NOT NULL DEFAULT '',
    ADD COLUMN search_terms text NOT NULL DEFAULT '';
CREATE INDEX claims_text_key_idx ON claims USING hash (text_key);
ALTER TABLE claims DROP COLUMN search_vector;
ALTER TABLE claims ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('english', search_terms)) STORED;
CREATE INDEX claims_search_idx ON claims USING gin (search_vector);

-- Articles: the search terms of the current headline, on the head row.
ALTER TABLE articles ADD COLUMN search_terms text NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('english', search_terms)) STORED;
CREATE INDEX articles_search_idx ON articles USING gin (search_vector);
DROP INDEX article_revisions_headline_search_idx;

-- Keys and terms depend on the Unicode data of the service that made them.
-- The service fills them for rows written before this migration, and again
-- whenever its key version is newer than the one recorded here.
CREATE TABLE text_keys_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   integer NOT NULL
);
INSERT INTO text_keys_version VALUES (true, 0);

ALTER TABLE speakers ALTER COLUMN name_key DROP DEFAULT,
                     ALTER COLUMN search_terms DROP DEFAULT;
ALTER TABLE claims ALTER COLUMN text_key DROP DEFAULT,
                   ALTER COLUMN search_terms DROP DEFAULT;
ALTER TABLE articles ALTER COLUMN search_terms DROP DEFAULT;
