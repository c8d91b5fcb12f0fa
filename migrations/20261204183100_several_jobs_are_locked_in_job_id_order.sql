-- Every function that locks several jobs locks them in job id order.
--
-- Why: heartbeat_jobs locked its rows in the order of its update's join (a hash join over
-- jobs_lease_idx: lease expiry order) while job_callbacks and release_jobs lock in job id
-- order, so a heartbeat and a batched report or a release of the same jobs deadlocked (40P01).
-- heartbeat_jobs now locks the jobs it holds first, in id order; job_callbacks locks its whole
-- batch in id order before anything else (a requeue may lock a claim floor, and no job lock may
-- follow that); rescue_expired_jobs skips a claim floor another transaction holds instead of
-- waiting for it with its jobs locked (the next run sets it). claim_jobs and
-- rescue_expired_jobs take jobs with skip locked (they never wait for one), release_jobs
-- already locked in id order, and cancel_job, retry_job and review_job lock one job.

create or replace function public.heartbeat_jobs(
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
        from public.jobs as j
        where j.id = any(heartbeat_jobs.job_ids) and j.status = 'processing'
            and j.locked_by = heartbeat_jobs.worker_id
            and exists (
                select from held as h where h.job_id = j.id and h.lease_token = j.lease_token
            )
        order by j.id
        for update of j
    ),
    extended as (
        update public.jobs as j
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
    left join public.jobs as j on j.id = h.job_id;
end;
$$;
comment on function public.heartbeat_jobs(text, uuid[], uuid[], integer) is
'Worker: extend the leases it still holds (job_ids with the lease_tokens of their claims). Answers per job: extended (with the new expiry), cancelled (stop working on it), or lost (rescued, re-claimed, finished, or past the type''s max_run_seconds: stop). A lease is at most max_lease_seconds and ends by started_at + max_run_seconds.';
revoke all on function public.heartbeat_jobs(text, uuid[], uuid[], integer)
from public, anon, authenticated, service_role;
grant execute on function public.heartbeat_jobs(text, uuid[], uuid[], integer)
to jobs_worker, service_role;

create or replace function public.job_callbacks(reports jsonb)
returns table (job_id uuid, result text, answer jsonb)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
-- the same settings as job_callback (see its header and bench/README.md)
set enable_seqscan = off
set jit = off
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
    c_keys constant text[] := array[
        'job_id', 'status', 'lease_token', 'error_message', 'metadata', 'assets', 'retryable'
    ];
    c_uuid constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
    v_bad record;
    v_report record;
    v_answers jsonb[] := array[]::jsonb[];
    v_state text;
    v_message text;
    v_hint text;
begin
    if jsonb_typeof(job_callbacks.reports) is distinct from 'array'
        or jsonb_array_length(job_callbacks.reports) not between 1 and 100 then
        raise exception using errcode = '22023',
            message = 'reports must be a JSON array of 1 to 100 job_callback reports',
            hint = 'Each report: {job_id, status, lease_token, error_message, metadata, assets, retryable}.';
    end if;

    -- The first malformed element, by position (0-based, as in the JSON array).
    select e.ord - 1 as pos, e.value ->> 'job_id' as job, c.reason
    into v_bad
    from jsonb_array_elements(job_callbacks.reports) with ordinality as e (value, ord)
    cross join lateral (
        select case
            when jsonb_typeof(e.value) <> 'object' then 'must be an object'
            when e.value - c_keys <> '{}'::jsonb then format('unknown key(s) %s', (
                select string_agg(k.key, ', ' order by k.key)
                from jsonb_object_keys(e.value - c_keys) as k (key)
            ))
            when coalesce(jsonb_typeof(e.value -> 'job_id') <> 'string'
                    or e.value ->> 'job_id' !~ c_uuid, true)
                then 'job_id must be a uuid'
            when coalesce(e.value ->> 'status' not in ('completed', 'failed')
                    or jsonb_typeof(e.value -> 'status') <> 'string', true)
                then 'status must be completed or failed'
            when coalesce(jsonb_typeof(e.value -> 'lease_token'), 'null') <> 'null'
                and coalesce(jsonb_typeof(e.value -> 'lease_token') <> 'string'
                    or e.value ->> 'lease_token' !~ c_uuid, true)
                then 'lease_token must be a uuid or null'
            when coalesce(jsonb_typeof(e.value -> 'error_message'), 'null') not in ('null', 'string')
                then 'error_message must be a string or null'
            when coalesce(jsonb_typeof(e.value -> 'metadata'), 'null') not in ('null', 'object')
                then 'metadata must be an object or null'
            when coalesce(jsonb_typeof(e.value -> 'assets'), 'null') not in ('null', 'array')
                then 'assets must be an array or null'
            when e.value ? 'retryable' and jsonb_typeof(e.value -> 'retryable') <> 'boolean'
                then 'retryable must be true or false'
        end as reason
    ) as c
    where c.reason is not null
    order by e.ord
    limit 1;
    if found then
        raise exception using errcode = '22023',
            message = format('reports[%s]%s: %s', v_bad.pos,
                coalesce(' (job ' || v_bad.job || ')', ''), v_bad.reason);
    end if;

    select (e.value ->> 'job_id')::uuid as job, min(e.ord) - 1 as pos, max(e.ord) - 1 as again
    into v_bad
    from jsonb_array_elements(job_callbacks.reports) with ordinality as e (value, ord)
    group by 1
    having count(*) > 1
    order by 2
    limit 1;
    if found then
        raise exception using errcode = '22023',
            message = format('reports[%s] and reports[%s] report the same job %s: one report per job',
                v_bad.pos, v_bad.again, v_bad.job);
    end if;

    -- job_callback raises this too, but only when it reaches the element: fail before any write
    select e.ord - 1 as pos, e.value ->> 'job_id' as job
    into v_bad
    from jsonb_array_elements(job_callbacks.reports) with ordinality as e (value, ord)
    where jsonb_typeof(e.value -> 'lease_token') is distinct from 'string'
    order by e.ord
    limit 1;
    if found and not jobs_private.is_trusted_caller() then
        raise exception using errcode = '42501',
            message = format('reports[%s] (job %s): a worker must present its lease_token',
                v_bad.pos, v_bad.job),
            hint = 'Pass the lease_token that claim_jobs returned for each attempt.';
    end if;

    -- Every job of the batch locked first, in job id order (the package's one lock order for
    -- several jobs: claim_jobs, heartbeat_jobs, release_jobs), before anything else is locked:
    -- a report that requeues a job may lock its pool's claim floor (jobs_claim_floor_trg), and
    -- a later job's lock taken after it could close a cycle with a caller holding that job.
    perform
    from public.jobs as j
    where j.id in (
        select (e.value ->> 'job_id')::uuid from jsonb_array_elements(job_callbacks.reports) as e (value)
    )
    order by j.id
    for update of j;

    begin
        for v_report in
            select e.ord, e.value
            from jsonb_array_elements(job_callbacks.reports) with ordinality as e (value, ord)
            order by (e.value ->> 'job_id')::uuid
        loop
            v_answers[v_report.ord] := public.job_callback(
                job_id := (v_report.value ->> 'job_id')::uuid,
                status := v_report.value ->> 'status',
                lease_token := (v_report.value ->> 'lease_token')::uuid,
                error_message := v_report.value ->> 'error_message',
                metadata := nullif(v_report.value -> 'metadata', 'null'::jsonb),
                assets := nullif(v_report.value -> 'assets', 'null'::jsonb),
                retryable := coalesce((v_report.value -> 'retryable')::boolean, true)
            );
        end loop;
    exception
        -- name the element in job_callback's own client errors; anything else passes unchanged
        when sqlstate '22023' or sqlstate 'PT409' or insufficient_privilege then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                v_hint = pg_exception_hint;
            raise exception using errcode = v_state,
                message = format('reports[%s] (job %s): %s', v_report.ord - 1,
                    v_report.value ->> 'job_id', v_message),
                hint = v_hint;
    end;

    return query
    select (a.answer ->> 'job_id')::uuid, a.answer ->> 'result', a.answer
    from unnest(v_answers) with ordinality as a (answer, ord)
    order by a.ord;
end;
$$;
comment on function public.job_callbacks(jsonb) is
'Worker / service role: report many outcomes in one call. reports = a JSON array (1..100) of job_callback''s named arguments {job_id, status, lease_token, error_message, metadata, assets, retryable}; each is applied exactly as job_callback applies it (fenced and idempotent per job). Answers one row per report, in the input order: job_id, result (completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job) and job_callback''s whole answer. All or nothing: 22023 a malformed batch or element (not an array, over 100, unknown key, bad type, the same job twice), 42501 a jobs_worker report without lease_token, PT409 a report conflicting with a recorded outcome; the message names the element (reports[i]) and nothing is written.';
revoke all on function public.job_callbacks(jsonb)
from public, anon, authenticated, service_role;
grant execute on function public.job_callbacks(jsonb)
to jobs_worker, service_role;

create or replace function public.rescue_expired_jobs(max_jobs integer default 1000)
returns jsonb
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
declare
    v_requeued integer;
    v_failed integer;
begin
    if rescue_expired_jobs.max_jobs is null or rescue_expired_jobs.max_jobs not between 1 and 100000 then
        raise exception using errcode = '22023', message = 'max_jobs must be between 1 and 100000';
    end if;
    -- Processing rows only (jobs_lease_idx): as many as there are running jobs.
    with expired as (
        select j.id, t.max_run_seconds,
            j.started_at + make_interval(secs => t.max_run_seconds) < now() as overran
        from public.jobs as j
        inner join public.job_types as t on t.job_type = j.job_type
        where j.status = 'processing' and (
            j.lease_expires_at < now()
            or j.started_at + make_interval(secs => t.max_run_seconds) < now()
        )
        order by j.lease_expires_at
        limit rescue_expired_jobs.max_jobs
        for update of j skip locked
    ),
    rescued as (
        update public.jobs as j
        set status = case when j.attempts < j.max_attempts then 'queued' else 'failed' end,
            run_at = case when j.attempts < j.max_attempts
                then now() + jobs_private.retry_delay(j.attempts) else j.run_at end,
            completed_at = case when j.attempts < j.max_attempts then null
                else greatest(now(), j.started_at) end,
            last_error_at = now(),
            -- the abandoned attempt's token dies with its lease: a late report from it is stale
            lease_token = null,
            error_message = case when e.overran
                then format('run time exceeded: attempt %s of %s ran past %s s (job type %s)',
                    j.attempts, j.max_attempts, e.max_run_seconds, j.job_type)
                else format('lease expired: worker %s stopped heartbeating (attempt %s of %s)',
                    j.locked_by, j.attempts, j.max_attempts)
            end
        from expired as e
        where j.id = e.id
        returning j.status
    )
    select count(*) filter (where r.status = 'queued'), count(*) filter (where r.status = 'failed')
    into v_requeued, v_failed
    from rescued as r;
    -- Each pool's claim floor set to the first claimable fairly ranked job exactly (it may move
    -- back: a job inserted below it by plain SQL, or whose claim rolled back). One walk of the
    -- pool's dead index entries per run, instead of one per claim. Skip locked: a floor another
    -- transaction is moving (a claim, a job put back below it) is left to it and to the next
    -- run, so a rescue never waits for a floor while it holds jobs.
    with heads as (
        select f.worker_pool, h.neg_priority, h.fair_rank, h.id
        from jobs_private.claim_floors as f
        cross join lateral (
            select -j.priority as neg_priority, j.fair_rank, j.id
            from public.jobs as j
            where j.status = 'queued' and j.worker_pool = f.worker_pool
                and greatest(j.fair_rank, 4611686018427387904) <= 4611686018427387904
            order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
            limit 1
        ) as h
        order by f.worker_pool
        for update of f skip locked
    )
    update jobs_private.claim_floors as f
    set neg_priority = h.neg_priority, fair_rank = h.fair_rank, id = h.id, updated_at = now()
    from heads as h
    where f.worker_pool = h.worker_pool
        and (f.neg_priority, f.fair_rank, f.id) <> (h.neg_priority, h.fair_rank, h.id);
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end;
$$;
comment on function public.rescue_expired_jobs(integer) is
'Requeue (with backoff) or fail, when no attempt is left, the processing jobs whose lease expired or whose attempt ran past job_types.max_run_seconds, and set each pool''s claim floor (jobs_private.claim_floors) to its first claimable job. Scheduled every minute by pg_cron when the extension exists. Returns {requeued, failed}.';
revoke all on function public.rescue_expired_jobs(integer)
from public, anon, authenticated, service_role;
grant execute on function public.rescue_expired_jobs(integer)
to jobs_worker, service_role;
