-- Going back to the hash chain would need the chain re-computed over the
-- events written since; this migration is not reversible.
DO $$ BEGIN RAISE EXCEPTION 'the transparency log cannot be reverted to the hash chain'; END $$;
