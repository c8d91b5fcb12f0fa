-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.purge_finished_jobs, which lives outside the exposed schemas. Same
-- name, named arguments and answer as before; grants below and on jobs_api.purge_finished_jobs.
create function public.purge_finished_jobs(
    older_than interval default null,
    batch_size integer default null
)
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.purge_finished_jobs(
        purge_finished_jobs.older_than,
        purge_finished_jobs.batch_size
    );
end;
$$;
comment on function public.purge_finished_jobs(interval, integer) is
'Admin / pg_cron: delete one batch of failed and cancelled jobs finished longer ago than older_than (default: settings.purge_failed_after). Completed jobs are never purged. Returns the number deleted.';
revoke all on function public.purge_finished_jobs(interval, integer)
from public, anon, authenticated, service_role;
grant execute on function public.purge_finished_jobs(interval, integer)
to authenticated, service_role;
