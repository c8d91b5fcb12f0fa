-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.cancel_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.cancel_job.
create function public.cancel_job(job_id uuid)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.cancel_job(cancel_job.job_id);
end;
$$;
comment on function public.cancel_job(uuid) is
'Cancel a queued or processing job of the signed-in user (admins: any job). A running job''s worker learns it from heartbeat_jobs. Errors: PT404 no such job for this user, PT409 already finished.';
revoke all on function public.cancel_job(uuid)
from public, anon, authenticated, service_role;
grant execute on function public.cancel_job(uuid)
to authenticated, service_role;
