-- The privileged body of public.retry_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: admins retry through this function only (users have no UPDATE on jobs).
create function jobs_api.retry_job(job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_job public.jobs;
begin
    perform jobs_private.require_admin();
    select * into v_job from public.jobs as j where j.id = retry_job.job_id for update;
    if not found then
        raise exception using errcode = 'PT404', message = 'job not found';
    end if;
    if v_job.status <> 'failed' then
        raise exception using errcode = 'PT409',
            message = format('job status cannot change from %s to queued', v_job.status),
            hint = 'Only failed jobs can be retried.';
    end if;
    -- The queue works on the hot leaf only: a job sealed into an older partition would stay
    -- queued there forever (that partition's CHECK refuses it anyway).
    if not exists (select from jobs_private.jobs_hot as h where h.id = v_job.id) then
        raise exception using errcode = 'PT409',
            message = 'job is sealed history and cannot be retried',
            hint = 'Queue it again with queue_job.';
    end if;
    -- A fresh set of attempts; the fencing token of any old attempt stays stale because every
    -- claim draws a new lease_token.
    update public.jobs as j
    set status = 'queued', attempts = 0, run_at = now()
    where j.id = v_job.id;
    perform pg_notify('jobs_wake_' || v_job.worker_pool, '');
    return jsonb_build_object('id', v_job.id, 'status', 'queued', 'previous_error', v_job.error_message);
end;
$$;
comment on function jobs_api.retry_job(uuid) is
'The privileged body of public.retry_job: call public.retry_job.';
revoke all on function jobs_api.retry_job(uuid) from public, anon, authenticated, service_role;
grant execute on function jobs_api.retry_job(uuid) to authenticated, service_role;
