DROP TABLE claim_relations;
DROP DOMAIN relation_kind;
