-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.review_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.review_job.
create function public.review_job(
    job_id uuid,
    moderation_status text,
    review_notes text default null
)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.review_job(
        review_job.job_id,
        review_job.moderation_status,
        review_job.review_notes
    );
end;
$$;
comment on function public.review_job(uuid, text, text) is
'Admin: record a moderation decision (moderation_status, review_notes); reviewed_by is the calling admin, reviewed_at now. Errors: 42501 not an admin, 22023 bad status, PT404 no such job.';
revoke all on function public.review_job(uuid, text, text)
from public, anon, authenticated, service_role;
grant execute on function public.review_job(uuid, text, text)
to authenticated;
