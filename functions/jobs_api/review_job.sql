-- The privileged body of public.review_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no UPDATE on jobs; admins review through this function only.
create function jobs_api.review_job(
    job_id uuid,
    moderation_status text,
    review_notes text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin uuid := jobs_private.require_admin();
    v_job public.jobs;
begin
    if v_admin is null then
        raise exception using errcode = '42501', message = 'a review needs the reviewing admin''s user id',
            hint = 'Call review_job with the admin''s JWT.';
    end if;
    if review_job.moderation_status is null
        or review_job.moderation_status not in ('pending', 'approved', 'rejected', 'flagged') then
        raise exception using errcode = '22023',
            message = 'moderation_status must be pending, approved, rejected or flagged';
    end if;
    if char_length(review_job.review_notes) > 10000 then
        raise exception using errcode = '22023', message = 'review_notes is longer than 10000 characters';
    end if;
    update public.jobs as j
    set moderation_status = review_job.moderation_status,
        review_notes = review_job.review_notes,
        reviewed_by = v_admin,
        reviewed_at = now()
    where j.id = review_job.job_id
    returning * into v_job;
    if not found then
        raise exception using errcode = 'PT404', message = 'job not found';
    end if;
    return jsonb_build_object(
        'id', v_job.id, 'moderation_status', v_job.moderation_status,
        'reviewed_by', v_job.reviewed_by, 'reviewed_at', v_job.reviewed_at,
        'review_notes', v_job.review_notes
    );
end;
$$;
comment on function jobs_api.review_job(uuid, text, text) is
'The privileged body of public.review_job: call public.review_job.';
revoke all on function jobs_api.review_job(uuid, text, text)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.review_job(uuid, text, text) to authenticated;
