-- Security definer: users have no UPDATE on jobs. Someone else's job answers exactly like a
-- missing one (PT404), so the error does not reveal that the job exists.
create function public.cancel_job(job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
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
comment on function public.cancel_job(uuid) is
'Cancel a queued or processing job of the signed-in user (admins: any job). A running job''s worker learns it from heartbeat_jobs. Errors: PT404 no such job for this user, PT409 already finished.';
revoke all on function public.cancel_job(uuid) from public, anon, authenticated, service_role;
grant execute on function public.cancel_job(uuid) to authenticated, service_role;
