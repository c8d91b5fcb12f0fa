-- bench.scale --before: jobsdb 1.9.0's reads of a user's newest jobs (through every partition),
-- as public.<name>_before, measured beside 1.10.0's (which leave sealed history out) in the
-- same rounds. Made from functions/api/*.sql of 1.9.0, renamed.
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
