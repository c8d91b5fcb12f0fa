-- jobsdb doctor: the queue's health per job type, as counts and times only. Security definer:
-- jobs is under row level security and holds every user's prompts; the doctor's role
-- (jobs_doctor) sees neither, only these figures. Reads the queued and processing rows through
-- their partial indexes, and each type's last hour of finished jobs through jobs_job_type_idx.
-- A processing job counts once: as overrunning when its attempt ran past its type's
-- max_run_seconds (its lease can last no longer), else as holding an expired lease when it does.
create function jobs_private.queue_health()
returns table (
    job_type text,
    worker_pool text,
    max_run_seconds integer,
    queued bigint,
    oldest_runnable_at timestamptz,
    expired_leases bigint,
    oldest_lease_expired_at timestamptz,
    overrunning bigint,
    earliest_overrun_at timestamptz,
    completed_last_hour bigint,
    failed_last_hour bigint
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    with waiting as (
        select
            j.job_type,
            count(*) as queued,
            min(j.run_at) filter (where j.run_at <= now()) as oldest_runnable_at
        from public.jobs as j
        where j.status = 'queued'
        group by j.job_type
    ),

    running as (
        select
            j.job_type,
            j.lease_expires_at,
            j.started_at + make_interval(secs => t.max_run_seconds) as overrun_at
        from public.jobs as j
        inner join public.job_types as t on j.job_type = t.job_type
        where j.status = 'processing'
    ),

    running_per_type as (
        select
            r.job_type,
            count(*) filter (
                where r.lease_expires_at < now() and r.overrun_at >= now()
            ) as expired_leases,
            min(r.lease_expires_at) filter (
                where r.lease_expires_at < now() and r.overrun_at >= now()
            ) as oldest_lease_expired_at,
            count(*) filter (where r.overrun_at < now()) as overrunning,
            min(r.overrun_at) filter (where r.overrun_at < now()) as earliest_overrun_at
        from running as r
        group by r.job_type
    )

    select
        t.job_type,
        t.worker_pool,
        t.max_run_seconds,
        coalesce(w.queued, 0),
        w.oldest_runnable_at,
        coalesce(r.expired_leases, 0),
        r.oldest_lease_expired_at,
        coalesce(r.overrunning, 0),
        r.earliest_overrun_at,
        f.completed,
        f.failed
    from public.job_types as t
    left join waiting as w on t.job_type = w.job_type
    left join running_per_type as r on t.job_type = r.job_type
    cross join lateral (
        select
            count(*) filter (where j.status = 'completed') as completed,
            count(*) filter (where j.status = 'failed') as failed
        from public.jobs as j
        where
            j.job_type = t.job_type
            and j.completed_at >= now() - interval '1 hour'
            and j.completed_at is not null
    ) as f
    order by t.job_type;
$$;
comment on function jobs_private.queue_health() is
'jobsdb doctor: per job type, its pool and max_run_seconds; queued jobs and since when the oldest runnable one waits; processing jobs holding an expired lease (and the oldest expiry) and jobs running past max_run_seconds (and the earliest such time); completed and failed jobs of the last hour. Counts and times only.';
revoke all on function jobs_private.queue_health()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.queue_health() to jobs_doctor;
-- The doctor's functions live in jobs_private (every other function there is closed to it).
grant usage on schema jobs_private to jobs_doctor;
