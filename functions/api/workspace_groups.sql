-- Groups are the jobs of one queue_job call (metadata.job_id); they share created_at, so the
-- newest groups are found by reading the user's newest jobs (jobs_user_created_idx) and at most
-- 16 jobs per group (settings.max_images_per_request is at most 16). A group's jobs are then
-- read by (user_id, created_at) too: under RLS, the jsonb ->> of the group id is not leakproof
-- and cannot be an index condition, so without created_at every group would scan all of the
-- user's jobs (700 ms for a user with 20,000 jobs).
-- Sealed history first left out, as in list_jobs: the jobs are read from the hot leaf's ids
-- (jobs_api.history_split), and that is the answer when the groups were all found there and
-- the last of them is newer than every sealed job (then so are all their jobs); otherwise they
-- are read again from every partition.
create function public.workspace_groups(
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
    v_n integer := least(greatest(coalesce(workspace_groups.max_groups, 20), 1), 100);
    v_ids text[] := '{}'::text[];
    v_newest timestamptz[] := '{}'::timestamptz[];
    c_every constant uuid := '00000000-0000-0000-0000-000000000000'::uuid;
    v_below uuid;
    v_upto timestamptz;
    v_from uuid;
    v_full boolean;
    c_recent refcursor;
    r record;
begin
    -- The user's newest jobs (at most 16 per group), newest first, read only as far as needed:
    -- once v_n groups are seen and the jobs reach an older created_at than the v_n-th group's
    -- newest job, every group not seen yet ranks below them. A group's newest created_at is
    -- that of its first job seen. A cursor fetched row by row (a for loop reads 10, then 50).
    select s.below, s.created_upto into v_below, v_upto from jobs_api.history_split() as s;
    v_from := case when v_upto is not null then coalesce(v_below, c_every) else c_every end;
    loop
        v_ids := '{}'::text[];
        v_newest := '{}'::timestamptz[];
        v_full := false;
        open c_recent for
            select j.metadata ->> 'job_id' as group_id, j.created_at
            from public.jobs as j
            where j.user_id = v_uid
                and j.id >= v_from
                and (
                    workspace_groups.before is null
                    or j.created_at < workspace_groups.before
                    or j.created_at = workspace_groups.before
                    and (j.metadata ->> 'job_id') < workspace_groups.before_group::text
                )
                and (workspace_groups.workspace_session_id is null
                    or j.workspace_session_id = workspace_groups.workspace_session_id)
            order by j.created_at desc
            limit v_n * 16;
        loop
            fetch c_recent into r;
            exit when not found;
            v_full := pg_catalog.cardinality(v_ids) >= v_n and r.created_at < v_newest[v_n];
            exit when v_full;
            if pg_catalog.array_position(v_ids, r.group_id) is null then
                v_ids := v_ids || r.group_id;
                v_newest := v_newest || r.created_at;
            end if;
        end loop;
        close c_recent;
        -- the groups are all known, and newer than every sealed job: so are their jobs
        exit when v_from = c_every or v_full and v_newest[v_n] > v_upto;
        v_from := c_every;
    end loop;
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
                where j.user_id = v_uid and j.created_at = g.created_at and j.id >= v_from
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
comment on function public.workspace_groups(timestamptz, uuid, integer, uuid) is
'The Workspace page: the signed-in user''s job groups (jobs sharing metadata.job_id, e.g. 1x3 image sets) with their jobs and assets, newest first. Keyset pagination: pass next.before and next.before_group of the previous page.';
revoke all on function public.workspace_groups(timestamptz, uuid, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.workspace_groups(timestamptz, uuid, integer, uuid)
to authenticated;
