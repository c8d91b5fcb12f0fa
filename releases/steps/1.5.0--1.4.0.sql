-- jobsdb 1.5.0 -> 1.4.0: the way back, as a forward migration.
--
-- The upgrade added the roll-up's buckets (two tables, a column and its index) and the bodies
-- that use them. The roll-up is emptied as the upgrade emptied it, and they go;
-- 1.4.0's bodies come back, and the next run of rollup_job_metrics rolls up the last 31 days
-- again (system_metrics is exact meanwhile, only slower). No client of the API reads any of
-- them.
truncate table jobs_private.job_metrics_hours, jobs_private.job_metrics_rollup,
jobs_private.job_metrics_run_seconds;
-- squawk-ignore ban-drop-table
drop table if exists jobs_private.job_metrics_run_buckets;
-- squawk-ignore ban-drop-table
drop table if exists jobs_private.job_metrics_run_bounds;
-- squawk-ignore ban-drop-column
alter table jobs_private.job_metrics_run_seconds drop column if exists bucket;
alter table jobs_private.job_metrics_run_seconds
reset (autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor);
alter table jobs_private.job_metrics_rollup
reset (autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor);
alter table jobs_private.job_metrics_rollup drop constraint job_metrics_rollup_pkey;
-- emptied above in this transaction: the key is built on no rows
-- squawk-ignore adding-serial-primary-key-field, constraint-missing-not-valid
alter table jobs_private.job_metrics_rollup add constraint job_metrics_rollup_pkey
primary key (hour, job_type);
comment on table jobs_private.job_metrics_run_seconds is
'system_metrics roll-up: per closed hour and job type, each distinct run time (completed_at - started_at, seconds) of the completed jobs and how many had it, for exact percentiles.';
-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.4.0
-- jobsdb:apply functions/private/rollup_job_metrics.sql from 1.4.0
