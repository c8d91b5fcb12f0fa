-- jobsdb doctor: the package's pg_cron jobs and how their last run ended. Security definer:
-- pg_cron shows a role only its own rows of cron.job and cron.job_run_details, and the jobs run
-- as the owner (jobs_private.schedule_maintenance schedules them as the caller); nothing but
-- the jobsdb-* jobs of the owner is read. Dynamic SQL: schema cron exists only where pg_cron is
-- installed, and job_run_details only from pg_cron 1.3 on. No rows without pg_cron.
create function jobs_private.maintenance_schedules()
returns table (
    jobname text,
    schedule text,
    command text,
    active boolean,
    last_status text,
    last_start_time timestamptz,
    last_message text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
-- the columns come from return query execute, which plpgsql_check cannot follow
-- @plpgsql_check_options: extra_warnings = false
declare
    v_job regclass;
    v_runs regclass;
begin
    if not exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        return;
    end if;
    v_job := pg_catalog.to_regclass('cron.job');
    v_runs := pg_catalog.to_regclass('cron.job_run_details');
    if v_runs is null then
        return query execute format(
            'select j.jobname::text, j.schedule::text, j.command::text, j.active,'
            ' null::text, null::timestamptz, null::text'
            ' from %s as j where j.jobname like $1 and j.username = current_user'
            ' order by j.jobname', v_job)
        using 'jobsdb-%';
        return;
    end if;
    return query execute format(
        'select j.jobname::text, j.schedule::text, j.command::text, j.active,'
        ' r.status::text, r.start_time, r.return_message::text'
        ' from %s as j'
        ' left join lateral (select d.status, d.start_time, d.return_message from %s as d'
        ' where d.jobid = j.jobid order by d.start_time desc nulls last limit 1) as r on true'
        ' where j.jobname like $1 and j.username = current_user'
        ' order by j.jobname', v_job, v_runs)
    using 'jobsdb-%';
end;
$$;
comment on function jobs_private.maintenance_schedules() is
'jobsdb doctor: the owner''s jobsdb-* pg_cron jobs (name, schedule, command, active) with the status, start time and message of each one''s last run; no rows without pg_cron.';
revoke all on function jobs_private.maintenance_schedules()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.maintenance_schedules() to jobs_doctor;
