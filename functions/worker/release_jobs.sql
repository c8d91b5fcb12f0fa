-- Security definer: jobs_worker has no table privileges; this is how a stopping worker hands
-- back the jobs it holds (graceful shutdown) without spending their attempt. Fenced like
-- heartbeat_jobs: only the holder of the lease (worker_id and lease_token of the claim) can
-- release. Bounded: a job gets its attempt back at most 3 times in its life
-- (jobs_private.job_releases); a further release counts the attempt like a retryable failure
-- (requeued, or failed when none is left), so a claim/release loop cannot pin a job. Its jobs
-- are locked in job id order (mine), the package's one lock order for several jobs.
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
create function public.release_jobs(
    worker_id text,
    job_ids uuid[],
    lease_tokens uuid[]
)
returns table (job_id uuid, state text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    c_free_releases constant integer := 3;
begin
    if release_jobs.worker_id is null or release_jobs.job_ids is null
        or release_jobs.lease_tokens is null
        or cardinality(release_jobs.job_ids) <> cardinality(release_jobs.lease_tokens)
        or cardinality(release_jobs.job_ids) > 1000 then
        raise exception using errcode = '22023',
            message = 'worker_id, and job_ids with lease_tokens of the same length (at most 1000), are required';
    end if;
    return query
    with held as (
        -- jobs.lease_token holds the digest of the claim's token (jobs_private.lease_digest, inlined)
        select distinct on (h.job_id)
            h.job_id,
            pg_catalog.left(
                pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(h.lease_token)), 'hex'), 32
            )::uuid as lease_token
        from unnest(release_jobs.job_ids, release_jobs.lease_tokens) as h (job_id, lease_token)
        order by h.job_id
    ),
    mine as (
        select j.id
        from jobs_private.jobs_hot as j
        inner join held as h on h.job_id = j.id and h.lease_token = j.lease_token
        where j.status = 'processing' and j.locked_by = release_jobs.worker_id
        order by j.id
        for update of j
    ),
    counted as (
        insert into jobs_private.job_releases as r (job_id, releases, last_released_at)
        select m.id, 1, pg_catalog.now() from mine as m
        on conflict (job_id) do update
            set releases = r.releases + 1, last_released_at = excluded.last_released_at
        returning r.job_id, r.releases
    ),
    released as (
        update jobs_private.jobs_hot as j
        set status = case
                when c.releases <= c_free_releases or j.attempts < j.max_attempts then 'queued'
                else 'failed'
            end,
            attempts = case when c.releases <= c_free_releases then j.attempts - 1 else j.attempts end,
            run_at = pg_catalog.now(),
            lease_token = null,
            last_error_at = case when c.releases <= c_free_releases then j.last_error_at
                else pg_catalog.now() end,
            -- what happened, not which worker: the job's owner reads it (a broadcast carries it)
            error_message = case when c.releases <= c_free_releases then j.error_message
                else format('released %s times without finishing: this release counted attempt %s of %s',
                    c.releases, j.attempts, j.max_attempts) end
        from counted as c
        where j.id = c.job_id
        returning j.id, case
            when c.releases <= c_free_releases then 'released'
            when j.status = 'queued' then 'requeued'
            else 'failed'
        end as state
    )
    select h.job_id, coalesce(r.state, 'lost')
    from unnest(release_jobs.job_ids) as h (job_id)
    left join released as r on r.id = h.job_id;
end;
$$;
comment on function public.release_jobs(text, uuid[], uuid[]) is
'Worker: hand back held jobs (job_ids with the lease_tokens of their claims) when stopping. Answers per job: released (queued again at once, the attempt given back), requeued or failed (the job was released more than 3 times: this release counted its attempt), or lost (not held under that token: nothing changed). Errors: 22023 bad arrays.';
revoke all on function public.release_jobs(text, uuid[], uuid[])
from public, anon, authenticated, service_role;
grant execute on function public.release_jobs(text, uuid[], uuid[])
to jobs_worker, service_role;
