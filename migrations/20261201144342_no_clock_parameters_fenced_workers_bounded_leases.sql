-- No clock parameter, always-fenced workers, bounded leases (issue 11).
--
-- Why: the `now` parameter of claim_jobs, heartbeat_jobs, job_callback, rescue_expired_jobs and
-- system_metrics let any worker credential move time (rescue live leases, claim jobs in backoff
-- or before run_after). A jobs_worker callback without lease_token was not fenced. Leases were
-- bounded only by 86,400 s per call and heartbeats renewed them forever.
-- job_types is a small catalogue: adding columns with constant defaults is a catalog change.

alter table public.job_types
add column max_lease_seconds integer not null default 3600
constraint job_types_max_lease_seconds_check check (max_lease_seconds between 10 and 86400),
add column max_run_seconds integer not null default 7200
constraint job_types_max_run_seconds_check check (max_run_seconds between 10 and 604800);

update public.job_types
set
    max_lease_seconds = case when media_type = 'video' then 1800 else 600 end,
    max_run_seconds = case when media_type = 'video' then 7200 else 1800 end
where job_type is not null;

-- job_types holds 14 rows and no worker writes it: validating at once locks nothing that matters.
alter table public.job_types
-- squawk-ignore constraint-missing-not-valid
add constraint job_types_lease_bounds_check
check (lease_seconds <= max_lease_seconds and max_lease_seconds <= max_run_seconds);

comment on column public.job_types.max_lease_seconds is
'Longest lease one claim or heartbeat may take; a longer lease_seconds is clamped to it.';
comment on column public.job_types.max_run_seconds is
'Longest an attempt may run (from its claim): heartbeats never extend a lease past started_at + max_run_seconds, and rescue_expired_jobs then requeues or fails the job.';

-- The clock parameters go: a call that passes `now` must fail (42883), not be silently ignored.
-- squawk-ignore ban-drop-function
drop function public.claim_jobs(text, text, integer, integer, timestamptz);
-- squawk-ignore ban-drop-function
drop function public.heartbeat_jobs(text, uuid[], uuid[], integer, timestamptz);
-- squawk-ignore ban-drop-function
drop function public.job_callback(uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz);
-- squawk-ignore ban-drop-function
drop function public.rescue_expired_jobs(timestamptz, integer);
-- squawk-ignore ban-drop-function
drop function public.system_metrics(interval, timestamptz);

-- Security definer: jobs_worker has no table privileges and this is the one way a worker takes
-- jobs; only jobs_worker and service_role may execute it (anon and authenticated cannot, so
-- splinter 0028/0029 do not apply). It stays a definer in public because it is the hot path: an
-- invoker wrapper would add a function call per claim. Time is the server's (now()): no caller
-- can claim a job before its run_at. The lease is bounded by the job type
-- (job_types.max_lease_seconds, and never past started_at + max_run_seconds).
create function public.claim_jobs(
    worker_pool text,
    worker_id text,
    max_jobs integer default 1,
    lease_seconds integer default null
)
returns table (
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
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
-- One generic plan per statement for the session: custom plans re-planned every call cost ~15%
-- of the lifecycle (bench/README.md).
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
begin
    if claim_jobs.worker_pool is null or claim_jobs.worker_id is null
        or char_length(claim_jobs.worker_id) not between 1 and 200 then
        raise exception using errcode = '22023',
            message = 'worker_pool and worker_id (1 to 200 characters) are required';
    end if;
    if claim_jobs.max_jobs is null or claim_jobs.max_jobs not between 1 and 100 then
        raise exception using errcode = '22023', message = 'max_jobs must be between 1 and 100';
    end if;
    if claim_jobs.lease_seconds not between 10 and 86400 then
        raise exception using errcode = '22023', message = 'lease_seconds must be between 10 and 86400';
    end if;
    -- The canonical claim: its WHERE and ORDER BY equal jobs_claim_idx's predicate and key,
    -- so it reads the head of the pool's queue whatever the size of the history.
    return query
    with next_jobs as (
        select j.id
        from public.jobs as j
        where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool and j.run_at <= now()
        order by j.priority desc, j.fair_rank, j.id
        limit claim_jobs.max_jobs
        for update skip locked
    )
    update public.jobs as j
    set status = 'processing',
        attempts = j.attempts + 1,
        started_at = now(),
        locked_by = claim_jobs.worker_id,
        lease_token = gen_random_uuid(),
        -- clamped to the type's bound; max_lease_seconds <= max_run_seconds (job_types check)
        lease_expires_at = now() + make_interval(
            secs => least(coalesce(claim_jobs.lease_seconds, t.lease_seconds), t.max_lease_seconds)
        )
    from next_jobs as n, public.job_types as t
    where j.id = n.id and t.job_type = j.job_type
    returning
        j.id, j.job_type, j.user_id, j.metadata ->> 'prompt', j.metadata, j.format, j.quality,
        j.model_type, t.output_bucket, j.attempts, j.max_attempts, j.lease_token,
        j.lease_expires_at;
end;
$$;
comment on function public.claim_jobs(text, text, integer, integer) is
'Worker: claim up to max_jobs queued jobs of a pool (priority, then fair rank across users), for update skip locked. Each claim counts an attempt, takes a lease (lease_seconds or the job type''s) and returns a fresh lease_token to pass to heartbeat_jobs and job_callback. lease_seconds (default the type''s) is clamped to job_types.max_lease_seconds.';
revoke all on function public.claim_jobs(text, text, integer, integer)
from public, anon, authenticated, service_role;
grant execute on function public.claim_jobs(text, text, integer, integer)
to jobs_worker, service_role;

-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply). Fenced: a lease is
-- extended only for the worker id and lease_token of the current claim. Time is the server's:
-- a lease is at most job_types.max_lease_seconds long and never extends past started_at +
-- max_run_seconds, so a worker that keeps heartbeating cannot hold a job forever.
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
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
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
        select h.job_id, h.lease_token
        from unnest(heartbeat_jobs.job_ids, heartbeat_jobs.lease_tokens) as h (job_id, lease_token)
    ),
    extended as (
        update public.jobs as j
        set lease_expires_at = least(
            now() + make_interval(
                secs => least(coalesce(heartbeat_jobs.lease_seconds, t.lease_seconds), t.max_lease_seconds)
            ),
            j.started_at + make_interval(secs => t.max_run_seconds)
        )
        from held as h, public.job_types as t
        where j.id = h.job_id and j.lease_token = h.lease_token and j.status = 'processing'
            and j.locked_by = heartbeat_jobs.worker_id and t.job_type = j.job_type
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

-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply); kept a definer in
-- public because it is the hot path. Always fenced for workers: a jobs_worker caller must present
-- the lease_token of its claim (42501 without), and a report from an attempt that was rescued
-- or superseded changes nothing (stale). Only a trusted caller (service_role: the job-callback
-- edge function relaying the app's older worker payload) may report without a token; that
-- report is applied to whichever attempt is running. Time is the server's (now()).
create function public.job_callback(
    job_id uuid,
    status text,
    lease_token uuid default null,
    error_message text default null,
    metadata jsonb default null,
    assets jsonb default null,
    retryable boolean default true
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
-- One generic plan per statement for the session: custom plans re-planned every call cost ~15%
-- of the lifecycle (bench/README.md).
set plan_cache_mode = force_generic_plan
as $$
declare
    -- the job's row and its type's media_type and output_bucket, read by one statement
    v_job record;
    v_meta jsonb := coalesce(job_callback.metadata, '{}');
    -- the first asset (asset_index 0): it becomes the job's image_id or video_id
    v_first_id uuid;
    v_first_type text;
    v_first_path text;
    v_first_thumbnail text;
    v_video_id uuid;
    v_asset_ids jsonb;
    v_delay interval;
begin
    if job_callback.lease_token is null then
        -- evaluated only without a token: the fenced hot path does not pay for it
        if not jobs_private.is_trusted_caller() then
            raise exception using errcode = '42501', message = 'a worker must present its lease_token',
                hint = 'Pass the lease_token that claim_jobs returned for this attempt.';
        end if;
    end if;
    if job_callback.job_id is null or job_callback.status is null
        or job_callback.status not in ('completed', 'failed') then
        raise exception using errcode = '22023',
            message = 'job_id and a status of completed or failed are required';
    end if;
    if jsonb_typeof(v_meta) <> 'object' or octet_length(v_meta::text) > 65536 then
        raise exception using errcode = '22023', message = 'metadata must be a JSON object of at most 64 KiB';
    end if;
    if job_callback.assets is not null and (
        jsonb_typeof(job_callback.assets) <> 'array'
        or jsonb_array_length(job_callback.assets) > 100
        or exists (
            select
            from jsonb_array_elements(job_callback.assets) as a (value)
            where not coalesce(
                (jsonb_typeof(a.value) = 'string' and char_length(a.value #>> '{}') between 1 and 2000)
                or (jsonb_typeof(a.value) = 'object' and jsonb_typeof(a.value -> 'url') = 'string'
                    and char_length(a.value ->> 'url') between 1 and 2000
                    and coalesce(a.value ->> 'type', 'image') in ('image', 'video')
                    and coalesce(jsonb_typeof(a.value -> 'metadata'), 'object') in ('object', 'null')),
                false
            )
        )
    ) then
        raise exception using errcode = '22023',
            message = 'assets must be an array (at most 100) of paths or of {type: image|video, url, thumbnail_url, metadata}';
    end if;

    -- The job and its type in one statement (every statement here is an executor start-up).
    select j.*, t.media_type, t.output_bucket into v_job
    from public.jobs as j
    join public.job_types as t on t.job_type = j.job_type
    where j.id = job_callback.job_id
    for update of j;
    if not found then
        return jsonb_build_object('job_id', job_callback.job_id, 'result', 'unknown_job');
    elsif v_job.status = 'cancelled' then
        return jsonb_build_object('job_id', v_job.id, 'result', 'ignored_cancelled');
    elsif v_job.status = 'queued' or (
        job_callback.lease_token is not null
        and job_callback.lease_token is distinct from v_job.lease_token
    ) then
        return jsonb_build_object('job_id', v_job.id, 'result', 'stale', 'status', v_job.status);
    elsif v_job.status <> 'processing' then
        if v_job.status = job_callback.status then
            return jsonb_build_object('job_id', v_job.id, 'result', 'duplicate', 'status', v_job.status);
        end if;
        raise exception using errcode = 'PT409',
            message = format('job %s is already %s; a %s report conflicts', v_job.id, v_job.status,
                job_callback.status);
    end if;

    if job_callback.status = 'failed' then
        if job_callback.retryable and v_job.attempts < v_job.max_attempts then
            v_delay := jobs_private.retry_delay(v_job.attempts);
            update public.jobs as j
            set status = 'queued', run_at = now() + v_delay, last_error_at = now(),
                error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
            where j.id = v_job.id;
            return jsonb_build_object('job_id', v_job.id, 'result', 'requeued',
                'retry_at', now() + v_delay, 'attempts', v_job.attempts);
        end if;
        update public.jobs as j
        set status = 'failed', completed_at = greatest(now(), v_job.started_at), last_error_at = now(),
            error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
        where j.id = v_job.id;
        return jsonb_build_object('job_id', v_job.id, 'result', 'failed', 'attempts', v_job.attempts);
    end if;

    with inserted as (
        insert into public.images_videos (
            user_id, job_id, asset_index, asset_type, bucket, file_path, file_name,
            thumbnail_path, metadata
        )
        select
            v_job.user_id, v_job.id, (a.ord - 1)::integer,
            coalesce(a.value ->> 'type', v_job.media_type), v_job.output_bucket,
            p.path, regexp_replace(p.path, '^.*/', ''), a.value ->> 'thumbnail_url',
            coalesce(nullif(a.value -> 'metadata', 'null'::jsonb), '{}')
        from jsonb_array_elements(coalesce(job_callback.assets, '[]')) with ordinality as a (value, ord)
        cross join lateral (
            select case when jsonb_typeof(a.value) = 'string' then a.value #>> '{}'
                else a.value ->> 'url' end as path
        ) as p
        on conflict on constraint images_videos_job_asset_key do nothing
        returning id, asset_index, asset_type, file_path, thumbnail_path
    )
    select (select jsonb_agg(i.id order by i.asset_index) from inserted as i),
        f.id, f.asset_type, f.file_path, f.thumbnail_path
    into v_asset_ids, v_first_id, v_first_type, v_first_path, v_first_thumbnail
    from (select) as one
    left join inserted as f on f.asset_index = 0;
    -- Not inserted now: there were no assets, or the job already had a first asset (written
    -- directly by the service role). Read it, if any.
    if v_first_id is null then
        select iv.id, iv.asset_type, iv.file_path, iv.thumbnail_path
        into v_first_id, v_first_type, v_first_path, v_first_thumbnail
        from public.images_videos as iv
        where iv.job_id = v_job.id and iv.asset_index = 0;
    end if;
    if v_first_type = 'video' then
        insert into public.videos (user_id, asset_id, file_path, thumbnail_path)
        values (v_job.user_id, v_first_id, v_first_path, v_first_thumbnail)
        returning id into v_video_id;
    end if;

    update public.jobs as j
    set status = 'completed',
        completed_at = greatest(now(), v_job.started_at),
        image_id = case when v_first_type = 'image' then v_first_id end,
        video_id = v_video_id,
        -- the group keys are the request's: job_group_json casts image_index, groups use job_id
        metadata = j.metadata || (v_meta - array['job_id', 'image_index', 'num_images']),
        enhancement_strategy = coalesce(left(v_meta ->> 'enhancement_strategy', 50), j.enhancement_strategy),
        original_prompt = coalesce(j.original_prompt, v_meta ->> 'original_prompt'),
        enhanced_prompt = coalesce(v_meta ->> 'enhanced_prompt', j.enhanced_prompt),
        enhancement_time_ms = coalesce(
            jobs_private.json_number(v_meta, 'enhancement_time_ms')::integer, j.enhancement_time_ms
        ),
        compel_weights = coalesce(nullif(v_meta -> 'compel_weights', 'null'::jsonb), j.compel_weights),
        qwen_expansion_percentage = coalesce(
            jobs_private.json_number(v_meta, 'qwen_expansion_percentage'), j.qwen_expansion_percentage
        ),
        quality_rating = coalesce(jobs_private.json_number(v_meta, 'quality_rating'), j.quality_rating),
        quality_improvement = coalesce(
            jobs_private.json_number(v_meta, 'quality_improvement'), j.quality_improvement
        )
    where j.id = v_job.id;
    return jsonb_build_object('job_id', v_job.id, 'result', 'completed',
        'asset_ids', coalesce(v_asset_ids, '[]'));
end;
$$;
comment on function public.job_callback(uuid, text, uuid, text, jsonb, jsonb, boolean) is
'Worker / job-callback edge function: report the outcome of a claim. completed: one images_videos row per asset (path or {type,url,thumbnail_url,metadata}), the first linked as image_id or video_id, metadata merged, analytics columns filled. failed: requeued with backoff while attempts remain and retryable, else failed. Answers result = completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job. Errors: 42501 a jobs_worker report without lease_token (only service_role may omit it), 22023 bad payload, PT409 a report conflicting with the recorded outcome.';
revoke all on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) to jobs_worker, service_role;

-- Security definer: runs from pg_cron and from workers (jobs_worker), neither of which has
-- table privileges; anon and authenticated cannot execute it (splinter 0028/0029 do not
-- apply). Time is the server's (now()): a caller cannot make a live lease look expired. Safe
-- to run concurrently with claims and with itself (skip locked). Rescues a processing job whose
-- lease expired, or whose attempt ran past job_types.max_run_seconds (even while heartbeating).
create function public.rescue_expired_jobs(max_jobs integer default 1000)
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
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end;
$$;
comment on function public.rescue_expired_jobs(integer) is
'Requeue (with backoff) or fail, when no attempt is left, the processing jobs whose lease expired or whose attempt ran past job_types.max_run_seconds. Scheduled every minute by pg_cron when the extension exists. Returns {requeued, failed}.';
revoke all on function public.rescue_expired_jobs(integer)
from public, anon, authenticated, service_role;
grant execute on function public.rescue_expired_jobs(integer)
to jobs_worker, service_role;

-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures read the window's finished jobs per job type through jobs_job_type_idx
-- (job_type, completed_at), one range scan per type, never the whole table.
-- Security definer, after require_admin: an admin sees every row anyway, and the select
-- policy's owner-id range (every id, for an admin) only misleads the planner here (a 24-hour
-- window took 1 s instead of 10 ms through RLS at 1,000,000 jobs).
create function public.system_metrics(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_now timestamptz := now();
    v_since timestamptz;
    v_queue jsonb;
    v_types jsonb;
    v_leases jsonb;
begin
    perform jobs_private.require_admin();
    if system_metrics.time_window is null
        or system_metrics.time_window not between interval '1 minute' and interval '31 days' then
        raise exception using errcode = '22023', message = 'time_window must be between 1 minute and 31 days';
    end if;
    v_since := v_now - system_metrics.time_window;

    select coalesce(jsonb_agg(jsonb_build_object(
        'worker_pool', q.worker_pool, 'status', q.status, 'jobs', q.jobs,
        'ready', q.ready, 'oldest_seconds', q.oldest_seconds
    ) order by q.worker_pool, q.status), '[]')
    into v_queue
    from (
        select
            j.worker_pool, j.status, count(*) as jobs,
            count(*) filter (where j.status = 'queued' and j.run_at <= v_now) as ready,
            round(extract(epoch from v_now - min(j.created_at))::numeric, 1) as oldest_seconds
        from public.jobs as j
        where j.status in ('queued', 'processing')
        group by j.worker_pool, j.status
    ) as q;

    select jsonb_build_object(
        'processing', count(*),
        'expired', count(*) filter (where j.lease_expires_at < v_now),
        'active_workers', count(distinct j.locked_by)
    )
    into v_leases
    from public.jobs as j
    where j.status = 'processing';

    select coalesce(jsonb_agg(to_jsonb(s) order by s.job_type), '[]')
    into v_types
    from public.job_types as t
    cross join lateral (
        select
            t.job_type,
            count(*) filter (where f.status = 'completed') as completed,
            count(*) filter (where f.status = 'failed') as failed,
            count(*) filter (where f.status = 'cancelled') as cancelled,
            round(
                (count(*) filter (where f.status = 'failed'))::numeric
                / nullif(count(*) filter (where f.status in ('completed', 'failed')), 0), 4
            ) as failure_rate,
            round(
                (count(*) filter (where f.attempts > 1))::numeric / nullif(count(*), 0), 4
            ) as retry_rate,
            round(avg(f.run_seconds) filter (where f.status = 'completed')::numeric, 3)
            as avg_run_seconds,
            round((percentile_cont(0.5) within group (order by f.run_seconds)
                filter (where f.status = 'completed'))::numeric, 3) as p50_run_seconds,
            round((percentile_cont(0.95) within group (order by f.run_seconds)
                filter (where f.status = 'completed'))::numeric, 3) as p95_run_seconds,
            round(avg(f.total_seconds) filter (where f.status = 'completed')::numeric, 3)
            as avg_total_seconds
        from (
            select
                j.status, j.attempts,
                extract(epoch from j.completed_at - j.started_at) as run_seconds,
                extract(epoch from j.completed_at - j.created_at) as total_seconds
            from public.jobs as j
            where j.job_type = t.job_type and j.completed_at is not null
                and j.completed_at > v_since and j.completed_at <= v_now
        ) as f
    ) as s
    where s.completed + s.failed + s.cancelled > 0;

    return jsonb_build_object(
        'now', v_now, 'since', v_since,
        'queue', v_queue, 'leases', v_leases, 'job_types', v_types
    );
end;
$$;
comment on function public.system_metrics(interval) is
'Admins and the service role: queue depth per pool and status (ready and oldest age), leases (processing, expired, active workers), and per job type over time_window: completed/failed/cancelled, failure and retry rates, average/p50/p95 run time and average time from queue to done. Errors: 42501 not an admin, 22023 bad window.';
revoke all on function public.system_metrics(interval)
from public, anon, authenticated, service_role;
grant execute on function public.system_metrics(interval)
to authenticated, service_role;
