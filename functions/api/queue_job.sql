-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.queue_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.queue_job.
create function public.queue_job(
    job_type text,
    prompt text default null,
    metadata jsonb default '{}',
    quality text default null,
    num_images integer default 1,
    project_id uuid default null,
    destination text default 'library',
    workspace_session_id uuid default null,
    template_name text default null,
    api_model_id uuid default null,
    idempotency_key text default null,
    priority integer default null,
    run_after timestamptz default null
)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.queue_job(
        queue_job.job_type,
        queue_job.prompt,
        queue_job.metadata,
        queue_job.quality,
        queue_job.num_images,
        queue_job.project_id,
        queue_job.destination,
        queue_job.workspace_session_id,
        queue_job.template_name,
        queue_job.api_model_id,
        queue_job.idempotency_key,
        queue_job.priority,
        queue_job.run_after
    );
end;
$$;
comment on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) is
'Queue a generation job (num_images jobs sharing metadata.job_id) for the signed-in user. Returns {group_id, deduplicated, jobs:[...]}. Errors: 22023 bad input (the message names it: a bound, the JSON rule), 42501 not signed in or priority/run_after without admin, PT429 per-user queued cap or rate of new jobs (detail retry_after_seconds=N for the rate).';
revoke all on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) to authenticated, service_role;
