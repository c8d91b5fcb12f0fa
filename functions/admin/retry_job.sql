-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.retry_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.retry_job.
create function public.retry_job(job_id uuid)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.retry_job(retry_job.job_id);
end;
$$;
comment on function public.retry_job(uuid) is
'Admin (or service role): put a failed job back in the queue with a fresh set of attempts. Errors: 42501 not an admin, PT404 no such job, PT409 not failed.';
revoke all on function public.retry_job(uuid)
from public, anon, authenticated, service_role;
grant execute on function public.retry_job(uuid)
to authenticated, service_role;
