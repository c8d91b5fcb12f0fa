-- Limits a platform can set, and the JSON every consumer can read.
--
-- Why: nothing bounded one user's load or what one job stores, and PostgreSQL accepts JSON
-- that workers cannot read. One queue_job with {"n": 1e5000} (a 5,001-digit integer once
-- stored) or arrays nested 2,000 deep stopped every Python worker of its pool; queueing and
-- cancelling in rounds made 500 jobs in 1.7 s (the queued cap counts only queued jobs); one
-- report attached 100 assets of 900 KB metadata each, at paths in another user's folder.
--   * jobs_private.settings: the per-user rate of new jobs (jobs_per_minute, job_burst: a
--     token bucket; null rate = none), the metadata one request copies into its jobs
--     (max_set_metadata_bytes), and what one job's report stores (max_assets_per_job,
--     max_asset_metadata_bytes). Constant defaults: no rewrite of the one-row table.
--   * jobs_private.job_rates: one timestamp per user, the bucket's state (new table).
--   * public.job_types.asset_path_prefix: where asset paths must lie (default the owner's
--     folder, '{user_id}/'); a nullable column with a constant default: no rewrite.
--   * jobs_private.json_violation: the JSON rule (32 levels, |n| < 1e308).
--   * queue_job and job_callback apply them (22023 naming the bound, PT429 for the rate);
--     their headers put pg_temp last in search_path. `create or replace` keeps the grants.

alter table jobs_private.settings
add column jobs_per_minute integer default 60
constraint settings_jobs_per_minute_check check (jobs_per_minute between 1 and 100000),
add column job_burst integer not null default 30
constraint settings_job_burst_check check (job_burst between 1 and 100000),
add column max_set_metadata_bytes integer not null default 131072
constraint settings_max_set_metadata_bytes_check
check (max_set_metadata_bytes between 1024 and 16777216),
add column max_assets_per_job integer not null default 10
constraint settings_max_assets_per_job_check check (max_assets_per_job between 1 and 100),
add column max_asset_metadata_bytes integer not null default 32768
constraint settings_max_asset_metadata_bytes_check
check (max_asset_metadata_bytes between 2 and 16777216),
-- validated by the next migration (README: migration checklist)
add constraint settings_job_burst_covers_a_request_check
check (job_burst >= max_images_per_request) not valid;
comment on table jobs_private.settings is
'One row of tunables: per-user cap on queued jobs, images per request, retry backoff (exponential from retry_base_seconds, capped at retry_max_seconds, +-25% jitter), retention of failed/cancelled jobs, and the per-user limits: new jobs per minute with a burst, metadata a request may copy into its jobs, assets and asset metadata a job may store.';
comment on column jobs_private.settings.jobs_per_minute is
'New jobs per user per minute, sustained (a token bucket refilled at this rate; queue_job takes num_images tokens or refuses with PT429). Null: no rate limit.';
comment on column jobs_private.settings.job_burst is
'Tokens of a full bucket: the jobs a user may queue at once after being idle. At least max_images_per_request.';
comment on column jobs_private.settings.max_set_metadata_bytes is
'Bytes of metadata (with the prompt) one queue_job may copy into its jobs: (metadata + prompt) x num_images; 22023 past it.';
comment on column jobs_private.settings.max_assets_per_job is
'Assets one job may get (job_callback); 22023 past it.';
comment on column jobs_private.settings.max_asset_metadata_bytes is
'Bytes of asset metadata one job may store, all its assets together (job_callback); 22023 past it.';

create table jobs_private.job_rates (
    user_id uuid primary key references public.profiles (id) on delete cascade,
    refilled_at timestamptz not null
)
with (fillfactor = 70);
comment on table jobs_private.job_rates is
'Per user, when the token bucket of new jobs (settings.jobs_per_minute, job_burst) is full again; written only by queue_job. A row whose refilled_at is past may be deleted.';
revoke all on table jobs_private.job_rates from public;

alter table public.job_types
add column asset_path_prefix text default '{user_id}/'
constraint job_types_asset_path_prefix_check
check (char_length(asset_path_prefix) between 1 and 200);
comment on column public.job_types.asset_path_prefix is
'Where a report''s asset paths (url and thumbnail_url) must lie in the output bucket: each must start with this prefix, {user_id} and {job_id} replaced by the job''s, and be a key Supabase Storage accepts (characters A-Za-z0-9 and _/!-.*''() &$@=;:+,?, no empty, "." or ".." segment). Default: the job owner''s folder, as the app lays out Storage. Null: paths are not checked (outputs kept outside Storage).';

-- The JSON rule: what a client may store as JSON (queue_job's metadata, a report's metadata,
-- each asset's metadata), so that every consumer can read it back. PostgreSQL accepts JSON
-- that common readers cannot: a document nested 2,000 deep makes Python's json raise
-- RecursionError (JavaScript engines and other parsers have limits too), and jsonb keeps any
-- numeric, so {"n": 1e5000} comes back as a 5,001-digit integer that Python's json refuses
-- (int-string limit: 4,300 digits) and JSON.parse reads as Infinity. The rule:
--   * nested at most 32 levels (each array or object is a level: {"a": [1]} has 2);
--   * every number has an absolute value below 1e308, so it is finite as an IEEE double
--     (JSON.parse, Python's float) and, written out by PostgreSQL (never with an exponent),
--     an integer of at most 308 digits (Python's int-string limit is 4,300).
-- Null when doc follows the rule (or is null), else what is wrong, to follow the name of the
-- document in a 22023 message. Both checks read at most 33 levels, so a document nested
-- deeper than PostgreSQL's stack allows elsewhere is refused here without running out of it.
create function jobs_private.json_violation(doc jsonb)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    -- the common case in one expression: a container at level 32 means 33 levels, and a
    -- number inside 32 levels is at level 32
    if json_violation.doc is null or not pg_catalog.jsonb_path_match(
        json_violation.doc,
        'strict exists($.**{32} ? (@.type() == "object" || @.type() == "array"))'
        ' || exists($.**{0 to 32} ? (@.type() == "number" && (@ >= 1e308 || @ <= -1e308)))'
    ) then
        return null;
    end if;
    if pg_catalog.jsonb_path_exists(
        json_violation.doc, 'strict $.**{32} ? (@.type() == "object" || @.type() == "array")'
    ) then
        return 'is nested deeper than 32 levels of arrays and objects';
    end if;
    return 'holds a number whose absolute value is 1e308 or more: JSON readers (JSON.parse, '
        'Python''s json) cannot read it as a finite number';
end;
$$;
comment on function jobs_private.json_violation(jsonb) is
'The JSON rule for what clients store: nested at most 32 levels, every number of absolute value below 1e308 (finite as a double, an integer of at most 308 digits). Null when doc follows it, else what is wrong.';
revoke all on function jobs_private.json_violation(jsonb)
from public, anon, authenticated, service_role;

-- The privileged body of public.queue_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no INSERT on jobs; this function is the one way they create jobs,
-- always for auth.uid(), with every input validated and derived columns taken from job_types.
create or replace function jobs_api.queue_job(
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
begin
    if v_uid is null then
        raise exception using errcode = '42501', message = 'queue_job needs a signed-in user',
            hint = 'Call it with the user''s JWT (request.jwt.claims.sub).';
    end if;
    -- One statement for the type and the settings: every statement of a plpgsql function is an
    -- executor start-up on the hot path.
    -- The pool's claim floor too (jobs_private.claim_floors): the head of the queue is read
    -- from it, and a new job ranks at or above it.
    select t.*, s.max_images_per_request, s.max_queued_per_user, s.jobs_per_minute, s.job_burst,
        s.max_set_metadata_bytes,
        coalesce(f.neg_priority, -32768) as floor_np,
        coalesce(f.fair_rank, -9223372036854775808) as floor_rank,
        coalesce(f.id, '00000000-0000-0000-0000-000000000000') as floor_id,
        f.worker_pool is not null as has_floor
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
    if v_prompt is null or btrim(v_prompt) = '' then
        -- An exact copy (the app's copy of a reference image) needs no prompt; any other job does.
        if not coalesce(
            queue_job.metadata -> 'exact_copy_mode' = 'true'::jsonb
            and btrim(queue_job.metadata ->> 'reference_image_url') <> '',
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

    -- One queue_job at a time per user: makes the cap and the idempotency check exact under
    -- concurrent retries without serialising different users.
    perform pg_advisory_xact_lock(hashtext('jobsdb.queue_job'), hashtext(v_uid::text));

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

    -- In one statement: the user's profile, their queued jobs (for the cap, counted up to one
    -- past it), the head of the pool's queue (the claim's first candidate, read on
    -- jobs_claim_idx from the pool's claim floor) and the user's latest fair rank in the pool.
    select
        exists (select from public.profiles as p where p.id = v_uid),
        (
            select count(*) from (
                select
                from public.jobs as j
                where j.user_id = v_uid and j.status = 'queued'
                limit v_type.max_queued_per_user + 1
            ) as q
        ),
        h.fair_rank, h.run_at,
        (
            select max(j.fair_rank) from public.jobs as j
            where j.user_id = v_uid and j.status in ('queued', 'processing')
            and j.worker_pool = v_type.worker_pool and j.fair_rank < 4611686018427387904
        )
    into v_has_profile, v_queued, v_head_rank, v_head_run_at, v_user_rank
    from (select) as one
    left join lateral (
        select j.fair_rank, j.run_at
        from public.jobs as j
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
    -- or take nothing, in one statement. A replayed idempotency key returned above and costs
    -- nothing; a cancelled job gives nothing back, so queueing and cancelling in rounds is held
    -- to the rate too. Exact under concurrency: the per-user lock above and the row's lock.
    if v_type.jobs_per_minute is not null then
        insert into jobs_private.job_rates as r (user_id, refilled_at)
        values (
            v_uid, v_now + make_interval(secs => 60.0 * queue_job.num_images / v_type.jobs_per_minute)
        )
        on conflict (user_id) do update
        set refilled_at = greatest(r.refilled_at, v_now)
            + make_interval(secs => 60.0 * queue_job.num_images / v_type.jobs_per_minute)
        where greatest(r.refilled_at, v_now) + make_interval(
            secs => 60.0 * (queue_job.num_images - v_type.job_burst) / v_type.jobs_per_minute
        ) <= v_now;
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
        insert into public.jobs (
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
    select jobs_private.job_group_json(v_group, false, array_agg(n::public.jobs)) into v_answer
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

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.queue_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.queue_job.
create or replace function public.queue_job(
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
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.queue_job(
        queue_job.job_type,
        queue_job.prompt,
        queue_job.metadata,
        queue_job.quality,
        queue_job.num_images,
        queue_job.project_id,
        queue_job.destination,
        queue_job.workspace_session_id,
        queue_job.template_name,
        queue_job.api_model_id,
        queue_job.idempotency_key,
        queue_job.priority,
        queue_job.run_after
    );
end;
$$;
comment on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) is
'Queue a generation job (num_images jobs sharing metadata.job_id) for the signed-in user. Returns {group_id, deduplicated, jobs:[...]}. Errors: 22023 bad input (the message names it: a bound, the JSON rule), 42501 not signed in or priority/run_after without admin, PT429 per-user queued cap or rate of new jobs (detail retry_after_seconds=N for the rate).';
revoke all on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) to authenticated, service_role;

-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply); kept a definer in
-- public because it is the hot path. Always fenced for workers: a jobs_worker caller must present
-- the lease_token of its claim (42501 without), and a report from an attempt that was rescued
-- or superseded changes nothing (stale). Only a trusted caller (service_role: the job-callback
-- edge function relaying the app's older worker payload) may report without a token; that
-- report is applied to whichever attempt is running. Time is the server's (now()).
create or replace function public.job_callback(
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
    from public.jobs as j
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
'Worker / job-callback edge function: report the outcome of a claim. completed: one images_videos row per asset (path or {type,url,thumbnail_url,metadata}), the first linked as image_id or video_id, metadata merged, analytics columns filled. failed: requeued with backoff while attempts remain and retryable, else failed. Answers result = completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job. Errors: 42501 a jobs_worker report without lease_token (only service_role may omit it), 22023 bad payload (the message names it: more assets than settings.max_assets_per_job, asset metadata over settings.max_asset_metadata_bytes, a path outside job_types.asset_path_prefix, the JSON rule), PT409 a report conflicting with the recorded outcome.';
revoke all on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) to jobs_worker, service_role;
