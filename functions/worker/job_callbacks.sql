-- Security definer, like job_callback (same callers, same reason): a worker reports many outcomes
-- in one call. Each element is exactly a job_callback call with the same named arguments and
-- gets exactly its answer; this function only checks the batch, locks its jobs in job id order
-- (the order claim_jobs, heartbeat_jobs and release_jobs lock in, so two overlapping batches, or
-- a batch and a heartbeat, wait for each other instead of deadlocking), calls job_callback per
-- element in that order, and answers in the input order.
-- Fencing is job_callback's: a jobs_worker must present every element's lease_token (42501
-- naming the element, checked before anything is written); jobs_private.is_trusted_caller()
-- reads the request's role and session_user, which a nested security definer call does not
-- change, so the service role may still omit tokens. All or nothing: one transaction, so an
-- error on any element (22023 bad input, PT409 a report conflicting with a recorded outcome,
-- 42501) writes nothing and names the element; a conflict is a bug in the reporting worker
-- (another attempt's report is stale, not a conflict), not a race to absorb per element.
create function public.job_callbacks(reports jsonb)
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
