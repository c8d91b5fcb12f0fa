-- The privileged body of public.system_metrics (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures read the window's finished jobs per job type through jobs_job_type_idx
-- (job_type, completed_at), one range scan per type, never the whole table.
-- Security definer, after require_admin: an admin sees every row anyway, and the select
-- policy's owner-id range (every id, for an admin) only misleads the planner here (a 24-hour
-- window took 1 s instead of 10 ms through RLS at 1,000,000 jobs).
create function jobs_api.system_metrics(time_window interval default '1 hour')
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
comment on function jobs_api.system_metrics(interval) is
'The privileged body of public.system_metrics: call public.system_metrics.';
revoke all on function jobs_api.system_metrics(interval)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.system_metrics(interval)
to authenticated, service_role;
