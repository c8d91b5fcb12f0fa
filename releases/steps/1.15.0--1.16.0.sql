-- jobsdb 1.15.0 -> 1.16.0: system_metrics' roll-up also rolls up the minute not closed yet, as
-- far as its horizon (jobs_private.job_metrics_partial), and pg_cron runs it every 15 seconds
-- where pg_cron has seconds schedules (1.5 and later; Supabase ships 1.6). A call of
-- system_metrics read from jobs every job finished since the last closed minute: up to 62 s
-- of them, 31,000 at 500 jobs a second, about 2 us each, so the 10-minute and 1-hour windows
-- took 120-140 ms p95 at that rate. With a run every 15 seconds it reads up to 17 s. The
-- partial minute is rolled up as a closed minute is (same tables, minutes = 1) and written
-- again by each run until it closes. Answers are unchanged, exact.
-- The new table is empty until the next run; a call before it reads as 1.15.0 did.
create table jobs_private.job_metrics_partial (
    minute timestamptz primary key,
    upto timestamptz not null,
    constraint job_metrics_partial_upto_check
    check (upto > minute and upto < minute + interval '1 minute')
);
comment on table jobs_private.job_metrics_partial is
'system_metrics roll-up: a minute not closed yet whose jobs finished in [minute, upto) are rolled up like a closed minute''s (minutes = 1 rows); rewritten by each run until the minute closes. Written by rollup_job_metrics only.';
revoke all on table jobs_private.job_metrics_partial from public, anon, authenticated, service_role;
-- jobsdb:apply functions/private/job_metrics_rollup_schedule.sql
-- jobsdb:apply functions/private/rollup_job_metrics.sql
-- jobsdb:apply functions/jobs_api/system_metrics.sql
-- jobsdb:apply functions/admin/schedule_maintenance.sql
-- A roll-up scheduled by schedule_maintenance moves to its schedule for this pg_cron: every 15
-- seconds from pg_cron 1.5 (the schedule alone: a job the owner deactivated stays inactive).
do $$
begin
    if exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        execute format(
            'select %I.alter_job(j.jobid, schedule => $2) from %I.job as j'
            ' where j.jobname = $1 and j.username = current_user',
            'cron', 'cron'
        ) using 'jobsdb-rollup-job-metrics', jobs_private.job_metrics_rollup_schedule((
            select e.extversion from pg_catalog.pg_extension as e where e.extname = 'pg_cron'
        ));
    end if;
end;
$$;
