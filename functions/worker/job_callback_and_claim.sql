-- Security definer, like job_callback and claim_jobs (same callers, same reason): a worker that
-- finished a job and has room for the next reports the one and claims the other in one round
-- trip and one transaction (one commit and one WAL flush instead of two: the largest cost a
-- busy pool pays per job). A new function rather than a parameter added to either: both keep
-- their signatures and answers (parameter names are public API), and a worker built for 1.0.0
-- keeps calling them. The report is one JSON object with job_callback's argument names (an
-- element of job_callbacks' reports): flat parameters would collide with the claim's output
-- columns (job_id, metadata, lease_token). The body is job_callback then claim_jobs, called
-- here, so their rules (fencing, stale reports, the status flow, fairness, caps, a scoped
-- login's pools) stay typed once. jobs_private.is_trusted_caller() and the scope checks read
-- the request's role and session_user, which a nested security definer call does not change:
-- a jobs_worker still needs its lease_token and a login stays in its pools. All or nothing: an
-- error in the report (22023, PT409, 42501) or in the claim (22023, 42501) rolls back both. A
-- report answered stale, unknown_job or ignored_cancelled changes nothing and the claim still
-- runs: the worker is free either way. Lock order: the report locks its one job by id, the
-- claim skips locked rows and never waits, so it cannot deadlock with a heartbeat or a batch.
create function public.job_callback_and_claim(
    report jsonb,
    worker_pool text,
    worker_id text,
    max_jobs integer default 1,
    lease_seconds integer default null
)
returns table (
    answer jsonb,
    job_id uuid,
    job_type text,
    user_id uuid,
    prompt text,
    metadata jsonb,
    format text,
    quality text,
    model_type text,
    output_bucket text,
    attempt integer,
    max_attempts integer,
    lease_token uuid,
    lease_expires_at timestamptz
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
-- the same settings as job_callback and claim_jobs (see their headers and bench/README.md)
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
    v_r jsonb := job_callback_and_claim.report;
    v_problem text;
    v_answer jsonb;
    v_claimed integer;
begin
    -- The report's shape, as job_callbacks checks each of its elements (22023 naming the key);
    -- one expression, no statement: job_callback checks the values themselves.
    v_problem := case
        when jsonb_typeof(v_r) is distinct from 'object' then 'report must be a JSON object'
        when v_r - c_keys <> '{}'::jsonb then 'report has unknown key(s): only ' || array_to_string(c_keys, ', ')
        when coalesce(jsonb_typeof(v_r -> 'job_id') <> 'string' or v_r ->> 'job_id' !~ c_uuid, true)
            then 'report.job_id must be a uuid'
        when coalesce(jsonb_typeof(v_r -> 'status') <> 'string'
                or v_r ->> 'status' not in ('completed', 'failed'), true)
            then 'report.status must be completed or failed'
        when coalesce(jsonb_typeof(v_r -> 'lease_token'), 'null') <> 'null'
            and coalesce(jsonb_typeof(v_r -> 'lease_token') <> 'string' or v_r ->> 'lease_token' !~ c_uuid, true)
            then 'report.lease_token must be a uuid or null'
        when coalesce(jsonb_typeof(v_r -> 'error_message'), 'null') not in ('null', 'string')
            then 'report.error_message must be a string or null'
        when coalesce(jsonb_typeof(v_r -> 'metadata'), 'null') not in ('null', 'object')
            then 'report.metadata must be an object or null'
        when coalesce(jsonb_typeof(v_r -> 'assets'), 'null') not in ('null', 'array')
            then 'report.assets must be an array or null'
        when v_r ? 'retryable' and jsonb_typeof(v_r -> 'retryable') <> 'boolean'
            then 'report.retryable must be true or false'
    end;
    if v_problem is not null then
        raise exception using errcode = '22023', message = v_problem,
            hint = 'report: {job_id, status, lease_token, error_message, metadata, assets, retryable}, job_callback''s arguments.';
    end if;
    v_answer := public.job_callback(
        job_id => (v_r ->> 'job_id')::uuid,
        status => v_r ->> 'status',
        lease_token => (v_r ->> 'lease_token')::uuid,
        error_message => v_r ->> 'error_message',
        metadata => nullif(v_r -> 'metadata', 'null'::jsonb),
        assets => nullif(v_r -> 'assets', 'null'::jsonb),
        retryable => coalesce((v_r -> 'retryable')::boolean, true)
    );
    return query
    select v_answer, c.job_id, c.job_type, c.user_id, c.prompt, c.metadata, c.format, c.quality,
        c.model_type, c.output_bucket, c.attempt, c.max_attempts, c.lease_token,
        c.lease_expires_at
    from public.claim_jobs(
        worker_pool => job_callback_and_claim.worker_pool,
        worker_id => job_callback_and_claim.worker_id,
        max_jobs => job_callback_and_claim.max_jobs,
        lease_seconds => job_callback_and_claim.lease_seconds
    ) as c;
    get diagnostics v_claimed = row_count;
    -- nothing claimed: one row carrying the answer, its job columns null
    if v_claimed = 0 then
        answer := v_answer;
        return next;
    end if;
end;
$$;
comment on function public.job_callback_and_claim(
    jsonb, text, text, integer, integer
) is
'Worker: report one outcome and claim the next in one transaction. report = job_callback''s named arguments as a JSON object {job_id, status, lease_token, error_message, metadata, assets, retryable}, applied exactly as job_callback applies it; then claim_jobs(worker_pool, worker_id, max_jobs, lease_seconds). One row per claimed job (claim_jobs'' columns) with answer = job_callback''s answer in each; nothing claimed: one row with the answer and null job columns. 22023 a malformed report (the message names the key). All or nothing: any error of either (42501, 22023, PT409) applies neither. A stale, unknown or cancelled report changes nothing and the claim still runs.';
revoke all on function public.job_callback_and_claim(
    jsonb, text, text, integer, integer
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback_and_claim(
    jsonb, text, text, integer, integer
) to jobs_worker, service_role;
