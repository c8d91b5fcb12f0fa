-- What the app and the admins read: job lists, a job with its outputs, workspace groups, library
-- items, asset info, system metrics; admin moderation and retry; retention of failed and
-- cancelled jobs; the pg_cron schedules (rescue, retention) when the extension exists.

-- ===== functions/private/asset_json.sql
create function jobs_private.asset_json(asset public.images_videos, job public.jobs)
returns jsonb
language sql
stable
set search_path = ''
as $$
    select jsonb_build_object(
        'asset_id', asset.id, 'job_id', job.id, 'asset_index', asset.asset_index,
        'type', asset.asset_type, 'bucket', asset.bucket, 'file_path', asset.file_path,
        'file_name', asset.file_name, 'thumbnail_path', asset.thumbnail_path,
        'job_type', job.job_type, 'model_type', job.model_type, 'quality', job.quality,
        'format', job.format, 'created_at', asset.created_at,
        'metadata', (job.metadata - 'job_id') || asset.metadata || jsonb_strip_nulls(jsonb_build_object(
            'job_id', job.metadata -> 'job_id', 'model_type', job.model_type,
            'quality', job.quality, 'enhancement_strategy', job.enhancement_strategy,
            'enhanced_prompt', job.enhanced_prompt, 'original_prompt', job.original_prompt,
            'template_name', job.template_name
        ))
    );
$$;
comment on function jobs_private.asset_json(public.images_videos, public.jobs) is
'One output asset as the app shows it: storage bucket, model type, format and the metadata enriched from its job (what the app''s AssetService derived).';
revoke all on function jobs_private.asset_json(public.images_videos, public.jobs)
from public, anon, authenticated, service_role;
grant execute on function jobs_private.asset_json(public.images_videos, public.jobs)
to authenticated;

-- ===== functions/api/list_jobs.sql
create function public.list_jobs(
    status text default null,
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns setof public.jobs
language plpgsql
stable
set search_path = ''
as $$
begin
    return query
    select j.*
    from public.jobs as j
    where j.user_id = (select auth.uid())
        and (list_jobs.status is null or j.status = list_jobs.status)
        and (
            list_jobs.before is null
            or j.created_at <= list_jobs.before
            and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
        )
    order by j.created_at desc, j.id desc
    limit least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
end;
$$;
comment on function public.list_jobs(text, timestamptz, integer, uuid) is
'The signed-in user''s jobs, newest first, optionally of one status; page with before = the created_at and before_id = the id of the last row seen (keyset; jobs of one set share created_at). At most 200 rows.';
revoke all on function public.list_jobs(text, timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.list_jobs(text, timestamptz, integer, uuid) to authenticated;

-- ===== functions/api/get_job.sql
create function public.get_job(job_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        select to_jsonb(j) - 'lease_token' || jsonb_build_object(
            'assets', coalesce((
                select jsonb_agg(jobs_private.asset_json(iv, j) order by iv.asset_index)
                from public.images_videos as iv
                where iv.job_id = j.id
            ), '[]')
        )
        from public.jobs as j
        where j.id = get_job.job_id
    );
end;
$$;
comment on function public.get_job(uuid) is
'One job of the signed-in user (admins: any) with its outputs (assets with bucket, model type and enriched metadata); null when there is no such job for this user.';
revoke all on function public.get_job(uuid) from public, anon, authenticated, service_role;
grant execute on function public.get_job(uuid) to authenticated;

-- ===== functions/api/asset_info.sql
create function public.asset_info(asset_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        select jobs_private.asset_json(iv, j)
        from public.images_videos as iv
        inner join public.jobs as j on j.id = iv.job_id
        where iv.id = asset_info.asset_id
    );
end;
$$;
comment on function public.asset_info(uuid) is
'An output asset of the signed-in user with its storage bucket, model type, format and metadata enriched from its job; null when there is no such asset for this user. For all assets of a job use get_job.';
revoke all on function public.asset_info(uuid) from public, anon, authenticated, service_role;
grant execute on function public.asset_info(uuid) to authenticated;

-- ===== functions/api/workspace_groups.sql
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

-- ===== functions/api/library_items.sql
create function public.library_items(
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        with page as (
            select j
            from public.jobs as j
            where j.user_id = (select auth.uid())
                and j.status = 'completed'
                and (
                    library_items.before is null
                    or j.created_at <= library_items.before
                    and (j.created_at < library_items.before or j.id < library_items.before_id)
                )
                and exists (select from public.images_videos as iv where iv.job_id = j.id)
            order by j.created_at desc, j.id desc
            limit least(greatest(coalesce(library_items.max_rows, 50), 1), 200)
        )
        select jsonb_build_object(
            'items', coalesce(jsonb_agg(jsonb_build_object(
                'job_id', (p.j).id, 'job_type', (p.j).job_type, 'created_at', (p.j).created_at,
                'completed_at', (p.j).completed_at, 'prompt', (p.j).metadata -> 'prompt',
                'assets', (
                    select jsonb_agg(jobs_private.asset_json(iv, p.j) order by iv.asset_index)
                    from public.images_videos as iv
                    where iv.job_id = (p.j).id
                )
            ) order by (p.j).created_at desc, (p.j).id desc), '[]'),
            'next', jsonb_build_object(
                'before', min((p.j).created_at),
                'before_id', (array_agg((p.j).id order by (p.j).created_at, (p.j).id))[1]
            )
        )
        from page as p
    );
end;
$$;
comment on function public.library_items(timestamptz, integer, uuid) is
'The Library page: the signed-in user''s completed jobs that have outputs, newest first, with their assets. Keyset pagination: pass next.before and next.before_id of the previous page.';
revoke all on function public.library_items(timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.library_items(timestamptz, integer, uuid) to authenticated;

-- ===== functions/admin/review_job.sql
-- Security definer: users have no UPDATE on jobs; admins review through this function only.
create function public.review_job(
    job_id uuid,
    moderation_status text,
    review_notes text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_admin uuid := jobs_private.require_admin();
    v_job public.jobs;
begin
    if v_admin is null then
        raise exception using errcode = '42501', message = 'a review needs the reviewing admin''s user id',
            hint = 'Call review_job with the admin''s JWT.';
    end if;
    if review_job.moderation_status is null
        or review_job.moderation_status not in ('pending', 'approved', 'rejected', 'flagged') then
        raise exception using errcode = '22023',
            message = 'moderation_status must be pending, approved, rejected or flagged';
    end if;
    if char_length(review_job.review_notes) > 10000 then
        raise exception using errcode = '22023', message = 'review_notes is longer than 10000 characters';
    end if;
    update public.jobs as j
    set moderation_status = review_job.moderation_status,
        review_notes = review_job.review_notes,
        reviewed_by = v_admin,
        reviewed_at = now()
    where j.id = review_job.job_id
    returning * into v_job;
    if not found then
        raise exception using errcode = 'PT404', message = 'job not found';
    end if;
    return jsonb_build_object(
        'id', v_job.id, 'moderation_status', v_job.moderation_status,
        'reviewed_by', v_job.reviewed_by, 'reviewed_at', v_job.reviewed_at,
        'review_notes', v_job.review_notes
    );
end;
$$;
comment on function public.review_job(uuid, text, text) is
'Admin: record a moderation decision (moderation_status, review_notes); reviewed_by is the calling admin, reviewed_at now. Errors: 42501 not an admin, 22023 bad status, PT404 no such job.';
revoke all on function public.review_job(uuid, text, text)
from public, anon, authenticated, service_role;
grant execute on function public.review_job(uuid, text, text) to authenticated;

-- ===== functions/admin/retry_job.sql
-- Security definer: admins retry through this function only (users have no UPDATE on jobs).
create function public.retry_job(job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    perform jobs_private.require_admin();
    select * into v_job from public.jobs as j where j.id = retry_job.job_id for update;
    if not found then
        raise exception using errcode = 'PT404', message = 'job not found';
    end if;
    if v_job.status <> 'failed' then
        raise exception using errcode = 'PT409',
            message = format('job status cannot change from %s to queued', v_job.status),
            hint = 'Only failed jobs can be retried.';
    end if;
    -- A fresh set of attempts; the fencing token of any old attempt stays stale because every
    -- claim draws a new lease_token.
    update public.jobs as j
    set status = 'queued', attempts = 0, run_at = now()
    where j.id = v_job.id;
    perform pg_notify('jobs_wake_' || v_job.worker_pool, '');
    return jsonb_build_object('id', v_job.id, 'status', 'queued', 'previous_error', v_job.error_message);
end;
$$;
comment on function public.retry_job(uuid) is
'Admin (or service role): put a failed job back in the queue with a fresh set of attempts. Errors: 42501 not an admin, PT404 no such job, PT409 not failed.';
revoke all on function public.retry_job(uuid) from public, anon, authenticated, service_role;
grant execute on function public.retry_job(uuid) to authenticated, service_role;

-- ===== functions/admin/purge_finished_jobs.sql
-- Security definer: run by pg_cron and by admins; nobody has DELETE on jobs but the service role.
-- Completed jobs are kept (the spec retains them for history and analytics). One bounded
-- batch per call, oldest first, skipping rows another transaction holds: it never waits on
-- and never blocks the queue. Call it again while it returns batch_size.
create function public.purge_finished_jobs(
    older_than interval default null,
    batch_size integer default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_settings jobs_private.settings;
    v_deleted integer;
begin
    perform jobs_private.require_admin();
    select * into v_settings from jobs_private.settings;
    if purge_finished_jobs.older_than < interval '0' then
        raise exception using errcode = '22023', message = 'older_than must not be negative';
    end if;
    if purge_finished_jobs.batch_size not between 1 and 10000 then
        raise exception using errcode = '22023', message = 'batch_size must be between 1 and 10000';
    end if;
    with doomed as (
        select j.id
        from public.jobs as j
        where j.status in ('failed', 'cancelled')
            and j.completed_at < now() - coalesce(purge_finished_jobs.older_than, v_settings.purge_failed_after)
        order by j.completed_at
        limit coalesce(purge_finished_jobs.batch_size, v_settings.purge_batch_size)
        for update skip locked
    )
    delete from public.jobs as j
    using doomed as d
    where j.id = d.id;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end;
$$;
comment on function public.purge_finished_jobs(interval, integer) is
'Admin / pg_cron: delete one batch of failed and cancelled jobs finished longer ago than older_than (default: settings.purge_failed_after). Completed jobs are never purged. Returns the number deleted.';
revoke all on function public.purge_finished_jobs(interval, integer)
from public, anon, authenticated, service_role;
grant execute on function public.purge_finished_jobs(interval, integer)
to authenticated, service_role;

-- ===== functions/admin/system_metrics.sql
-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures read the window's finished jobs per job type through jobs_job_type_idx
-- (job_type, completed_at), one range scan per type, never the whole table.
-- Security definer, after require_admin: an admin sees every row anyway, and the select
-- policy's owner-id range (every id, for an admin) only misleads the planner here (a 24-hour
-- window took 1 s instead of 10 ms through RLS at 1,000,000 jobs).
create function public.system_metrics(
    time_window interval default '1 hour',
    now timestamptz default null
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_now timestamptz := coalesce(system_metrics.now, pg_catalog.now());
    v_since timestamptz;
    v_queue jsonb;
    v_types jsonb;
    v_leases jsonb;
begin
    perform jobs_private.require_admin();
    if not isfinite(v_now) then
        raise exception using errcode = '22023', message = 'now must be a finite timestamp';
    end if;
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
comment on function public.system_metrics(interval, timestamptz) is
'Admins and the service role: queue depth per pool and status (ready and oldest age), leases (processing, expired, active workers), and per job type over time_window: completed/failed/cancelled, failure and retry rates, average/p50/p95 run time and average time from queue to done. Errors: 42501 not an admin, 22023 bad window.';
revoke all on function public.system_metrics(interval, timestamptz)
from public, anon, authenticated, service_role;
grant execute on function public.system_metrics(interval, timestamptz)
to authenticated, service_role;

-- ===== sql/95_schedule.sql
-- With pg_cron (hosted Supabase), rescue expired leases every minute without any worker, and
-- purge one batch of old failed/cancelled jobs every five minutes.
-- Without it, workers call rescue_expired_jobs() themselves (the worker client does).
do $$
begin
    if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform cron.schedule(
            'jobsdb-rescue-expired-jobs', '* * * * *', 'select public.rescue_expired_jobs()'
        );
        perform cron.schedule(
            'jobsdb-purge-finished-jobs', '*/5 * * * *', 'select public.purge_finished_jobs()'
        );
    end if;
end
$$;
