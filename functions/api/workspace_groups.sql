-- Groups are the jobs of one queue_job call (metadata.job_id); they share created_at, so the
-- newest groups are found by reading the user's newest jobs (jobs_user_created_idx) and at most
-- 16 jobs per group (settings.max_images_per_request is at most 16). A group's jobs are then
-- read by (user_id, created_at) too: under RLS, the jsonb ->> of the group id is not leakproof
-- and cannot be an index condition, so without created_at every group would scan all of the
-- user's jobs (700 ms for a user with 20,000 jobs).
create function public.workspace_groups(
    before timestamptz default null,
    before_group uuid default null,
    max_groups integer default 20,
    workspace_session_id uuid default null
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        with params as (
            select
                (select auth.uid()) as uid,
                least(greatest(coalesce(workspace_groups.max_groups, 20), 1), 100) as n
        ),
        recent as (
            select j.metadata ->> 'job_id' as group_id, j.created_at
            from public.jobs as j, params as p
            where j.user_id = p.uid
                and (
                    workspace_groups.before is null
                    or j.created_at < workspace_groups.before
                    or j.created_at = workspace_groups.before
                    and (j.metadata ->> 'job_id') < workspace_groups.before_group::text
                )
                and (workspace_groups.workspace_session_id is null
                    or j.workspace_session_id = workspace_groups.workspace_session_id)
            order by j.created_at desc
            limit least(greatest(coalesce(workspace_groups.max_groups, 20), 1), 100) * 16
        ),
        picked as (
            select r.group_id, max(r.created_at) as created_at
            from recent as r
            group by r.group_id
            order by max(r.created_at) desc, r.group_id desc
            limit (select p.n from params as p)
        ),
        groups as (
            select g.group_id, g.created_at, jsonb_build_object(
                'group_id', g.group_id,
                'created_at', g.created_at,
                'jobs', (
                    select jsonb_agg(jsonb_build_object(
                        'id', j.id, 'job_type', j.job_type, 'status', j.status,
                        'image_index', j.metadata -> 'image_index', 'prompt', j.metadata -> 'prompt',
                        'error_message', j.error_message, 'completed_at', j.completed_at
                    ) order by j.metadata -> 'image_index', j.id)
                    from public.jobs as j, params as p
                    where j.user_id = p.uid and j.created_at = g.created_at
                        and (j.metadata ->> 'job_id') = g.group_id
                ),
                'assets', coalesce((
                    select jsonb_agg(jobs_private.asset_json(iv, j)
                        order by j.metadata -> 'image_index', iv.asset_index)
                    from public.jobs as j
                    cross join params as p
                    inner join public.images_videos as iv on iv.job_id = j.id
                    where j.user_id = p.uid and j.created_at = g.created_at
                        and (j.metadata ->> 'job_id') = g.group_id
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
