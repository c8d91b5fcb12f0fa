-- pg_cron schedules of the package, for a project where pg_cron arrives after the migrations
-- (on hosted Supabase the owner enables it from the dashboard or with
-- `create extension pg_cron with schema pg_catalog`). Idempotent: cron.schedule() updates a
-- job of the same name. The jobs run as the caller (the owner role), a trusted caller of
-- rescue_expired_jobs() and purge_finished_jobs(), and the owner of
-- jobs_private.rollup_job_metrics() (system_metrics' roll-up, every 15 seconds where pg_cron
-- has seconds schedules: jobs_private.job_metrics_rollup_schedule). Without pg_cron: 55000,
-- nothing changes.
-- Dynamic SQL, the schema name an argument: schema cron does not exist until the extension
-- does (and plpgsql_check checks constant query strings).
create function jobs_private.schedule_maintenance()
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_jobs jsonb;
begin
    if not exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        raise exception using
            errcode = '55000',
            message = 'pg_cron is not installed in this database',
            hint = 'Enable it first: create extension pg_cron with schema pg_catalog;';
    end if;
    execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'jobsdb-rescue-expired-jobs', '* * * * *', 'select public.rescue_expired_jobs()';
    execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'jobsdb-purge-finished-jobs', '*/5 * * * *', 'select public.purge_finished_jobs()';
    execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'jobsdb-rollup-job-metrics',
    jobs_private.job_metrics_rollup_schedule((
        select e.extversion from pg_catalog.pg_extension as e where e.extname = 'pg_cron'
    )),
    'select jobs_private.rollup_job_metrics()';
    execute format(
        'select jsonb_agg(jsonb_build_object(''jobname'', j.jobname, ''schedule'', j.schedule,'
        ' ''command'', j.command) order by j.jobname) from %I.job as j'
        ' where j.jobname like ''jobsdb-%%'' and j.username = current_user',
        'cron'
    ) into v_jobs;
    return v_jobs;
end;
$$;
comment on function jobs_private.schedule_maintenance() is
'Schedules (or updates) the pg_cron jobs jobsdb-rescue-expired-jobs (every minute), jobsdb-purge-finished-jobs (every five minutes) and jobsdb-rollup-job-metrics (every 15 seconds from pg_cron 1.5, every minute before) as the caller; returns them as [{jobname, schedule, command}]; 55000 without pg_cron. For the owner role.';
revoke all on function jobs_private.schedule_maintenance()
from public, anon, authenticated, service_role;
