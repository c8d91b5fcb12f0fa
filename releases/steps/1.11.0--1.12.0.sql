-- jobsdb 1.11.0 -> 1.12.0: system_metrics rolls up minutes, so a window's edges no longer read
-- the jobs of whole hours. A window starts and ends inside some hour; 1.11.0 read those hours'
-- finished jobs from jobs at about 10 us a job, so with 100,000 jobs finished in the last hour
-- every window took 0.7-1.5 s. Now the roll-up closes minutes (every minute from pg_cron), keeps
-- the counts per bucket of each ten minutes, and system_metrics reads from jobs only the part
-- of the window no closed minute covers: its first partial minute and the minutes not closed
-- yet. A minute closes 15 seconds after it ends (a minute before), once the transactions then
-- open have ended: the roll-up waits up to a second for them. The roll-up's tables are a cache
-- of jobs: they are made again empty here, and the next run of rollup_job_metrics fills them
-- (system_metrics is exact meanwhile, only slower). Stale markers and the horizon go with them:
-- nothing is rolled up that they could apply to.
-- squawk-ignore ban-drop-table
drop table jobs_private.job_metrics_hours, jobs_private.job_metrics_rollup,
jobs_private.job_metrics_run_bounds, jobs_private.job_metrics_run_seconds,
jobs_private.job_metrics_run_buckets, jobs_private.job_metrics_stale,
jobs_private.job_metrics_horizon;
-- jobsdb:apply sql/33_job_metrics_rollup.sql
-- jobsdb:apply functions/private/job_metrics_horizon.sql
-- jobsdb:apply functions/private/job_metrics_spans.sql
-- jobsdb:apply functions/private/rollup_job_metrics.sql
-- jobsdb:apply functions/jobs_api/system_metrics.sql
-- jobsdb:apply functions/admin/schedule_maintenance.sql
-- A roll-up scheduled by schedule_maintenance now runs every minute: the minutes at a window's
-- end are read from jobs until it closes them.
do $$
begin
    if exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        -- alter_job: the schedule alone (a job the owner deactivated stays inactive)
        execute format(
            'select %I.alter_job(j.jobid, schedule => $2) from %I.job as j'
            ' where j.jobname = $1 and j.username = current_user',
            'cron', 'cron'
        ) using 'jobsdb-rollup-job-metrics', '* * * * *';
    end if;
end;
$$;
