DROP TABLE claim_comments;
DROP TABLE claim_reviews;
DROP DOMAIN review_verdict;
