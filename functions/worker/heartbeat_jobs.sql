-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply). Fenced: a lease is
-- extended only for the worker id and lease_token of the current claim. Time is the server's:
-- a lease is at most job_types.max_lease_seconds long and never extends past started_at +
-- max_run_seconds, so a worker that keeps heartbeating cannot hold a job forever.
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
create function public.heartbeat_jobs(
    worker_id text,
    job_ids uuid[],
    lease_tokens uuid[],
    lease_seconds integer default null
)
returns table (job_id uuid, state text, lease_expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
-- No JIT: enable_seqscan = off prices any sequential scan (even of the one-row settings
-- table) at 1e10, which JIT-compiled it: ~190 ms per retryable failure in job_callback.
set jit = off
as $$
#variable_conflict use_column
begin
    if heartbeat_jobs.worker_id is null or heartbeat_jobs.job_ids is null
        or heartbeat_jobs.lease_tokens is null
        or cardinality(heartbeat_jobs.job_ids) <> cardinality(heartbeat_jobs.lease_tokens)
        or cardinality(heartbeat_jobs.job_ids) > 1000 then
        raise exception using errcode = '22023',
            message = 'worker_id, and job_ids with lease_tokens of the same length (at most 1000), are required';
    end if;
    if heartbeat_jobs.lease_seconds not between 10 and 86400 then
        raise exception using errcode = '22023', message = 'lease_seconds must be between 10 and 86400';
    end if;
    return query
    with held as (
        -- jobs.lease_token holds the digest of the claim's token (jobs_private.lease_digest, inlined)
        select
            h.job_id,
            pg_catalog.left(
                pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(h.lease_token)), 'hex'), 32
            )::uuid as lease_token
        from unnest(heartbeat_jobs.job_ids, heartbeat_jobs.lease_tokens) as h (job_id, lease_token)
    ),
    -- The jobs this worker holds under these tokens, locked first and in job id order: the
    -- package's one lock order for several jobs (claim_jobs, release_jobs, job_callbacks), so
    -- a heartbeat and a batched report or a release of the same jobs wait for each other
    -- instead of deadlocking. (Locked by the update itself, they were taken in its join's
    -- order: lease expiry order, read on jobs_lease_idx.)
    mine as materialized (
        select j.id
        from jobs_private.jobs_hot as j
        where j.id = any(heartbeat_jobs.job_ids) and j.status = 'processing'
            and j.locked_by = heartbeat_jobs.worker_id
            and exists (
                select from held as h where h.job_id = j.id and h.lease_token = j.lease_token
            )
        order by j.id
        for update of j
    ),
    extended as (
        update jobs_private.jobs_hot as j
        set lease_expires_at = least(
            now() + make_interval(
                secs => least(coalesce(heartbeat_jobs.lease_seconds, t.lease_seconds), t.max_lease_seconds)
            ),
            j.started_at + make_interval(secs => t.max_run_seconds)
        )
        from mine as m, public.job_types as t
        where j.id = m.id and t.job_type = j.job_type
            -- past its run time a job is not extended: it is the rescue's
            and j.started_at + make_interval(secs => t.max_run_seconds) > now()
        returning j.id, j.lease_expires_at
    )
    select
        h.job_id,
        case
            when e.id is not null then 'extended'
            when j.status = 'cancelled' and j.lease_token = h.lease_token then 'cancelled'
            else 'lost'
        end,
        e.lease_expires_at
    from held as h
    left join extended as e on e.id = h.job_id
    left join jobs_private.jobs_hot as j on j.id = h.job_id;
end;
$$;
comment on function public.heartbeat_jobs(text, uuid[], uuid[], integer) is
'Worker: extend the leases it still holds (job_ids with the lease_tokens of their claims). Answers per job: extended (with the new expiry), cancelled (stop working on it), or lost (rescued, re-claimed, finished, or past the type''s max_run_seconds: stop). A lease is at most max_lease_seconds and ends by started_at + max_run_seconds.';
revoke all on function public.heartbeat_jobs(text, uuid[], uuid[], integer)
from public, anon, authenticated, service_role;
grant execute on function public.heartbeat_jobs(text, uuid[], uuid[], integer)
to jobs_worker, service_role;
