-- Security definer, like job_callback (same callers, same reason): a worker reports many outcomes
-- in one call. Each element is exactly a job_callback call with the same named arguments and
-- gets exactly its answer. This function checks the batch, locks its jobs in job id order (the
-- order claim_jobs, heartbeat_jobs and release_jobs lock in, so two overlapping batches, or a
-- batch and a heartbeat, wait for each other instead of deadlocking), then applies the whole
-- batch as one set statement: one INSERT of every output row, one of the video rows, one UPDATE
-- of every completed, failed or requeued job (their triggers run per row as before), and the
-- answers in the input order. A report per statement cost ~8 statements per job (bench/README.md).
-- job_callback stays the one definition of a report: the set statement applies job_callback's
-- rules as predicates and writes nothing when any element would make job_callback raise (a
-- payload it refuses, a report conflicting with a recorded outcome, an asset outside the
-- prefix...) or when the statement itself fails with a client error; then the batch is applied
-- again the old way, job_callback per element in job id order, whose error names the element
-- (and whose answers stand, should the set statement ever be stricter than job_callback).
-- Fencing is job_callback's: a jobs_worker must present every element's lease_token (42501
-- naming the element, checked before anything is written); jobs_private.is_trusted_caller()
-- reads the request's role and session_user, which a nested security definer call does not
-- change, so the service role may still omit tokens. All or nothing: one transaction, so an
-- error on any element (22023 bad input, PT409 a report conflicting with a recorded outcome,
-- 42501) writes nothing and names the element; a conflict is a bug in the reporting worker
-- (another attempt's report is stale, not a conflict), not a race to absorb per element.
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
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
    -- the reported jobs that exist, locked
    v_jobs uuid[];
    v_answers jsonb[];
    -- job_callback would refuse an element, or the set statement failed: go per element
    v_refused boolean;
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
    select array_agg(l.id order by l.id)
    into v_jobs
    from (
        select j.id
        from jobs_private.jobs_hot as j
        where j.id in (
            select (e.value ->> 'job_id')::uuid
            from jsonb_array_elements(job_callbacks.reports) as e (value)
        )
        order by j.id
        for update of j
    ) as l;

    -- The whole batch in one statement (the header says why): each report with its job and its
    -- outcome, job_callback's order of decisions (unknown, cancelled, stale, duplicate or
    -- conflict, then requeued, failed or completed); `refused` holds a row when job_callback
    -- would raise for any element, and then nothing is written. Its client errors raised by
    -- the statement itself (a metadata number job_callback refuses, a row rule) are caught and
    -- the batch goes the per-element way, which raises them naming the element.
    begin
        with report as (
            select e.ord, (e.value ->> 'job_id')::uuid as job_id, e.value ->> 'status' as status,
                (e.value ->> 'lease_token')::uuid as lease_token,
                e.value ->> 'error_message' as error_message,
                coalesce(nullif(e.value -> 'metadata', 'null'::jsonb), '{}') as meta,
                nullif(e.value -> 'assets', 'null'::jsonb) as assets,
                coalesce((e.value -> 'retryable')::boolean, true) as retryable
            from jsonb_array_elements(job_callbacks.reports) with ordinality as e (value, ord)
        ),
        outcome as (
            select r.*, j.status as job_status, j.user_id, j.attempts, j.job_type,
                t.media_type, t.output_bucket, s.max_assets_per_job, s.max_asset_metadata_bytes,
                -- the job type's asset_path_prefix with the job's {user_id} and {job_id}
                replace(replace(t.asset_path_prefix, '{user_id}', j.user_id::text),
                    '{job_id}', j.id::text) as prefix,
                case
                    when j.id is null then 'unknown_job'
                    when j.status = 'cancelled' then 'ignored_cancelled'
                    -- jobs.lease_token holds the digest of the claim's token
                    -- (jobs_private.lease_digest, inlined as in job_callback)
                    when j.status = 'queued' or (
                        r.lease_token is not null
                        and j.lease_token is distinct from (pg_catalog.left(pg_catalog.encode(
                            pg_catalog.sha256(pg_catalog.uuid_send(r.lease_token)), 'hex'
                        ), 32)::uuid)
                    ) then 'stale'
                    when j.status <> 'processing' and j.status = r.status then 'duplicate'
                    when j.status <> 'processing' then 'conflict'
                    when r.status = 'failed' and r.retryable and j.attempts < j.max_attempts
                        then 'requeued'
                    else r.status
                end as result
            from report as r
            left join jobs_private.jobs_hot as j on j.id = r.job_id
            left join public.job_types as t on t.job_type = j.job_type
            -- one row, said so (limit): the one-row table is rarely analyzed, and its
            -- estimate (hundreds of rows) multiplied this CTE's into a generic plan that read
            -- the whole jobs_pkey to update ten jobs
            left join (
                select s.max_assets_per_job, s.max_asset_metadata_bytes
                from jobs_private.settings as s
                where s.singleton
                limit 1
            ) as s on true
        ),
        -- the assets of the completions, as job_callback reads them
        asset as (
            select o.job_id, o.user_id, o.media_type, o.output_bucket, o.prefix,
                o.max_asset_metadata_bytes, a.ord, a.value, p.path,
                a.value ->> 'thumbnail_url' as thumbnail,
                coalesce(nullif(a.value -> 'metadata', 'null'::jsonb), '{}') as metadata
            from outcome as o
            cross join lateral jsonb_array_elements(coalesce(o.assets, '[]'))
                with ordinality as a (value, ord)
            cross join lateral (
                select case when jsonb_typeof(a.value) = 'string' then a.value #>> '{}'
                    else a.value ->> 'url' end as path
            ) as p
            where o.result = 'completed'
        ),
        -- job_callback's refusals, in its words (22023, PT409), without their messages
        refused as (
            select
            from outcome as o
            where o.result = 'conflict'
                or octet_length(o.meta::text) > 65536
                or jobs_private.json_violation(o.meta) is not null
                or (o.assets is not null and (
                    jsonb_typeof(o.assets) <> 'array'
                    or jsonb_array_length(o.assets) > 100
                    or exists (
                        select
                        from jsonb_array_elements(o.assets) as a (value)
                        where not coalesce(
                            (jsonb_typeof(a.value) = 'string'
                                and char_length(a.value #>> '{}') between 1 and 2000)
                            or (jsonb_typeof(a.value) = 'object'
                                and jsonb_typeof(a.value -> 'url') = 'string'
                                and char_length(a.value ->> 'url') between 1 and 2000
                                and coalesce(a.value ->> 'type', 'image') in ('image', 'video')
                                and coalesce(jsonb_typeof(a.value -> 'thumbnail_url'), 'null')
                                in ('string', 'null')
                                and coalesce(char_length(a.value ->> 'thumbnail_url'), 1)
                                between 1 and 2000
                                and coalesce(jsonb_typeof(a.value -> 'metadata'), 'object')
                                in ('object', 'null')),
                            false
                        )
                    )
                ))
                or (o.result = 'completed'
                    and jsonb_array_length(coalesce(o.assets, '[]')) > o.max_assets_per_job)
            union all
            select
            from asset as a
            where case
                when a.prefix is not null and not starts_with(a.path, a.prefix) then true
                when a.prefix is not null and (
                    a.path !~ '^[A-Za-z0-9_/!.*''() &$@=;:+,?-]+$' or a.path ~ '(^|/)[.]{0,2}(/|$)'
                ) then true
                when a.prefix is not null and a.thumbnail is not null
                    and not starts_with(a.thumbnail, a.prefix) then true
                when a.prefix is not null and (
                    a.thumbnail !~ '^[A-Za-z0-9_/!.*''() &$@=;:+,?-]+$'
                    or a.thumbnail ~ '(^|/)[.]{0,2}(/|$)'
                ) then true
                when jobs_private.json_violation(a.metadata) is not null then true
                else false
            end
            union all
            select
            from asset as a
            group by a.job_id, a.max_asset_metadata_bytes
            having sum(octet_length(a.metadata::text)) > a.max_asset_metadata_bytes
        ),
        inserted as (
            insert into public.images_videos (
                user_id, job_id, asset_index, asset_type, bucket, file_path, file_name,
                thumbnail_path, metadata
            )
            select
                a.user_id, a.job_id, (a.ord - 1)::integer,
                coalesce(a.value ->> 'type', a.media_type), a.output_bucket,
                a.path, regexp_replace(a.path, '^.*/', ''), a.thumbnail, a.metadata
            from asset as a
            where not exists (select from refused)
            order by a.job_id, a.ord
            on conflict on constraint images_videos_job_asset_key do nothing
            returning id, job_id, asset_index, asset_type, file_path, thumbnail_path
        ),
        -- each completion's first asset (asset_index 0): inserted now, or already there
        -- (written directly by the service role); it becomes the job's image_id or video_id
        first_asset as (
            select o.job_id, o.user_id,
                coalesce(i.id, iv.id) as id, coalesce(i.asset_type, iv.asset_type) as asset_type,
                coalesce(i.file_path, iv.file_path) as file_path,
                coalesce(i.thumbnail_path, iv.thumbnail_path) as thumbnail_path
            from outcome as o
            left join inserted as i on i.job_id = o.job_id and i.asset_index = 0
            -- lateral: one index probe per job that needs it (as a join, a generic plan read
            -- the first asset of every job)
            left join lateral (
                select iv.id, iv.asset_type, iv.file_path, iv.thumbnail_path
                from public.images_videos as iv
                where i.id is null and iv.job_id = o.job_id and iv.asset_index = 0
                -- at most one (the key); the limit keeps the planner from making it a join
                limit 1
            ) as iv on true
            where o.result = 'completed' and not exists (select from refused)
        ),
        video as (
            insert into public.videos (user_id, asset_id, file_path, thumbnail_path)
            select f.user_id, f.id, f.file_path, f.thumbnail_path
            from first_asset as f
            where f.asset_type = 'video'
            order by f.job_id
            returning id, asset_id
        ),
        updated as (
            update jobs_private.jobs_hot as j
            set status = case when o.result = 'requeued' then 'queued' else o.result end,
                run_at = case when o.result = 'requeued'
                    then now() + jobs_private.retry_delay(o.attempts) else j.run_at end,
                completed_at = case when o.result = 'requeued' then j.completed_at
                    else greatest(now(), j.started_at) end,
                last_error_at = case when o.status = 'failed' then now() else j.last_error_at end,
                error_message = case when o.status = 'failed'
                    then left(coalesce(o.error_message, 'failed without a message'), 10000)
                    else j.error_message end,
                image_id = case when o.result <> 'completed' then j.image_id
                    when f.asset_type = 'image' then f.id end,
                video_id = case when o.result <> 'completed' then j.video_id else v.id end,
                -- as job_callback: the group keys are the request's (job_group_json casts
                -- image_index, groups use job_id)
                metadata = case when o.result <> 'completed' then j.metadata
                    else j.metadata || (o.meta - array['job_id', 'image_index', 'num_images']) end,
                enhancement_strategy = case when o.result <> 'completed' then j.enhancement_strategy
                    else coalesce(left(o.meta ->> 'enhancement_strategy', 50), j.enhancement_strategy) end,
                original_prompt = case when o.result <> 'completed' then j.original_prompt
                    else coalesce(j.original_prompt, o.meta ->> 'original_prompt') end,
                enhanced_prompt = case when o.result <> 'completed' then j.enhanced_prompt
                    else coalesce(o.meta ->> 'enhanced_prompt', j.enhanced_prompt) end,
                enhancement_time_ms = case when o.result <> 'completed' then j.enhancement_time_ms
                    else coalesce(
                        jobs_private.json_number(o.meta, 'enhancement_time_ms')::integer,
                        j.enhancement_time_ms
                    ) end,
                compel_weights = case when o.result <> 'completed' then j.compel_weights
                    else coalesce(nullif(o.meta -> 'compel_weights', 'null'::jsonb), j.compel_weights) end,
                qwen_expansion_percentage = case when o.result <> 'completed'
                    then j.qwen_expansion_percentage
                    else coalesce(
                        jobs_private.json_number(o.meta, 'qwen_expansion_percentage'),
                        j.qwen_expansion_percentage
                    ) end,
                quality_rating = case when o.result <> 'completed' then j.quality_rating
                    else coalesce(jobs_private.json_number(o.meta, 'quality_rating'), j.quality_rating) end,
                quality_improvement = case when o.result <> 'completed' then j.quality_improvement
                    else coalesce(
                        jobs_private.json_number(o.meta, 'quality_improvement'), j.quality_improvement
                    ) end
            from outcome as o
            left join first_asset as f on f.job_id = o.job_id
            left join video as v on v.asset_id = f.id
            -- the locked jobs (and an index scan of them, whatever the estimates)
            where j.id = any(v_jobs) and j.id = o.job_id
                and o.result in ('completed', 'failed', 'requeued')
                and not exists (select from refused)
            returning j.id, j.run_at
        )
        select exists (select from refused),
            array_agg(case
                when o.result in ('unknown_job', 'ignored_cancelled')
                    then jsonb_build_object('job_id', o.job_id, 'result', o.result)
                when o.result in ('stale', 'duplicate')
                    then jsonb_build_object('job_id', o.job_id, 'result', o.result,
                        'status', o.job_status)
                when o.result = 'requeued'
                    then jsonb_build_object('job_id', o.job_id, 'result', o.result,
                        'retry_at', u.run_at, 'attempts', o.attempts)
                when o.result = 'failed'
                    then jsonb_build_object('job_id', o.job_id, 'result', o.result,
                        'attempts', o.attempts)
                else jsonb_build_object('job_id', o.job_id, 'result', o.result,
                    'asset_ids', coalesce((
                        select jsonb_agg(i.id order by i.asset_index)
                        from inserted as i
                        where i.job_id = o.job_id
                    ), '[]'))
            end order by o.ord)
        into v_refused, v_answers
        from outcome as o
        left join updated as u on u.id = o.job_id;
    exception
        -- job_callback's client errors and the row rules: the per-element way names them
        when data_exception or integrity_constraint_violation or sqlstate 'PT409'
            or insufficient_privilege then
            v_refused := true;
    end;

    if v_refused then
        v_answers := array[]::jsonb[];
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
    end if;

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
