-- jobsdb 1.12.0 -> 1.11.0: the way back, as a forward migration.
--
-- 1.11.0's roll-up of closed hours, empty (its tables are a cache of jobs: the next run of
-- rollup_job_metrics fills them, and system_metrics is exact meanwhile), its system_metrics and
-- horizon, and its schedule of the roll-up every five minutes.
-- squawk-ignore ban-drop-table
drop table jobs_private.job_metrics_minutes, jobs_private.job_metrics_hours,
jobs_private.job_metrics_rollup, jobs_private.job_metrics_run_bounds,
jobs_private.job_metrics_run_seconds, jobs_private.job_metrics_run_buckets,
jobs_private.job_metrics_stale, jobs_private.job_metrics_horizon;
-- squawk-ignore ban-drop-function
drop function jobs_private.job_metrics_spans(timestamptz[], timestamptz, smallint);
-- jobsdb:apply sql/33_job_metrics_rollup.sql from 1.11.0
-- jobsdb:apply functions/admin/schedule_maintenance.sql from 1.11.0
-- jobsdb:apply functions/private/job_metrics_horizon.sql from 1.11.0
-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.11.0
-- jobsdb:apply functions/private/rollup_job_metrics.sql from 1.11.0
do $$
begin
    if exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        -- alter_job: the schedule alone (a job the owner deactivated stays inactive)
        execute format(
            'select %I.alter_job(j.jobid, schedule => $2) from %I.job as j'
            ' where j.jobname = $1 and j.username = current_user',
            'cron', 'cron'
        ) using 'jobsdb-rollup-job-metrics', '2-59/5 * * * *';
    end if;
end;
$$;
