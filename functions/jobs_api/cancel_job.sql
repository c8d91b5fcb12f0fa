-- The privileged body of public.cancel_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no UPDATE on jobs. Someone else's job answers exactly like a
-- missing one (PT404), so the error does not reveal that the job exists.
create function jobs_api.cancel_job(job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
as $$
declare
    v_job public.jobs;
begin
    select * into v_job from public.jobs as j where j.id = cancel_job.job_id for update;
    if not found or not (
        v_job.user_id = auth.uid() or jobs_private.is_admin() or jobs_private.is_trusted_caller()
    ) then
        raise exception using errcode = 'PT404', message = 'job not found',
            detail = format('no job %s visible to this user', cancel_job.job_id);
    end if;
    if v_job.status not in ('queued', 'processing') then
        raise exception using errcode = 'PT409',
            message = format('job status cannot change from %s to cancelled', v_job.status),
            hint = 'Only queued or processing jobs can be cancelled.';
    end if;
    update public.jobs as j set status = 'cancelled' where j.id = v_job.id;
    return jsonb_build_object('id', v_job.id, 'status', 'cancelled', 'previous_status', v_job.status);
end;
$$;
comment on function jobs_api.cancel_job(uuid) is
'The privileged body of public.cancel_job: call public.cancel_job.';
revoke all on function jobs_api.cancel_job(uuid) from public, anon, authenticated, service_role;
grant execute on function jobs_api.cancel_job(uuid) to authenticated, service_role;
