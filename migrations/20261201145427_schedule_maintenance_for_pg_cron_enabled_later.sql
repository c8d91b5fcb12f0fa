-- jobs_private.schedule_maintenance(): the pg_cron schedules, callable later (issue 16).
--
-- Why: on hosted Supabase the owner often enables pg_cron after the package's migrations ran,
-- and the migration that scheduled the jobs only did so when pg_cron was already there. The
-- owner now runs `select jobs_private.schedule_maintenance();` once pg_cron exists
-- (idempotent); a database that has pg_cron already gets its schedules (re)set here.
-- Creates one function and touches no table.

-- pg_cron schedules of the package, for a project where pg_cron arrives after the migrations
-- (on hosted Supabase the owner enables it from the dashboard or with
-- `create extension pg_cron with schema pg_catalog`). Idempotent: cron.schedule() updates a
-- job of the same name. The jobs run as the caller (the owner role), a trusted caller of
-- rescue_expired_jobs() and purge_finished_jobs(). Without pg_cron: 55000, nothing changes.
-- Dynamic SQL, the schema name an argument: schema cron does not exist until the extension
-- does (and plpgsql_check checks constant query strings).
create or replace function jobs_private.schedule_maintenance()
returns jsonb
language plpgsql
volatile
set search_path = ''
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
'Schedules (or updates) the pg_cron jobs jobsdb-rescue-expired-jobs (every minute) and jobsdb-purge-finished-jobs (every five minutes) as the caller; returns them as [{jobname, schedule, command}]; 55000 without pg_cron. For the owner role.';
revoke all on function jobs_private.schedule_maintenance()
from public, anon, authenticated, service_role;

-- With pg_cron (hosted Supabase), rescue expired leases every minute without any worker, and
-- purge one batch of old failed/cancelled jobs every five minutes. When pg_cron is enabled
-- after the migrations ran, the owner runs `select jobs_private.schedule_maintenance();`
-- (README, "Applying to a Supabase project"). Without it, workers call rescue_expired_jobs()
-- themselves (the worker client does).
do $$
begin
    if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform jobs_private.schedule_maintenance();
    end if;
end
$$;
