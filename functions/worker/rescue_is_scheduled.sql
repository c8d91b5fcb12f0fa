-- Security definer: a worker (jobs_worker) cannot read cron.job, the function owner (the
-- migration role, which scheduled the package's cron jobs in sql/95_schedule.sql) can. The
-- answer is one boolean; nothing of cron.job is exposed. Dynamic SQL: the cron schema exists
-- only where pg_cron is installed.
create function public.rescue_is_scheduled()
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_cron_job regclass := pg_catalog.to_regclass('cron.job');
    v_scheduled boolean;
begin
    if v_cron_job is null then
        return false;
    end if;
    execute format('select exists (select from %s as j where j.jobname = $1 and j.active)', v_cron_job)
    into v_scheduled
    using 'jobsdb-rescue-expired-jobs';
    return coalesce(v_scheduled, false);
exception
    when insufficient_privilege or undefined_column then
        return false;
end;
$$;
comment on function public.rescue_is_scheduled() is
'Worker: true when pg_cron runs rescue_expired_jobs (an active cron.job named jobsdb-rescue-expired-jobs); false without pg_cron or without that job, and then running workers call rescue_expired_jobs themselves.';
revoke all on function public.rescue_is_scheduled()
from public, anon, authenticated, service_role;
grant execute on function public.rescue_is_scheduled()
to jobs_worker, service_role;
