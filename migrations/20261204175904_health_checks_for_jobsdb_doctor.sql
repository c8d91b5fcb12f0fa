-- jobsdb doctor's read access: a role and three functions that answer with figures only.
--
-- Why: `jobsdb doctor` checks a live project as a non-superuser, read-only login. It must not
-- read jobs (every user's prompts, under row level security), other roles' pg_cron rows or the
-- SQL of every migration. Role jobs_doctor may execute three security definer functions in
-- jobs_private that return counts, times, names and digests, and read the roll-up's hours and
-- stale markers and the worker logins' scopes. Creates a role, three functions and grants;
-- touches no row.

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'jobs_doctor') then
        create role jobs_doctor nologin noinherit;
    end if;
end
$$;
comment on role jobs_doctor is
'jobsdb doctor: may read the package''s health (jobs_private.queue_health, maintenance_schedules, migration_history, the roll-up''s hours and the worker logins'' scopes) and nothing of a job''s content. DBAs grant it to a read-only login.';
-- The owner acts as jobs_doctor in tests.
grant jobs_doctor to current_user;
-- jobsdb doctor checks the scopes (logins whose role is gone, pools no job type uses).
grant select on table jobs_private.worker_logins to jobs_doctor;
-- jobsdb doctor measures the roll-up's lag: hours and stale markers hold no job's content.
grant select on table jobs_private.job_metrics_hours, jobs_private.job_metrics_stale to jobs_doctor;

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

-- jobsdb doctor: the package's pg_cron jobs and how their last run ended. Security definer:
-- pg_cron shows a role only its own rows of cron.job and cron.job_run_details, and the jobs run
-- as the owner (jobs_private.schedule_maintenance schedules them as the caller); nothing but
-- the jobsdb-* jobs of the owner is read. Dynamic SQL: schema cron exists only where pg_cron is
-- installed, and job_run_details only from pg_cron 1.3 on. No rows without pg_cron.
create function jobs_private.maintenance_schedules()
returns table (
    jobname text,
    schedule text,
    command text,
    active boolean,
    last_status text,
    last_start_time timestamptz,
    last_message text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
-- the columns come from return query execute, which plpgsql_check cannot follow
-- @plpgsql_check_options: extra_warnings = false
declare
    v_job regclass;
    v_runs regclass;
begin
    if not exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        return;
    end if;
    v_job := pg_catalog.to_regclass('cron.job');
    v_runs := pg_catalog.to_regclass('cron.job_run_details');
    if v_runs is null then
        return query execute format(
            'select j.jobname::text, j.schedule::text, j.command::text, j.active,'
            ' null::text, null::timestamptz, null::text'
            ' from %s as j where j.jobname like $1 and j.username = current_user'
            ' order by j.jobname', v_job)
        using 'jobsdb-%';
        return;
    end if;
    return query execute format(
        'select j.jobname::text, j.schedule::text, j.command::text, j.active,'
        ' r.status::text, r.start_time, r.return_message::text'
        ' from %s as j'
        ' left join lateral (select d.status, d.start_time, d.return_message from %s as d'
        ' where d.jobid = j.jobid order by d.start_time desc nulls last limit 1) as r on true'
        ' where j.jobname like $1 and j.username = current_user'
        ' order by j.jobname', v_job, v_runs)
    using 'jobsdb-%';
end;
$$;
comment on function jobs_private.maintenance_schedules() is
'jobsdb doctor: the owner''s jobsdb-* pg_cron jobs (name, schedule, command, active) with the status, start time and message of each one''s last run; no rows without pg_cron.';
revoke all on function jobs_private.maintenance_schedules()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.maintenance_schedules() to jobs_doctor;

-- jobsdb doctor: the migration history (the Supabase CLI's table, which `jobsdb migrate`
-- shares), as version, name and a digest of the statements: enough to tell pending and changed
-- package migrations apart, without handing a monitoring role the SQL of every migration (the
-- app's own ones included). Security definer: the history belongs to the owner and is granted
-- to nobody. The digest is md5 of the statements joined by the character 30 (record
-- separator); null when the row holds none (`migrate repair`, older CLIs: not checked). No rows
-- when there is no history table.
create function jobs_private.migration_history()
returns table (version text, name text, statements_md5 text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
-- the columns come from return query execute, which plpgsql_check cannot follow
-- @plpgsql_check_options: extra_warnings = false
declare
    v_history regclass := pg_catalog.to_regclass('supabase_migrations.schema_migrations');
    v_name text := 'null::text';
    v_digest text := 'null::text';
begin
    if v_history is null then
        return;
    end if;
    -- older Supabase CLIs made the table with the version column only
    if exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = v_history and a.attname = 'name' and not a.attisdropped
    ) then
        v_name := 'h.name::text';
    end if;
    if exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = v_history and a.attname = 'statements' and not a.attisdropped
    ) then
        v_digest := 'case when cardinality(h.statements) > 0'
            ' then md5(array_to_string(h.statements, chr(30))) end';
    end if;
    return query execute format(
        'select h.version::text, %s, %s from %s as h order by h.version', v_name, v_digest,
        v_history);
end;
$$;
comment on function jobs_private.migration_history() is
'jobsdb doctor: each applied migration''s version, name and the md5 of its statements joined by chr(30) (null when not recorded); no rows without a history table.';
revoke all on function jobs_private.migration_history()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.migration_history() to jobs_doctor;
