-- The privileged body of public.purge_finished_jobs (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: run by pg_cron and by admins; nobody has DELETE on jobs but the service role.
-- Completed jobs are kept (the spec retains them for history and analytics). One bounded
-- batch per call, oldest first, skipping rows another transaction holds: it never waits on
-- and never blocks the queue. Call it again while it returns batch_size.
create function jobs_api.purge_finished_jobs(
    older_than interval default null,
    batch_size integer default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_settings jobs_private.settings;
    v_deleted integer;
begin
    perform jobs_private.require_admin();
    select * into v_settings from jobs_private.settings;
    if purge_finished_jobs.older_than < interval '0' then
        raise exception using errcode = '22023', message = 'older_than must not be negative';
    end if;
    if purge_finished_jobs.batch_size not between 1 and 10000 then
        raise exception using errcode = '22023', message = 'batch_size must be between 1 and 10000';
    end if;
    with doomed as (
        select j.id
        from public.jobs as j
        where j.status in ('failed', 'cancelled')
            and j.completed_at < now() - coalesce(purge_finished_jobs.older_than, v_settings.purge_failed_after)
        order by j.completed_at
        limit coalesce(purge_finished_jobs.batch_size, v_settings.purge_batch_size)
        for update skip locked
    )
    delete from public.jobs as j
    using doomed as d
    where j.id = d.id;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end;
$$;
comment on function jobs_api.purge_finished_jobs(interval, integer) is
'The privileged body of public.purge_finished_jobs: call public.purge_finished_jobs.';
revoke all on function jobs_api.purge_finished_jobs(interval, integer)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.purge_finished_jobs(interval, integer)
to authenticated, service_role;
