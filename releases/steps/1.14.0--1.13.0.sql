-- jobsdb 1.14.0 -> 1.13.0: the way back, as a forward migration.
--
-- No DDL to undo: 1.13.0's system_metrics again.

-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.13.0
