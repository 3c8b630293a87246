-- Likely duplicates are found through MinHash band keys the service computes
-- (src/domain/near_duplicates.rs) instead of a trigram GiST walk: the walk
-- read the whole index for a text without near twins (its cost grew with
-- the ledger), and in the C locale pg_trgm sees no letter outside ASCII.
--
-- `claims.duplicate_bands` holds the keys of the current text (written with
-- `text_key`, filled for older rows by the key refresh at start-up);
-- `claim_duplicate_bands` is their b-tree, kept by statement-level triggers
-- so that a batch of claims costs one statement, not one per row. A lookup
-- reads at most a fixed number of entries per key.
ALTER TABLE claims ADD COLUMN duplicate_bands bigint[] NOT NULL DEFAULT '{}';

CREATE TABLE claim_duplicate_bands (
    band bigint NOT NULL,
    claim_id bigint NOT NULL,
    PRIMARY KEY (band, claim_id)
);

CREATE FUNCTION claim_duplicate_bands_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO claim_duplicate_bands (band, claim_id)
    SELECT DISTINCT b.band, n.id
      FROM new_claims n CROSS JOIN LATERAL unnest(n.duplicate_bands) AS b(band);
    RETURN NULL;
END $$;

CREATE FUNCTION claim_duplicate_bands_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM claim_duplicate_bands d
     USING old_claims o JOIN new_claims n ON n.id = o.id
     WHERE d.claim_id = o.id
       AND o.duplicate_bands IS DISTINCT FROM n.duplicate_bands
       AND d.band = ANY (o.duplicate_bands);
    INSERT INTO claim_duplicate_bands (band, claim_id)
    SELECT DISTINCT b.band, n.id
      FROM old_claims o JOIN new_claims n ON n.id = o.id
           CROSS JOIN LATERAL unnest(n.duplicate_bands) AS b(band)
     WHERE o.duplicate_bands IS DISTINCT FROM n.duplicate_bands;
    RETURN NULL;
END $$;

CREATE TRIGGER claims_duplicate_bands_inserted AFTER INSERT ON claims
    REFERENCING NEW TABLE AS new_claims
    FOR EACH STATEMENT EXECUTE FUNCTION claim_duplicate_bands_inserted();
CREATE TRIGGER claims_duplicate_bands_updated AFTER UPDATE ON claims
    REFERENCING OLD TABLE AS old_claims NEW TABLE AS new_claims
    FOR EACH STATEMENT EXECUTE FUNCTION claim_duplicate_bands_updated();

DROP INDEX claims_text_trgm_gist_idx;
