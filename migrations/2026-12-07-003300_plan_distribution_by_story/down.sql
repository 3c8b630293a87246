-- Tables already spread over a Citus cluster stay so (undistribute_table
-- moves them back, by hand); this removes the plan's functions.
DROP FUNCTION claimtrail_distribution_blockers();
DROP FUNCTION claimtrail_table_placement();
