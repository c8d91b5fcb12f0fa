-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply); kept a definer in
-- public because it is the hot path. Always fenced for workers: a jobs_worker caller must present
-- the lease_token of its claim (42501 without), and a report from an attempt that was rescued
-- or superseded changes nothing (stale). Only a trusted caller (service_role: the job-callback
-- edge function relaying the app's older worker payload) may report without a token; that
-- report is applied to whichever attempt is running. Time is the server's (now()).
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
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
set search_path = pg_catalog, pg_temp
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
-- No JIT: enable_seqscan = off prices any sequential scan (even of the one-row settings
-- table) at 1e10, which JIT-compiled it: ~190 ms per retryable failure in job_callback.
set jit = off
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
    v_problem text;
    -- the job type's asset_path_prefix with the job's {user_id} and {job_id}
    v_prefix text;
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
    -- The JSON rule (jobs_private.json_violation): the owner's app reads it back.
    v_problem := jobs_private.json_violation(v_meta);
    if v_problem is not null then
        raise exception using errcode = '22023', message = 'metadata ' || v_problem,
            hint = 'Nest metadata at most 32 levels; keep numbers between -1e308 and 1e308 (exclusive).';
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
                    and coalesce(jsonb_typeof(a.value -> 'thumbnail_url'), 'null') in ('string', 'null')
                    and coalesce(char_length(a.value ->> 'thumbnail_url'), 1) between 1 and 2000
                    and coalesce(jsonb_typeof(a.value -> 'metadata'), 'object') in ('object', 'null')),
                false
            )
        )
    ) then
        raise exception using errcode = '22023',
            message = 'assets must be an array (at most 100) of paths or of {type: image|video, url, thumbnail_url, metadata}';
    end if;

    -- The job, its type and the bounds on its outputs in one statement (every statement here is
    -- an executor start-up).
    select j.*, t.media_type, t.output_bucket, t.asset_path_prefix, s.max_assets_per_job,
        s.max_asset_metadata_bytes
    into v_job
    from jobs_private.jobs_hot as j
    join public.job_types as t on t.job_type = j.job_type
    -- on its key, not "on true" (see queue_job: no JIT for a sequential scan's price)
    left join jobs_private.settings as s on s.singleton
    where j.id = job_callback.job_id
    for update of j;
    if not found then
        return jsonb_build_object('job_id', job_callback.job_id, 'result', 'unknown_job');
    elsif v_job.status = 'cancelled' then
        return jsonb_build_object('job_id', v_job.id, 'result', 'ignored_cancelled');
    elsif v_job.status = 'queued' or (
        job_callback.lease_token is not null
        -- jobs.lease_token holds the digest of the claim's token (jobs_private.lease_digest, inlined)
        and pg_catalog.left(pg_catalog.encode(
            pg_catalog.sha256(pg_catalog.uuid_send(job_callback.lease_token)), 'hex'
        ), 32)::uuid is distinct from v_job.lease_token
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
            update jobs_private.jobs_hot as j
            set status = 'queued', run_at = now() + v_delay, last_error_at = now(),
                error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
            where j.id = v_job.id;
            return jsonb_build_object('job_id', v_job.id, 'result', 'requeued',
                'retry_at', now() + v_delay, 'attempts', v_job.attempts);
        end if;
        update jobs_private.jobs_hot as j
        set status = 'failed', completed_at = greatest(now(), v_job.started_at), last_error_at = now(),
            error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
        where j.id = v_job.id;
        return jsonb_build_object('job_id', v_job.id, 'result', 'failed', 'attempts', v_job.attempts);
    end if;

    -- What one job may store (README: Limits): at most max_assets_per_job assets, whose
    -- metadata come to at most max_asset_metadata_bytes and follow the JSON rule, at paths
    -- under the job type's asset_path_prefix (default: the owner's folder), so a worker cannot
    -- attach another user's file. Checked in the statement that inserts: the first bad asset
    -- is named and nothing is inserted (the exception then rolls back the call).
    if jsonb_array_length(coalesce(job_callback.assets, '[]')) > v_job.max_assets_per_job then
        raise exception using errcode = '22023',
            message = format('assets has %s elements: at most %s per job (jobs_private.settings.max_assets_per_job)',
                jsonb_array_length(job_callback.assets), v_job.max_assets_per_job);
    end if;
    v_prefix := replace(replace(v_job.asset_path_prefix, '{user_id}', v_job.user_id::text),
        '{job_id}', v_job.id::text);
    with asset as (
        select a.ord, a.value, p.path, a.value ->> 'thumbnail_url' as thumbnail,
            coalesce(nullif(a.value -> 'metadata', 'null'::jsonb), '{}') as metadata
        from jsonb_array_elements(coalesce(job_callback.assets, '[]')) with ordinality as a (value, ord)
        cross join lateral (
            select case when jsonb_typeof(a.value) = 'string' then a.value #>> '{}'
                else a.value ->> 'url' end as path
        ) as p
    ),
    checked as (
        select a.*, case
            when v_prefix is not null and not starts_with(a.path, v_prefix)
                then format('url %L is not under %L (job_types.asset_path_prefix of %s)',
                    left(a.path, 300), v_prefix, v_job.job_type)
            when v_prefix is not null and (
                a.path !~ '^[A-Za-z0-9_/!.*''() &$@=;:+,?-]+$' or a.path ~ '(^|/)[.]{0,2}(/|$)'
            ) then format('url %L is not a Storage object key (characters A-Za-z0-9 and _/!-.*''() &$@=;:+,?; no empty, "." or ".." segment)',
                left(a.path, 300))
            when v_prefix is not null and a.thumbnail is not null and not starts_with(a.thumbnail, v_prefix)
                then format('thumbnail_url %L is not under %L (job_types.asset_path_prefix of %s)',
                    left(a.thumbnail, 300), v_prefix, v_job.job_type)
            when v_prefix is not null and (
                a.thumbnail !~ '^[A-Za-z0-9_/!.*''() &$@=;:+,?-]+$'
                or a.thumbnail ~ '(^|/)[.]{0,2}(/|$)'
            ) then format('thumbnail_url %L is not a Storage object key (characters A-Za-z0-9 and _/!-.*''() &$@=;:+,?; no empty, "." or ".." segment)',
                left(a.thumbnail, 300))
            when sum(octet_length(a.metadata::text)) over (order by a.ord) > v_job.max_asset_metadata_bytes
                then format('the metadata of assets[0..%s] come to %s bytes: at most %s per job (jobs_private.settings.max_asset_metadata_bytes)',
                    a.ord - 1, sum(octet_length(a.metadata::text)) over (order by a.ord),
                    v_job.max_asset_metadata_bytes)
            when jobs_private.json_violation(a.metadata) is not null
                then 'metadata ' || jobs_private.json_violation(a.metadata)
        end as problem
        from asset as a
    ),
    bad as (
        select c.ord, c.problem from checked as c where c.problem is not null order by c.ord limit 1
    ),
    inserted as (
        insert into public.images_videos (
            user_id, job_id, asset_index, asset_type, bucket, file_path, file_name,
            thumbnail_path, metadata
        )
        select
            v_job.user_id, v_job.id, (c.ord - 1)::integer,
            coalesce(c.value ->> 'type', v_job.media_type), v_job.output_bucket,
            c.path, regexp_replace(c.path, '^.*/', ''), c.thumbnail, c.metadata
        from checked as c
        where not exists (select from bad)
        on conflict on constraint images_videos_job_asset_key do nothing
        returning id, asset_index, asset_type, file_path, thumbnail_path
    )
    select (select format('assets[%s]: %s', b.ord - 1, b.problem) from bad as b),
        (select jsonb_agg(i.id order by i.asset_index) from inserted as i),
        f.id, f.asset_type, f.file_path, f.thumbnail_path
    into v_problem, v_asset_ids, v_first_id, v_first_type, v_first_path, v_first_thumbnail
    from (select) as one
    left join inserted as f on f.asset_index = 0;
    if v_problem is not null then
        raise exception using errcode = '22023', message = v_problem;
    end if;
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

    update jobs_private.jobs_hot as j
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
'Worker / job-callback edge function: report the outcome of a claim. completed: one images_videos row per asset (path or {type,url,thumbnail_url,metadata}), the first linked as image_id or video_id, metadata merged, analytics columns filled. failed: requeued with backoff while attempts remain and retryable, else failed. Answers result = completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job. Errors: 42501 a jobs_worker report without lease_token (only service_role may omit it), 22023 bad payload (the message names it: more assets than settings.max_assets_per_job, asset metadata over settings.max_asset_metadata_bytes, a path outside job_types.asset_path_prefix, the JSON rule), PT409 a report conflicting with the recorded outcome.';
revoke all on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) to jobs_worker, service_role;
