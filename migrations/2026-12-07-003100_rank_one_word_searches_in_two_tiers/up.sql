-- A search for one word ranks claims by ts_rank, which for a single lexeme
-- depends only on how often the claim repeats it (every position has the
-- same weight here): all claims that say it once tie, and ties go by id. So
-- the first page of a one-word search is the claims that repeat the word
-- (few; found through this column's index) followed by the lowest ids of
-- the others (the primary key's order, stopped after one page): exact,
-- without ranking every claim that matches a common word
-- (src/storage/search.rs).
CREATE FUNCTION repeated_lexemes(document tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_to_tsvector(array_agg(lexeme)), ''::tsvector)
      FROM unnest(document)
     WHERE cardinality(positions) > 1
$$;

ALTER TABLE claims ADD COLUMN repeated_terms tsvector
    GENERATED ALWAYS AS (repeated_lexemes(to_tsvector('english', search_terms))) STORED;
CREATE INDEX claims_repeated_terms_idx ON claims USING gin (repeated_terms);
