-- Security definer: runs from pg_cron and from workers (jobs_worker), neither of which has
-- table privileges. Safe to run concurrently with claims and with itself (skip locked).
create function public.rescue_expired_jobs(
    now timestamptz default null,
    max_jobs integer default 1000
)
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
    v_now timestamptz := coalesce(rescue_expired_jobs.now, pg_catalog.now());
    v_requeued integer;
    v_failed integer;
begin
    if not isfinite(v_now) then
        raise exception using errcode = '22023', message = 'now must be a finite timestamp';
    end if;
    if rescue_expired_jobs.max_jobs is null or rescue_expired_jobs.max_jobs not between 1 and 100000 then
        raise exception using errcode = '22023', message = 'max_jobs must be between 1 and 100000';
    end if;
    with expired as (
        select j.id
        from public.jobs as j
        where j.status = 'processing' and j.lease_expires_at < v_now
        order by j.lease_expires_at
        limit rescue_expired_jobs.max_jobs
        for update skip locked
    ),
    rescued as (
        update public.jobs as j
        set status = case when j.attempts < j.max_attempts then 'queued' else 'failed' end,
            run_at = case when j.attempts < j.max_attempts
                then v_now + jobs_private.retry_delay(j.attempts) else j.run_at end,
            completed_at = case when j.attempts < j.max_attempts then null
                else greatest(v_now, j.started_at) end,
            last_error_at = v_now,
            -- the abandoned attempt's token dies with its lease: a late report from it is stale
            lease_token = null,
            error_message = format('lease expired: worker %s stopped heartbeating (attempt %s of %s)',
                j.locked_by, j.attempts, j.max_attempts)
        from expired as e
        where j.id = e.id
        returning j.status
    )
    select count(*) filter (where r.status = 'queued'), count(*) filter (where r.status = 'failed')
    into v_requeued, v_failed
    from rescued as r;
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end;
$$;
comment on function public.rescue_expired_jobs(timestamptz, integer) is
'Requeue (with backoff) or fail, when no attempt is left, the processing jobs whose lease expired before now. Scheduled every minute by pg_cron when the extension exists. Returns {requeued, failed}.';
revoke all on function public.rescue_expired_jobs(timestamptz, integer)
from public, anon, authenticated, service_role;
grant execute on function public.rescue_expired_jobs(timestamptz, integer)
to jobs_worker, service_role;
