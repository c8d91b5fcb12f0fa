-- bench.scale --before: jobsdb 1.9.0's reads that go through every partition (list_jobs,
-- library_items, workspace_groups, system_metrics) as public.<name>_before, measured beside
-- 1.10.0's, which leave sealed history out, in the same rounds. Made from 1.9.0's
-- functions/api/*.sql and functions/jobs_api/system_metrics.sql, renamed.
-- One query per kind of status, each with its kind as a literal, so that the plan cached for it
-- (generic after five calls) reads that kind's own index: queued and processing
-- jobs_user_active_idx, failed and cancelled jobs_user_failed_cancelled_idx, every job or the
-- completed ones (most of a history) jobs_user_created_idx until the page is full. With one
-- query for every status, the generic plan walked jobs_user_created_idx and filtered, so
-- list_jobs_before(status => 'queued') read every job of the user to find the few it answers (10,000
-- heap rows for a user with 10,000 jobs). Not a plan per call (plan_cache_mode): planning over
-- jobs' indexes added half a millisecond to every call, the unfiltered page the most.
create or replace function public.list_jobs_before(
    status text default null,
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns setof public.jobs
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if list_jobs_before.status in ('queued', 'processing') then
        return query
        select j.*
        from public.jobs as j
        where j.user_id = (select auth.uid())
            and j.status in ('queued', 'processing')
            and j.status = list_jobs_before.status
            and (
                list_jobs_before.before is null
                or j.created_at <= list_jobs_before.before
                and (j.created_at < list_jobs_before.before or j.id < list_jobs_before.before_id)
            )
        order by j.created_at desc, j.id desc
        limit least(greatest(coalesce(list_jobs_before.max_rows, 50), 1), 200);
    elsif list_jobs_before.status in ('failed', 'cancelled') then
        return query
        select j.*
        from public.jobs as j
        where j.user_id = (select auth.uid())
            and j.status in ('failed', 'cancelled')
            and j.status = list_jobs_before.status
            and (
                list_jobs_before.before is null
                or j.created_at <= list_jobs_before.before
                and (j.created_at < list_jobs_before.before or j.id < list_jobs_before.before_id)
            )
        order by j.created_at desc, j.id desc
        limit least(greatest(coalesce(list_jobs_before.max_rows, 50), 1), 200);
    else
        return query
        select j.*
        from public.jobs as j
        where j.user_id = (select auth.uid())
            and (list_jobs_before.status is null or j.status = list_jobs_before.status)
            and (
                list_jobs_before.before is null
                or j.created_at <= list_jobs_before.before
                and (j.created_at < list_jobs_before.before or j.id < list_jobs_before.before_id)
            )
        order by j.created_at desc, j.id desc
        limit least(greatest(coalesce(list_jobs_before.max_rows, 50), 1), 200);
    end if;
end;
$$;
comment on function public.list_jobs_before(text, timestamptz, integer, uuid) is
'The signed-in user''s jobs, newest first, optionally of one status; page with before = the created_at and before_id = the id of the last row seen (keyset; jobs of one set share created_at). At most 200 rows.';
revoke all on function public.list_jobs_before(text, timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.list_jobs_before(text, timestamptz, integer, uuid) to authenticated;
-- Keyset pages: one row more than asked is read, so the last page is known when it is served:
-- its `next` is null (and an empty page's too). `next` is the created_at and id of the page's
-- last item; following it never starts over.
create or replace function public.library_items_before(
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_n integer := least(greatest(coalesce(library_items_before.max_rows, 50), 1), 200);
begin
    return (
        with page as (
            -- each job's assets are read once, here: a job without any is not an item
            select j, a.assets, row_number() over (order by j.created_at desc, j.id desc) as pos
            from public.jobs as j
            cross join lateral (
                -- jobs_private.asset_json's object, written out: a call of it per asset ran an
                -- expression of its own per asset (a page of 50 has 50 or more); keys, order and
                -- values stay asset_json's (tests/py/test_reads_unchanged.py compares them).
                -- An array of jsonb, not jsonb_agg: jsonb_agg rebuilds each element it takes
                -- (three passes over it) and the item's jsonb_build_object would read the
                -- result once more; the array's elements are read once, into the item.
                select array_agg(jsonb_build_object(
                    'asset_id', iv.id, 'job_id', j.id, 'asset_index', iv.asset_index,
                    'type', iv.asset_type, 'bucket', iv.bucket, 'file_path', iv.file_path,
                    'file_name', iv.file_name, 'thumbnail_path', iv.thumbnail_path,
                    'job_type', j.job_type, 'model_type', j.model_type, 'quality', j.quality,
                    'format', j.format, 'created_at', iv.created_at,
                    'metadata', (j.metadata - 'job_id') || iv.metadata || jsonb_strip_nulls(jsonb_build_object(
                        'job_id', j.metadata -> 'job_id', 'model_type', j.model_type,
                        'quality', j.quality, 'enhancement_strategy', j.enhancement_strategy,
                        'enhanced_prompt', j.enhanced_prompt, 'original_prompt', j.original_prompt,
                        'template_name', j.template_name
                    ))
                ) order by iv.asset_index) as assets
                from public.images_videos as iv
                where iv.job_id = j.id
            ) as a
            where j.user_id = (select auth.uid())
                and j.status = 'completed'
                and (
                    library_items_before.before is null
                    or j.created_at <= library_items_before.before
                    and (j.created_at < library_items_before.before or j.id < library_items_before.before_id)
                )
                and a.assets is not null
            order by j.created_at desc, j.id desc
            limit v_n + 1
        )
        -- The items as an array of jsonb too (the reason above): the answer's ~100 kB are
        -- written into the final object once, not through an aggregate that copies them
        -- first. Measured at 1,000,000 jobs (bench/README.md): about a quarter less time.
        -- No item: '{}', the empty array of jsonb, written [] as before.
        select jsonb_build_object(
            'items', coalesce(array_agg(jsonb_build_object(
                'job_id', (p.j).id, 'job_type', (p.j).job_type, 'created_at', (p.j).created_at,
                'completed_at', (p.j).completed_at, 'prompt', (p.j).metadata -> 'prompt',
                'assets', p.assets
            ) order by p.pos) filter (where p.pos <= v_n), '{}'),
            'next', case when max(p.pos) > v_n then jsonb_build_object(
                'before', (array_agg((p.j).created_at) filter (where p.pos = v_n))[1],
                'before_id', (array_agg((p.j).id) filter (where p.pos = v_n))[1]
            ) end
        )
        from page as p
    );
end;
$$;
comment on function public.library_items_before(timestamptz, integer, uuid) is
'The Library page: the signed-in user''s completed jobs that have outputs, newest first, with their assets. Keyset pagination: pass next.before and next.before_id of the previous page; next is null on the last page.';
revoke all on function public.library_items_before(timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.library_items_before(timestamptz, integer, uuid) to authenticated;
-- Groups are the jobs of one queue_job call (metadata.job_id); they share created_at, so the
-- newest groups are found by reading the user's newest jobs (jobs_user_created_idx) and at most
-- 16 jobs per group (settings.max_images_per_request is at most 16). A group's jobs are then
-- read by (user_id, created_at) too: under RLS, the jsonb ->> of the group id is not leakproof
-- and cannot be an index condition, so without created_at every group would scan all of the
-- user's jobs (700 ms for a user with 20,000 jobs).
create or replace function public.workspace_groups_before(
    before timestamptz default null,
    before_group uuid default null,
    max_groups integer default 20,
    workspace_session_id uuid default null
)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_uid uuid := auth.uid();
    v_n integer := least(greatest(coalesce(workspace_groups_before.max_groups, 20), 1), 100);
    v_ids text[] := '{}'::text[];
    v_newest timestamptz[] := '{}'::timestamptz[];
    c_recent refcursor;
    r record;
begin
    -- The user's newest jobs (at most 16 per group), newest first, read only as far as needed:
    -- once v_n groups are seen and the jobs reach an older created_at than the v_n-th group's
    -- newest job, every group not seen yet ranks below them. A group's newest created_at is
    -- that of its first job seen. A cursor fetched row by row (a for loop reads 10, then 50).
    open c_recent for
        select j.metadata ->> 'job_id' as group_id, j.created_at
        from public.jobs as j
        where j.user_id = v_uid
            and (
                workspace_groups_before.before is null
                or j.created_at < workspace_groups_before.before
                or j.created_at = workspace_groups_before.before
                and (j.metadata ->> 'job_id') < workspace_groups_before.before_group::text
            )
            and (workspace_groups_before.workspace_session_id is null
                or j.workspace_session_id = workspace_groups_before.workspace_session_id)
        order by j.created_at desc
        limit v_n * 16;
    loop
        fetch c_recent into r;
        exit when not found
            or pg_catalog.cardinality(v_ids) >= v_n and r.created_at < v_newest[v_n];
        if pg_catalog.array_position(v_ids, r.group_id) is null then
            v_ids := v_ids || r.group_id;
            v_newest := v_newest || r.created_at;
        end if;
    end loop;
    close c_recent;
    return (
        with picked as (
            select u.group_id, u.created_at
            from rows from (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_newest))
                as u (group_id, created_at)
            order by u.created_at desc, u.group_id desc
            limit v_n
        ),
        -- each picked group's jobs, read once (by user_id and created_at: under RLS, the jsonb
        -- ->> of the group id is not leakproof and cannot be an index condition)
        members as materialized (
            select g.group_id, m.j
            from picked as g
            cross join lateral (
                -- offset 0: one index lookup per group (joined, the planner hashed all of
                -- the user's jobs)
                select j
                from public.jobs as j
                where j.user_id = v_uid and j.created_at = g.created_at
                    and (j.metadata ->> 'job_id') = g.group_id
                offset 0
            ) as m
        ),
        groups as (
            select g.group_id, g.created_at, jsonb_build_object(
                'group_id', g.group_id,
                'created_at', g.created_at,
                'jobs', (
                    select jsonb_agg(jsonb_build_object(
                        'id', (m.j).id, 'job_type', (m.j).job_type, 'status', (m.j).status,
                        'image_index', (m.j).metadata -> 'image_index',
                        'prompt', (m.j).metadata -> 'prompt',
                        'error_message', (m.j).error_message, 'completed_at', (m.j).completed_at
                    ) order by (m.j).metadata -> 'image_index', (m.j).id)
                    from members as m
                    where m.group_id = g.group_id
                ),
                'assets', coalesce((
                    select jsonb_agg(jobs_private.asset_json(iv, m.j)
                        order by (m.j).metadata -> 'image_index', iv.asset_index)
                    from members as m
                    inner join public.images_videos as iv on iv.job_id = (m.j).id
                    where m.group_id = g.group_id
                ), '[]')
            ) as doc
            from picked as g
        )
        select jsonb_build_object(
            'groups', coalesce(jsonb_agg(g.doc order by g.created_at desc, g.group_id desc), '[]'),
            'next', (
                select jsonb_build_object('before', l.created_at, 'before_group', l.group_id)
                from groups as l
                order by l.created_at, l.group_id
                limit 1
            )
        )
        from groups as g
    );
end;
$$;
comment on function public.workspace_groups_before(timestamptz, uuid, integer, uuid) is
'The Workspace page: the signed-in user''s job groups (jobs sharing metadata.job_id, e.g. 1x3 image sets) with their jobs and assets, newest first. Keyset pagination: pass next.before and next.before_group of the previous page.';
revoke all on function public.workspace_groups_before(timestamptz, uuid, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.workspace_groups_before(timestamptz, uuid, integer, uuid)
to authenticated;

-- jobsdb 1.9.0's system_metrics (every partition), as public.system_metrics_before: the
-- privileged body itself, for the bench only (the package keeps such bodies out of public).
-- The privileged body of public.system_metrics (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures sum the roll-up of closed hours (jobs_private.rollup_job_metrics) and read
-- only the rest of the window from jobs, through jobs_job_type_idx (job_type, completed_at).
-- The percentiles count the window's run times per coarse bucket (whole days, then whole six
-- hours, then hours), then per bucket within the coarse one each percentile falls in, and read
-- the exact values of that bucket only: a 31-day window reads a few times what a day does, not
-- 31 times.
-- Security definer, after require_admin: an admin sees every row anyway, and the select
-- policy's owner-id range (every id, for an admin) only misleads the planner here (a 24-hour
-- window took 1 s instead of 10 ms through RLS at 1,000,000 jobs).
-- No JIT: the roll-up statement's estimates pass jit_above_cost and JIT compiling took
-- seconds for a 30 ms statement. A generic plan: planning the statement took 15-35 ms.
create or replace function public.system_metrics_before(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set jit = off
set plan_cache_mode = force_generic_plan
as $$
declare
    v_origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    v_now timestamptz := now();
    v_since timestamptz;
    v_queue jsonb;
    v_types jsonb;
    v_leases jsonb;
    v_bounds float8[];
begin
    perform jobs_private.require_admin();
    if system_metrics_before.time_window is null
        or system_metrics_before.time_window not between interval '1 minute' and interval '31 days' then
        raise exception using errcode = '22023', message = 'time_window must be between 1 minute and 31 days';
    end if;
    v_since := v_now - system_metrics_before.time_window;
    select b.from_seconds into v_bounds from jobs_private.job_metrics_run_bounds as b;

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

    -- Per job type over (v_since, v_now]: the closed hours inside the window that are rolled
    -- up and not marked stale come from the roll-up (jobs_private.rollup_job_metrics); the
    -- rest of the window (its open edges, any hour not rolled up) from jobs, one index range
    -- per gap and job type. One statement, one snapshot: a roll-up committing meanwhile is
    -- either wholly seen or not at all. The figures are those of the jobs themselves: counts
    -- and exact numeric sums add up, and p50/p95 are percentile_cont's own interpolation
    -- (float8, as it computes it) over the merged distribution of run times, found by bucket
    -- counts (a larger run time is never in a smaller bucket: job_metrics_run_bounds).
    with rolled as (
        select h.hour
        from jobs_private.job_metrics_hours as h
        where h.hour > v_since and h.hour + interval '1 hour' <= v_now
            and not exists (select from jobs_private.job_metrics_stale as m where m.hour = h.hour)
    ),
    gaps as (
        select pg_catalog.unnest(
            pg_catalog.tstzmultirange(pg_catalog.tstzrange(v_since, v_now, '(]'))
            - coalesce(
                (select pg_catalog.range_agg(pg_catalog.tstzrange(r.hour, r.hour + interval '1 hour'))
                from rolled as r),
                '{}'::pg_catalog.tstzmultirange
            )
        ) as span
    ),
    live as (
        select
            j.job_type, j.status, j.attempts,
            extract(epoch from j.completed_at - j.started_at) as run_seconds,
            extract(epoch from j.completed_at - j.created_at) as total_seconds
        from gaps as g
        cross join public.job_types as t
        cross join lateral (
            -- offset 0: one range scan of jobs_job_type_idx per gap and job type (flattened,
            -- the planner scanned the gap's range once across all types, a full index scan)
            select j.job_type, j.status, j.attempts, j.completed_at, j.started_at, j.created_at
            from public.jobs as j
            where j.job_type = t.job_type and j.completed_at is not null
                and j.completed_at >= pg_catalog.lower(g.span)
                and j.completed_at <= pg_catalog.upper(g.span)
                and j.completed_at operator(pg_catalog.<@) g.span
            offset 0
        ) as j
    ),
    parts as (
        select
            x.job_type, x.completed, x.failed, x.cancelled, x.retried,
            x.run_count, x.run_sum, x.total_count, x.total_sum
        -- the rolled-up hours' rows as one range (an hour's rows exist only while it is in
        -- job_metrics_hours: they are written and deleted together)
        from jobs_private.job_metrics_rollup as x
        where x.hour > v_since and x.hour <= v_now - interval '1 hour'
            and not exists (select from jobs_private.job_metrics_stale as m where m.hour = x.hour)
        union all
        select
            l.job_type,
            count(*) filter (where l.status = 'completed'),
            count(*) filter (where l.status = 'failed'),
            count(*) filter (where l.status = 'cancelled'),
            count(*) filter (where l.attempts > 1),
            count(l.run_seconds) filter (where l.status = 'completed'),
            sum(l.run_seconds) filter (where l.status = 'completed'),
            count(l.total_seconds) filter (where l.status = 'completed'),
            sum(l.total_seconds) filter (where l.status = 'completed')
        from live as l
        group by l.job_type
    ),
    totals as (
        select
            p.job_type,
            sum(p.completed)::bigint as completed, sum(p.failed)::bigint as failed,
            sum(p.cancelled)::bigint as cancelled, sum(p.retried)::bigint as retried,
            sum(p.run_count) as run_count, sum(p.run_sum) as run_sum,
            sum(p.total_count) as total_count, sum(p.total_sum) as total_sum
        from parts as p
        group by p.job_type
    ),
    live_runs as (
        select l.job_type, l.run_seconds, pg_catalog.width_bucket(l.run_seconds::float8, v_bounds) as bucket
        from live as l
        where l.status = 'completed' and l.run_seconds is not null
    ),
    blocks as (
        -- the whole UTC days and whole six hours (00, 06, 12, 18 UTC) of rolled-up hours
        -- inside the window: a block's rows exist exactly while all its hours are rolled up
        select z.hours, pg_catalog.date_bin(pg_catalog.make_interval(hours => z.hours), r.hour, v_origin)
            as period
        from rolled as r
        cross join (values (6::smallint), (24::smallint)) as z (hours)
        group by z.hours, pg_catalog.date_bin(pg_catalog.make_interval(hours => z.hours), r.hour, v_origin)
        having count(*) = z.hours
    ),
    periods as (
        -- the rolled-up part of the window in as few rows of job_metrics_run_buckets as there
        -- are: its whole days, its whole six hours outside them, then each other hour
        select b.period, b.hours
        from blocks as b
        where b.hours = 24 or not exists (
            select from blocks as d
            where d.hours = 24 and d.period = pg_catalog.date_bin(interval '1 day', b.period, v_origin)
        )
        union all
        select r.hour, 1::smallint
        from rolled as r
        where not exists (
            select from blocks as b
            where b.hours = 6 and b.period = pg_catalog.date_bin(interval '6 hours', r.hour, v_origin)
        )
    ),
    coarse as (
        -- the window's completed jobs per job type and coarse bucket of run time
        select c.job_type, c.bucket, sum(c.jobs) as jobs
        from (
            select b.job_type, b.bucket, b.jobs
            from periods as p
            inner join jobs_private.job_metrics_run_buckets as b
                on b.hours = p.hours and b.period = p.period and b.width = 32
            union all
            select l.job_type, l.bucket / 32, 1
            from live_runs as l
        ) as c
        group by c.job_type, c.bucket
    ),
    placed as (
        -- each coarse bucket's rows among the job type's sorted run times: [first_pos, next_pos)
        select
            c.job_type, c.bucket,
            sum(c.jobs) over (partition by c.job_type order by c.bucket) - c.jobs as first_pos,
            sum(c.jobs) over (partition by c.job_type order by c.bucket) as next_pos,
            sum(c.jobs) over (partition by c.job_type) as n
        from coarse as c
    ),
    wanted as (
        -- percentile_cont(p): rows first = floor(p * (n - 1)) and second = ceil(...) (0-based)
        -- of the sorted values, v1 + (v2 - v1) * (p * (n - 1) - first) when they differ
        select
            t.job_type, w.p, w.p * (t.n - 1)::float8 as pos,
            pg_catalog.floor(w.p * (t.n - 1)::float8)::bigint as first_row,
            pg_catalog.ceil(w.p * (t.n - 1)::float8)::bigint as second_row
        from (select distinct a.job_type, a.n from placed as a) as t
        cross join (values (0.5::float8), (0.95::float8)) as w (p)
    ),
    targets as (
        -- the coarse buckets those rows are in, with the first and last of them in each
        select a.job_type, a.bucket, a.first_pos, min(r.pos) as lo, max(r.pos) as hi
        from placed as a
        inner join wanted as w on w.job_type = a.job_type
        cross join lateral (values (w.first_row), (w.second_row)) as r (pos)
        where r.pos >= a.first_pos and r.pos < a.next_pos
        group by a.job_type, a.bucket, a.first_pos
    ),
    fine as (
        -- within each of them, the buckets that hold rows lo..hi
        select t.job_type, f.bucket, f.first_pos, t.lo, t.hi
        from targets as t
        cross join lateral (
            select
                x.bucket,
                t.first_pos + sum(x.jobs) over (order by x.bucket) - x.jobs as first_pos,
                t.first_pos + sum(x.jobs) over (order by x.bucket) as next_pos
            from (
                select u.bucket, sum(u.jobs) as jobs
                from (
                    select b.bucket, b.jobs
                    from periods as p
                    inner join jobs_private.job_metrics_run_buckets as b
                        on b.hours = p.hours and b.period = p.period and b.job_type = t.job_type
                        and b.width = 1 and b.bucket >= t.bucket * 32 and b.bucket < t.bucket * 32 + 32
                    union all
                    select l.bucket, 1
                    from live_runs as l
                    where l.job_type = t.job_type and l.bucket / 32 = t.bucket
                ) as u
                group by u.bucket
            ) as x
        ) as f
        where f.next_pos > t.lo and f.first_pos <= t.hi
    ),
    ranked as (
        -- the exact values of those buckets at rows lo..hi. A rolled-up run time's hour is in
        -- job_metrics_hours (they are written and deleted together), so the window's bounds and
        -- the stale markers say which of them count.
        select t.job_type, y.run_seconds::float8 as v, y.first_pos, y.next_pos
        from fine as t
        cross join lateral (
            select
                x.run_seconds,
                t.first_pos + sum(x.jobs) over (order by x.run_seconds) - x.jobs as first_pos,
                t.first_pos + sum(x.jobs) over (order by x.run_seconds) as next_pos
            from (
                select u.run_seconds, sum(u.jobs) as jobs
                from (
                    select s.run_seconds, s.jobs
                    from jobs_private.job_metrics_run_seconds as s
                    where s.job_type = t.job_type and s.bucket = t.bucket
                        and s.hour > v_since and s.hour <= v_now - interval '1 hour'
                        and not exists (
                            select from jobs_private.job_metrics_stale as m where m.hour = s.hour
                        )
                    union all
                    select l.run_seconds, 1
                    from live_runs as l
                    where l.job_type = t.job_type and l.bucket = t.bucket
                ) as u
                group by u.run_seconds
            ) as x
        ) as y
        where y.next_pos > t.lo and y.first_pos <= t.hi
    ),
    pct as (
        select
            q.job_type, q.p,
            case when q.second_row > q.first_row
                then q.v1 + (q.v2 - q.v1) * (q.pos - q.first_row::float8)
                else q.v1
            end as value
        from (
            select
                w.job_type, w.p, w.pos, w.first_row, w.second_row,
                min(k.v) filter (where w.first_row >= k.first_pos and w.first_row < k.next_pos) as v1,
                min(k.v) filter (where w.second_row >= k.first_pos and w.second_row < k.next_pos) as v2
            from wanted as w
            inner join ranked as k on k.job_type = w.job_type
            group by w.job_type, w.p, w.pos, w.first_row, w.second_row
        ) as q
    )
    select coalesce(jsonb_agg(to_jsonb(s) order by s.job_type), '[]')
    into v_types
    from (
        select
            o.job_type, o.completed, o.failed, o.cancelled,
            round(o.failed::numeric / nullif(o.completed + o.failed, 0), 4) as failure_rate,
            round(o.retried::numeric / nullif(o.completed + o.failed + o.cancelled, 0), 4)
            as retry_rate,
            round(o.run_sum / nullif(o.run_count, 0), 3) as avg_run_seconds,
            round((select x.value from pct as x where x.job_type = o.job_type and x.p = 0.5)::numeric, 3)
            as p50_run_seconds,
            round((select x.value from pct as x where x.job_type = o.job_type and x.p = 0.95)::numeric, 3)
            as p95_run_seconds,
            round(o.total_sum / nullif(o.total_count, 0), 3) as avg_total_seconds
        from totals as o
        inner join public.job_types as t on t.job_type = o.job_type
        where o.completed + o.failed + o.cancelled > 0
    ) as s;

    return jsonb_build_object(
        'now', v_now, 'since', v_since,
        'queue', v_queue, 'leases', v_leases, 'job_types', v_types
    );
end;
$$;
comment on function public.system_metrics_before(interval) is
'The privileged body of public.system_metrics: call public.system_metrics.';
revoke all on function public.system_metrics_before(interval)
from public, anon, authenticated, service_role;
grant execute on function public.system_metrics_before(interval)
to authenticated, service_role;
grant execute on function public.system_metrics_before(interval) to authenticated;
