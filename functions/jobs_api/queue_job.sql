-- The privileged body of public.queue_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no INSERT on jobs; this function is the one way they create jobs,
-- always for auth.uid(), with every input validated and derived columns taken from job_types.
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
create function jobs_api.queue_job(
    job_type text,
    prompt text default null,
    metadata jsonb default '{}',
    quality text default null,
    num_images integer default 1,
    project_id uuid default null,
    destination text default 'library',
    workspace_session_id uuid default null,
    template_name text default null,
    api_model_id uuid default null,
    idempotency_key text default null,
    priority integer default null,
    run_after timestamptz default null
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
    v_uid uuid := auth.uid();
    -- the job type's row and the settings queue_job needs (max_images_per_request,
    -- max_queued_per_user, the rate and the set's metadata bound), read by one statement
    v_type record;
    v_prompt text := coalesce(queue_job.prompt, queue_job.metadata ->> 'prompt');
    v_group uuid;
    v_queued integer;
    v_rank bigint;
    v_user_rank bigint;
    v_has_profile boolean;
    v_now timestamptz := now();
    v_wake boolean;
    v_head_rank bigint;
    v_head_run_at timestamptz;
    v_answer jsonb;
    v_problem text;
    v_metadata_bytes integer;
    v_refilled_at timestamptz;
    v_wait integer;
    -- A text of nothing but white space (Unicode's White_Space), control (Cc) and format (Cf)
    -- characters and other default-ignorable code points (zero-width characters, fillers,
    -- variation selectors, tags) shows nothing: a prompt made of them is an empty prompt.
    c_blank constant text := '^[\u0001-\u0020\u007f-\u00a0\u00ad\u034f\u0600-\u0605\u061c\u06dd'
        || '\u070f\u0890-\u0891\u08e2\u115f-\u1160\u1680\u17b4-\u17b5\u180b-\u180f\u2000-\u200f'
        || '\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb'
        || '\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a'
        || '\U000e0000-\U000e0fff]*$';
begin
    if v_uid is null then
        raise exception using errcode = '42501', message = 'queue_job needs a signed-in user',
            hint = 'Call it with the user''s JWT (request.jwt.claims.sub).';
    end if;
    -- One statement for the type and the settings: every statement of a plpgsql function is an
    -- executor start-up on the hot path.
    -- The pool's claim floor too (jobs_private.claim_floors): the head of the queue is read
    -- from it, and a new job ranks at or above it.
    -- And the per-user lock: one queue_job at a time per user, which makes the cap, the
    -- idempotency check and the rate exact under concurrent retries without serialising
    -- different users. Taken here, not by a statement of its own (one executor start-up fewer):
    -- every read that must see the user's earlier calls (the idempotency key, the queued count,
    -- the rate) is a later statement, so its snapshot is taken after the lock is held. The
    -- type, the settings and the floor need no lock. A call refused below has waited for the
    -- lock first; it is released with the transaction either way.
    select t.*, s.max_images_per_request, s.max_queued_per_user, s.jobs_per_minute, s.job_burst,
        s.max_set_metadata_bytes,
        coalesce(f.neg_priority, -32768) as floor_np,
        coalesce(f.fair_rank, -9223372036854775808) as floor_rank,
        coalesce(f.id, '00000000-0000-0000-0000-000000000000') as floor_id,
        f.worker_pool is not null as has_floor,
        pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtext('jobsdb.queue_job'), pg_catalog.hashtext(v_uid::text)
        ) as locked
    into v_type
    from public.job_types as t
    -- on its key, not "on true": under enable_seqscan = off a sequential scan costs past
    -- jit_above_cost and the statement would be JIT-compiled (100 ms) on every call
    left join jobs_private.settings as s on s.singleton
    left join jobs_private.claim_floors as f on f.worker_pool = t.worker_pool
    where t.job_type = queue_job.job_type;
    if not found then
        raise exception using errcode = '22023',
            message = format('unknown job_type %L', left(queue_job.job_type, 100)),
            hint = 'Valid types are the rows of public.job_types.';
    end if;
    if queue_job.metadata is null or jsonb_typeof(queue_job.metadata) <> 'object' then
        raise exception using errcode = '22023', message = 'metadata must be a JSON object';
    end if;
    v_metadata_bytes := octet_length(queue_job.metadata::text);
    if v_metadata_bytes > 65536 then
        raise exception using errcode = '22023', message = 'metadata is larger than 64 KiB';
    end if;
    -- The JSON rule (jobs_private.json_violation): every worker and browser must be able to
    -- read what is stored, or one job stops every worker of its pool.
    v_problem := jobs_private.json_violation(queue_job.metadata);
    if v_problem is not null then
        raise exception using errcode = '22023', message = 'metadata ' || v_problem,
            hint = 'Nest metadata at most 32 levels; keep numbers between -1e308 and 1e308 (exclusive).';
    end if;
    if char_length(v_prompt) > 10000 then
        raise exception using errcode = '22023',
            message = 'prompt must be a non-empty text of at most 10000 characters';
    end if;
    if v_prompt is null or v_prompt ~ c_blank then
        -- An exact copy (the app's copy of a reference image) needs no prompt; any other job does.
        if not coalesce(
            queue_job.metadata -> 'exact_copy_mode' = 'true'::jsonb
            and queue_job.metadata ->> 'reference_image_url' !~ c_blank,
            false
        ) then
            raise exception using errcode = '22023',
                message = 'prompt must be a non-empty text of at most 10000 characters',
                hint = 'Only an exact copy (metadata.exact_copy_mode = true with metadata.reference_image_url) may have an empty prompt.';
        end if;
        v_prompt := coalesce(v_prompt, '');
    end if;
    if queue_job.num_images is null
        or queue_job.num_images not between 1 and v_type.max_images_per_request then
        raise exception using errcode = '22023',
            message = format('num_images must be between 1 and %s', v_type.max_images_per_request);
    end if;
    -- Every job of the set stores the metadata and the prompt (metadata.prompt): bound the copy.
    if (v_metadata_bytes + octet_length(v_prompt)) * queue_job.num_images
        > v_type.max_set_metadata_bytes then
        raise exception using errcode = '22023',
            message = format(
                'metadata and prompt of %s bytes copied into %s jobs come to %s bytes: at most %s per request (jobs_private.settings.max_set_metadata_bytes)',
                v_metadata_bytes + octet_length(v_prompt), queue_job.num_images,
                (v_metadata_bytes + octet_length(v_prompt)) * queue_job.num_images,
                v_type.max_set_metadata_bytes
            ),
            hint = 'Ask for fewer images, or send less metadata.';
    end if;
    if queue_job.quality is not null and queue_job.quality is distinct from v_type.quality then
        raise exception using errcode = '22023',
            message = format('job_type %s has quality %s, not %L', v_type.job_type, v_type.quality,
                left(queue_job.quality, 20));
    end if;
    if queue_job.destination is null or queue_job.destination not in ('library', 'workspace') then
        raise exception using errcode = '22023', message = 'destination must be library or workspace';
    end if;
    if char_length(queue_job.template_name) > 200 then
        raise exception using errcode = '22023', message = 'template_name is longer than 200 characters';
    end if;
    if queue_job.idempotency_key is not null
        and char_length(queue_job.idempotency_key) not between 1 and 200 then
        raise exception using errcode = '22023', message = 'idempotency_key must have 1 to 200 characters';
    end if;
    if (queue_job.priority is not null or queue_job.run_after is not null) then
        perform jobs_private.require_admin();
        if queue_job.priority not between -100 and 100 then
            raise exception using errcode = '22023', message = 'priority must be between -100 and 100';
        end if;
    end if;
    -- Nested so that the lookups (each a query) run only when the parameter is given.
    if queue_job.project_id is not null then
        if not exists (
            select from public.projects as p where p.id = queue_job.project_id and p.user_id = v_uid
        ) then
            raise exception using errcode = '22023', message = 'project_id is not a project of this user';
        end if;
    end if;
    if queue_job.api_model_id is not null then
        if not exists (
            select from public.api_models as m where m.id = queue_job.api_model_id and m.is_active
        ) then
            raise exception using errcode = '22023', message = 'api_model_id is not an active api model';
        end if;
    end if;

    if queue_job.idempotency_key is not null then
        select (j.metadata ->> 'job_id')::uuid into v_group
        from public.jobs as j
        where j.user_id = v_uid and j.idempotency_key = queue_job.idempotency_key;
        if found then
            select jobs_private.job_group_json(v_group, true, array_agg(j)) into v_answer
            from public.jobs as j
            where j.user_id = v_uid and (j.metadata ->> 'job_id') = v_group::text;
            return v_answer;
        end if;
    end if;

    -- In one statement: the user's profile, their queued jobs (for the cap), the head of the
    -- pool's queue (the claim's first candidate, read on jobs_claim_idx from the pool's claim
    -- floor) and the user's latest fair rank in the pool.
    -- The queued jobs are counted among the user's unfinished ones (jobs_user_active_idx),
    -- never as "status = 'queued'": that would let the plan read jobs_claim_idx, every queued
    -- job of the pool, whenever the statistics say the queue is empty (taken before a backlog
    -- arrived: on a large partition autoanalyze waits for 2% of it to change). The generic
    -- plan then read the whole backlog on every call (2,000 queued jobs: 0.6-0.7 x the
    -- lifecycle's rate at 10 million jobs, bench/README.md, "queue_job's count of a user's
    -- queued jobs"). A user has at most max_queued_per_user queued jobs and as many processing
    -- as workers run for them.
    select
        exists (select from public.profiles as p where p.id = v_uid),
        (
            select count(*) filter (where j.status = 'queued')
            from jobs_private.jobs_hot as j
            where j.user_id = v_uid and j.status in ('queued', 'processing')
        ),
        h.fair_rank, h.run_at,
        (
            select max(j.fair_rank) from jobs_private.jobs_hot as j
            where j.user_id = v_uid and j.status in ('queued', 'processing')
            and j.worker_pool = v_type.worker_pool and j.fair_rank < 4611686018427387904
        )
    into v_has_profile, v_queued, v_head_rank, v_head_run_at, v_user_rank
    from (select) as one
    left join lateral (
        select j.fair_rank, j.run_at
        from jobs_private.jobs_hot as j
        where j.status = 'queued' and j.worker_pool = v_type.worker_pool
            and (greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id)
            >= (4611686018427387904, v_type.floor_np, v_type.floor_rank, v_type.floor_id)
            and greatest(j.fair_rank, 4611686018427387904) <= 4611686018427387904
        order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
        limit 1
    ) as h on true;

    if not v_has_profile then
        if not exists (select from auth.users as u where u.id = v_uid) then
            raise exception using errcode = '42501', message = 'the signed-in user does not exist';
        end if;
        insert into public.profiles (id) values (v_uid) on conflict do nothing;
    end if;
    if v_queued + queue_job.num_images > v_type.max_queued_per_user then
        raise exception using errcode = 'PT429',
            message = format('too many queued jobs: %s queued, at most %s per user',
                v_queued, v_type.max_queued_per_user),
            hint = 'Wait for queued jobs to start, or cancel some.';
    end if;
    -- The rate of new jobs (jobs_private.job_rates): take num_images tokens of the user's bucket
    -- or take nothing. A replayed idempotency key returned above and costs nothing; a cancelled
    -- job gives nothing back, so queueing and cancelling in rounds is held to the rate too.
    -- Exact under concurrency: the per-user lock above and the row's lock.
    if v_type.jobs_per_minute is not null then
        -- The common case, a bucket row with the tokens, as a plain update (a HOT update: no
        -- index covers refilled_at): an upsert's speculative path (arbiter index probe, then a
        -- row lock, then the update) costs more for the same row.
        update jobs_private.job_rates as r
        set refilled_at = greatest(r.refilled_at, v_now)
            + make_interval(secs => 60.0 * queue_job.num_images / v_type.jobs_per_minute)
        where r.user_id = v_uid and greatest(r.refilled_at, v_now) + make_interval(
            secs => 60.0 * (queue_job.num_images - v_type.job_burst) / v_type.jobs_per_minute
        ) <= v_now;
        if not found then
            -- No row (the user's first job, or a row deleted once its refilled_at was past: the
            -- same full bucket) or too few tokens: the upsert inserts a row taking the tokens,
            -- or takes them from a row, or refuses, in one statement.
            insert into jobs_private.job_rates as r (user_id, refilled_at)
            values (
                v_uid,
                v_now + make_interval(secs => 60.0 * queue_job.num_images / v_type.jobs_per_minute)
            )
            on conflict (user_id) do update
            set refilled_at = greatest(r.refilled_at, v_now)
                + make_interval(secs => 60.0 * queue_job.num_images / v_type.jobs_per_minute)
            where greatest(r.refilled_at, v_now) + make_interval(
                secs => 60.0 * (queue_job.num_images - v_type.job_burst) / v_type.jobs_per_minute
            ) <= v_now;
        end if;
        if not found then
            select r.refilled_at into v_refilled_at
            from jobs_private.job_rates as r where r.user_id = v_uid;
            -- seconds until num_images tokens are back (at least 1: the bucket refills continuously)
            v_wait := greatest(1, ceil(
                extract(epoch from v_refilled_at - v_now)
                - 60.0 * (v_type.job_burst - queue_job.num_images) / v_type.jobs_per_minute
            ));
            raise exception using errcode = 'PT429',
                message = format(
                    'too many new jobs: at most %s per minute per user, %s at once; retry in %s s',
                    v_type.jobs_per_minute, v_type.job_burst, v_wait
                ),
                detail = format('retry_after_seconds=%s', v_wait),
                hint = 'Retry after retry_after_seconds (the queue-job edge function sends it as Retry-After).';
        end if;
    end if;

    -- Fair rank: after the user's own latest job in this pool and level with the head of the
    -- pool's queue, so a newcomer's job runs next to, not behind, another user's backlog.
    -- Never below the pool's claim floor's rank: with the priority of the floor's job, the new
    -- jobs rank above the floor (their ids are newer).
    v_rank := greatest(v_head_rank, v_user_rank + 1, v_type.floor_rank, 1);

    -- Workers sleep (LISTEN, with a poll timeout) only after a claim found nothing, and a busy
    -- worker claims again before it sleeps: wake them only when the head of the pool's queue is
    -- not claimable now (an empty queue, or one waiting out a backoff). NOTIFY takes a
    -- database-wide lock at commit that serialises all notifying commits (about -35% jobs/s at
    -- 8 clients in bench/README.md).
    v_wake := v_head_run_at is null or v_head_run_at > v_now;
    -- Job ids (jobs_private.new_job_id, inlined): a sequence number then random bits, so ids
    -- order by creation. The claim breaks (priority, fair_rank) ties by id: a set is claimed
    -- in image_index order and equal ranks first-come first-served, never by a random value.
    v_group := (
        pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.nextval('jobs_private.job_id_seq')), 12, '0')
        || pg_catalog.right(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20)
    )::uuid;
    with inserted as (
        insert into jobs_private.jobs_hot (
            id, user_id, job_type, status, max_attempts, metadata, project_id, format, quality,
            model_type, destination, workspace_session_id, template_name, api_model_id,
            original_prompt, worker_pool, priority, run_at, fair_rank, idempotency_key
        )
        select
            case when i = 1 then v_group else (
                pg_catalog.lpad(
                    pg_catalog.to_hex(pg_catalog.nextval('jobs_private.job_id_seq')), 12, '0'
                ) || pg_catalog.right(
                    pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20
                )
            )::uuid end,
            v_uid, v_type.job_type, 'queued', v_type.default_max_attempts,
            queue_job.metadata || jsonb_build_object(
                'prompt', v_prompt, 'job_id', v_group, 'image_index', i - 1,
                'num_images', queue_job.num_images
            ),
            queue_job.project_id, v_type.format, v_type.quality, v_type.model_type,
            queue_job.destination, queue_job.workspace_session_id, queue_job.template_name,
            queue_job.api_model_id, v_prompt, v_type.worker_pool, coalesce(queue_job.priority, 0),
            coalesce(queue_job.run_after, v_now), v_rank,
            case when i = 1 then queue_job.idempotency_key end
        from generate_series(1, queue_job.num_images) as i
        returning *
    )
    -- The answer built here from the returning rows, not by jobs_private.job_group_json (a
    -- function call with its own SET and statement, and every row copied into an array): the
    -- same keys and order as job_group_json's, which answers a repeated idempotency key
    -- (keep the two alike; the idempotency test compares the two answers' jobs).
    select jsonb_build_object(
        'group_id', v_group,
        'deduplicated', false,
        'jobs', coalesce(jsonb_agg(jsonb_build_object(
            'id', n.id, 'status', n.status, 'job_type', n.job_type,
            'worker_pool', n.worker_pool, 'format', n.format, 'quality', n.quality,
            'model_type', n.model_type, 'destination', n.destination,
            'image_index', (n.metadata ->> 'image_index')::integer,
            'priority', n.priority, 'run_at', n.run_at, 'created_at', n.created_at
        ) order by (n.metadata ->> 'image_index')::integer, n.id), '[]')
    ) into v_answer
    from inserted as n;

    -- The pool's first job gives it a claim floor at the bottom (claims move it forward).
    if not v_type.has_floor then
        insert into jobs_private.claim_floors (worker_pool, neg_priority, fair_rank, id)
        values (v_type.worker_pool, -32768, -9223372036854775808, '00000000-0000-0000-0000-000000000000')
        on conflict (worker_pool) do nothing;
    -- A higher priority than the floor's job ranks the set below the pool's claim floor: move
    -- the floor back to its first job, so the next claim sees it (rare: admins and the service
    -- role set priorities).
    elsif v_type.has_floor
        and (-coalesce(queue_job.priority, 0), v_rank, v_group)
        < (v_type.floor_np, v_type.floor_rank, v_type.floor_id) then
        update jobs_private.claim_floors as f
        set neg_priority = -coalesce(queue_job.priority, 0), fair_rank = v_rank, id = v_group,
            updated_at = now()
        where f.worker_pool = v_type.worker_pool
            and (f.neg_priority, f.fair_rank, f.id) > (-coalesce(queue_job.priority, 0), v_rank, v_group);
    end if;

    -- At most one wake-up per call, none while the pool has claimable work (see v_wake): no
    -- per-row trigger, so commits of many jobs do not queue behind the notify lock once per row.
    if v_wake then
        perform pg_notify('jobs_wake_' || v_type.worker_pool, '');
    end if;
    return v_answer;
end;
$$;
comment on function jobs_api.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) is
'The privileged body of public.queue_job: call public.queue_job.';
revoke all on function jobs_api.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function jobs_api.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) to authenticated, service_role;
