-- Named queries of `jobsdb doctor` (jobsdb/doctor.py): a read-only check of a live project.
--
-- The doctor runs them in one read-only transaction, as a login granted jobs_doctor (or the
-- owner), with search_path = pg_catalog, pg_temp: every other name is schema-qualified. They
-- read the catalog (readable by every role) and, for what the catalog does not hold, the
-- figures of jobs_private.queue_health(), maintenance_schedules() and migration_history()
-- (security definer: counts, times, names and digests only). Thresholds and scope arrive as
-- settings of the transaction (jobsdb_doctor.*): no query takes a parameter.
--
-- A check query answers rows of (kind, message): kind 'finding' (something is wrong; the
-- message says what, then what to do) or 'note' (worth knowing, not a fault).

-- name: settings
-- The session's safety, for this transaction only (the thresholds, jobsdb_doctor.*, are set
-- beside it by jobsdb/doctor.py): search_path first, so that nothing an app or a caller created
-- can take over a name; a short lock timeout, so that the doctor never queues behind DDL (and
-- never makes traffic queue behind it); the package's objects in public (every object of
-- jobs_private and jobs_api is the package's too), which tests/py/test_doctor.py checks against
-- a fresh install.
select
    set_config('search_path', 'pg_catalog, pg_temp', true) as search_path,
    set_config('lock_timeout', '5s', true) as lock_timeout,
    set_config('statement_timeout', '60s', true) as statement_timeout,
    set_config(
        'jobsdb_doctor.public_tables',
        'api_models,images_videos,job_types,jobs,profiles,projects,prompt_tests,user_roles,'
        || 'videos',
        true
    ) as public_tables,
    set_config(
        'jobsdb_doctor.public_functions',
        'asset_info,cancel_job,claim_jobs,get_job,heartbeat_jobs,job_callback,job_callbacks,'
        || 'job_callback_and_claim,'
        || 'job_changes_since,library_items,list_jobs,purge_finished_jobs,queue_job,'
        || 'release_jobs,rescue_expired_jobs,rescue_is_scheduled,retry_job,review_job,'
        || 'system_metrics,workspace_groups',
        true
    ) as public_functions;

-- name: package
-- Is jobsdb here at all, which of the doctor's functions are missing (a database whose
-- jobsdb predates them), does it have installed_release() (jobs_private, no arguments), and
-- what may the current role not use of what the doctor reads.
with private as (
    select n.oid from pg_catalog.pg_namespace as n where n.nspname = 'jobs_private'
),

needed_functions as (
    select
        f.name,
        p.oid
    from
        pg_catalog.unnest(
            array['queue_health', 'maintenance_schedules', 'migration_history']
        ) as f (name)
    left join pg_catalog.pg_proc as p
        on
            f.name = p.proname
            and p.pronargs = 0
            and p.pronamespace = (select private.oid from private)
),

needed_tables as (
    select
        t.name,
        c.oid
    from
        pg_catalog.unnest(
            array['worker_logins', 'job_metrics_hours', 'job_metrics_stale']
        ) as t (name)
    left join pg_catalog.pg_class as c
        on t.name = c.relname and c.relnamespace = (select private.oid from private)
),

release_function as (
    select p.oid
    from pg_catalog.pg_proc as p
    where
        p.proname = 'installed_release'
        and p.pronargs = 0
        and p.pronamespace = (select private.oid from private)
)

select
    exists (select from private)
    and exists (
        select
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = 'public' and c.relname = 'jobs' and c.relkind in ('r', 'p')
    ) as installed,
    array(
        select format('jobs_private.%s()', f.name) from needed_functions as f where f.oid is null
    ) as missing_functions,
    exists(select from release_function) as has_installed_release,
    array(
        select x.what from (
            select 'usage on schema jobs_private' as what
            from private
            where not pg_catalog.has_schema_privilege(private.oid, 'usage')
            union all
            select format('execute on function jobs_private.%s()', f.name)
            from needed_functions as f
            where not pg_catalog.has_function_privilege(f.oid, 'execute')
            union all
            select format('select on table jobs_private.%s', t.name)
            from needed_tables as t
            where not pg_catalog.has_table_privilege(t.oid, 'select')
            union all
            select 'execute on function jobs_private.installed_release()'
            from release_function as r
            where not pg_catalog.has_function_privilege(r.oid, 'execute')
        ) as x
    ) as missing_privileges;

-- name: installed_release
-- The release the database says it has (jobs_private.installed_release(): null or absent on a
-- database built from the migration history before 1.0.0).
select jobs_private.installed_release();

-- name: migration_history
select
    h.version,
    h.name,
    h.statements_md5
from jobs_private.migration_history() as h;

-- name: pg_cron
-- The package's three pg_cron jobs: each present, active, and its last run not failed. Without
-- pg_cron, a note saying who must do their work instead.
with cron as (
    select exists(select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') as here
),

expected (jobname, does) as (
    values
    ('jobsdb-rescue-expired-jobs', 'rescues expired leases every minute'),
    ('jobsdb-purge-finished-jobs', 'purges old failed and cancelled jobs every five minutes'),
    ('jobsdb-rollup-job-metrics', 'rolls up system_metrics every minute')
),

scheduled as (
    select
        s.jobname,
        s.active,
        s.last_status,
        s.last_start_time,
        s.last_message
    from jobs_private.maintenance_schedules() as s
)

select
    'note' as kind,
    'pg_cron is not installed: running workers rescue expired leases themselves (`jobsdb'
    || ' worker` does, keep one running per pool); run `select jobs_private.rollup_job_metrics();`'
    || ' every minute and `select public.purge_finished_jobs();` every five minutes as the owner'
    || ' from a scheduler of yours, or enable pg_cron and run'
    || ' `select jobs_private.schedule_maintenance();`' as message
from cron
where not cron.here
union all
select
    'finding' as kind,
    format(
        'pg_cron job %s (it %s) is not scheduled for the owner: run'
        || ' `select jobs_private.schedule_maintenance();` as the owner',
        e.jobname, e.does
    ) as message
from expected as e
cross join cron
where cron.here and not exists (select from scheduled as s where s.jobname = e.jobname)
union all
select
    'finding' as kind,
    format(
        'pg_cron job %s is inactive: activate it as the owner: `select cron.alter_job(jobid,'
        || ' active := true) from cron.job where jobname = %L;`',
        s.jobname, s.jobname
    ) as message
from scheduled as s
inner join expected as e on s.jobname = e.jobname
where not s.active
union all
select
    'finding' as kind,
    format(
        'pg_cron job %s failed on its last run (%s): %s: fix the cause (its runs are in'
        || ' cron.job_run_details); the next run is a minute or five away',
        s.jobname,
        to_char(s.last_start_time at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
        coalesce(nullif(regexp_replace(s.last_message, '\s+', ' ', 'g'), ''), 'no message')
    ) as message
from scheduled as s
inner join expected as e on s.jobname = e.jobname
where s.active and s.last_status = 'failed';

-- name: realtime
-- Broadcast of status changes (functions/private/enable_realtime_broadcast.sql: the trigger on
-- jobs and the policy on realtime.messages). Postgres Changes cannot follow jobs, a partitioned
-- table (sql/90_realtime.sql), so the publication is not checked.
-- Without Supabase Realtime's own objects (not a Supabase project, or Realtime never started
-- on it), a note.
with realtime as (
    select
        exists (
            select
            from pg_catalog.pg_class as c
            inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
            where n.nspname = 'realtime' and c.relname = 'messages'
        )
        and exists (
            select
            from pg_catalog.pg_proc as p
            inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
            where
                n.nspname = 'realtime' and p.proname = 'send'
                and pg_catalog.oidvectortypes(p.proargtypes) = 'jsonb, text, text, boolean'
        ) as here
),

broadcast as (
    select
        (
            select t.tgenabled
            from pg_catalog.pg_trigger as t
            where t.tgrelid = 'public.jobs'::regclass and t.tgname = 'jobs_status_broadcast_trg'
        ) as trigger_enabled,
        exists(
            select
            from pg_catalog.pg_policy as p
            inner join pg_catalog.pg_class as c on p.polrelid = c.oid
            inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
            where
                n.nspname = 'realtime' and c.relname = 'messages'
                and p.polname = 'jobsdb: users receive their own job status broadcasts'
        ) as has_policy
)

select
    'note' as kind,
    'Supabase Realtime''s objects (realtime.messages, realtime.send) are absent: job status'
    || ' broadcasts are off until they exist; then run'
    || ' `select jobs_private.enable_realtime_broadcast();` as the owner' as message
from realtime
where not realtime.here
union all
select
    'finding' as kind,
    format(
        'job status broadcasts are off (%s): run'
        || ' `select jobs_private.enable_realtime_broadcast();` as the owner',
        concat_ws(
            ' and ',
            case
                when b.trigger_enabled is null then 'no trigger jobs_status_broadcast_trg on jobs'
            end,
            case when not b.has_policy then 'no policy letting users join their topic' end
        )
    ) as message
from realtime
cross join broadcast as b
where realtime.here and (b.trigger_enabled is null or not b.has_policy)
union all
select
    'finding' as kind,
    'trigger jobs_status_broadcast_trg on public.jobs is disabled, so no job status is'
    || ' broadcast: `alter table public.jobs enable trigger jobs_status_broadcast_trg;`' as message
from broadcast as b
where b.trigger_enabled = 'D';

-- name: rollup_unit
-- What the metrics check reads of the roll-up: its minutes where jobs_doctor may read them
-- (1.13.0 on), else its whole hours (an older release).
select
    coalesce(
        pg_catalog.has_table_privilege(
            pg_catalog.to_regclass('jobs_private.job_metrics_minutes'), 'select'
        ),
        false
    ) as minutes;

-- name: rollup_minutes
-- The end of the newest minute rolled up.
select max(m.minute) + interval '1 minute' as rolled_up_through
from jobs_private.job_metrics_minutes as m;

-- name: rollup_hours
-- The end of the newest whole hour rolled up.
select max(h.hour) + interval '1 hour' as rolled_up_through
from jobs_private.job_metrics_hours as h;

-- name: metrics
-- system_metrics' roll-up (jobs_private.rollup_job_metrics): where it stands (the end of its
-- newest minute, or whole hour on a release before 1.13.0: jobsdb_doctor.rolled_up_through and
-- rollup_unit, set by jobsdb/doctor.py from rollup_minutes or rollup_hours), and the oldest
-- hour marked stale, against the allowed lag. Run every minute, its newest minute ends about a
-- minute before now (a minute closes once it is over and no transaction open before its end
-- remains); an hour is whole only once its 60 minutes are, so hours are allowed 2 hours more.
with limits as (
    select
        pg_catalog.current_setting('jobsdb_doctor.max_rollup_lag')::interval as lag,
        pg_catalog.current_setting('jobsdb_doctor.max_rollup_lag') as label,
        pg_catalog.current_setting('jobsdb_doctor.rollup_unit') as unit
),

state as (
    select
        nullif(pg_catalog.current_setting('jobsdb_doctor.rolled_up_through'), '')::timestamptz
            as rolled_up_through,
        (select min(s.marked_at) from jobs_private.job_metrics_stale as s) as oldest_stale_mark
),

late as (
    select
        l.unit,
        s.rolled_up_through,
        case when l.unit = 'hours' then l.label || ' + 2h' else l.label end as label,
        s.rolled_up_through < now() - l.lag
        - case when l.unit = 'hours' then interval '2 hours' else interval '0' end as behind,
        coalesce(s.oldest_stale_mark < now() - l.lag, false) as stale_waits,
        to_char(s.rolled_up_through at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') as through,
        to_char(s.oldest_stale_mark at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') as stale_at
    from state as s
    cross join limits as l
)

select
    'finding' as kind,
    'the system_metrics roll-up has never run: run'
    || ' `select jobs_private.rollup_job_metrics();` as the owner, and schedule it (see the'
    || ' pg_cron check)' as message
from late
where late.rolled_up_through is null
union all
select
    'finding' as kind,
    format(
        'the system_metrics roll-up lags more than %s (%s rolled up through %s%s): run'
        || ' `select jobs_private.rollup_job_metrics();` as the owner; if it stays behind, a'
        || ' transaction open for hours holds it back (pg_stat_activity, xact_start)',
        late.label, late.unit, late.through,
        case
            when late.stale_waits
                then '; an hour marked stale at ' || late.stale_at || ' still waits'
        end
    ) as message
from late
where late.rolled_up_through is not null and (late.behind or late.stale_waits);

-- name: leases
-- Processing jobs whose lease expired longer ago than the grace, per pool: nobody runs
-- rescue_expired_jobs (pg_cron every minute, or each pool's running workers).
with limits as (
    select
        pg_catalog.current_setting('jobsdb_doctor.lease_grace')::interval as grace,
        pg_catalog.current_setting('jobsdb_doctor.lease_grace') as label
),

pools as (
    select
        q.worker_pool,
        sum(q.expired_leases) as expired,
        min(q.oldest_lease_expired_at) as oldest
    from jobs_private.queue_health() as q
    group by q.worker_pool
)

select
    'finding' as kind,
    format(
        'pool %s: %s job(s) hold a lease that expired, the oldest %s min ago (over %s), and'
        || ' nothing rescued them: schedule rescue (`select'
        || ' jobs_private.schedule_maintenance();` with pg_cron) or keep a `jobsdb worker %s`'
        || ' running; to rescue them now: `select public.rescue_expired_jobs();` as the owner',
        p.worker_pool, p.expired, ceil(extract(epoch from now() - p.oldest) / 60), l.label,
        p.worker_pool
    ) as message
from pools as p
cross join limits as l
where p.oldest < now() - l.grace
order by p.worker_pool;

-- name: stuck
-- Processing jobs running past their type's max_run_seconds by more than the allowed overrun:
-- rescue_expired_jobs ends such an attempt, so nobody runs it.
with limits as (
    select
        pg_catalog.current_setting('jobsdb_doctor.max_overrun')::interval as overrun,
        pg_catalog.current_setting('jobsdb_doctor.max_overrun') as label
)

select
    'finding' as kind,
    format(
        'job type %s (pool %s): %s job(s) still processing past max_run_seconds (%s s), the'
        || ' longest by %s min (over %s): nothing ends them; run `select'
        || ' public.rescue_expired_jobs();` as the owner, and schedule rescue (see the pg_cron'
        || ' check) or keep a `jobsdb worker %s` running',
        q.job_type, q.worker_pool, q.overrunning, q.max_run_seconds,
        ceil(extract(epoch from now() - q.earliest_overrun_at) / 60), l.label, q.worker_pool
    ) as message
from jobs_private.queue_health() as q
cross join limits as l
where q.earliest_overrun_at < now() - l.overrun
order by q.job_type;

-- name: queue
-- Per pool, how long its oldest runnable queued job (run_at passed) has waited.
with limits as (
    select
        pg_catalog.current_setting('jobsdb_doctor.max_queue_age')::interval as age,
        pg_catalog.current_setting('jobsdb_doctor.max_queue_age') as label
),

pools as (
    select
        q.worker_pool,
        sum(q.queued) as queued,
        min(q.oldest_runnable_at) as oldest
    from jobs_private.queue_health() as q
    group by q.worker_pool
)

select
    'finding' as kind,
    format(
        'pool %s: its oldest runnable job has waited %s min (over %s; %s job(s) queued): no'
        || ' worker claims from it, or too few: start `jobsdb worker %s` processes (or check'
        || ' theirs)',
        p.worker_pool, ceil(extract(epoch from now() - p.oldest) / 60), l.label, p.queued,
        p.worker_pool
    ) as message
from pools as p
cross join limits as l
where p.oldest < now() - l.age
order by p.worker_pool;

-- name: failures
-- Per job type, the share of failed among the jobs finished (completed or failed) in the last
-- hour, when at least min_finished finished.
with limits as (
    select
        pg_catalog.current_setting('jobsdb_doctor.max_failure_rate')::numeric as rate,
        pg_catalog.current_setting('jobsdb_doctor.min_finished')::bigint as min_finished
)

select
    'finding' as kind,
    format(
        'job type %s (pool %s): %s of %s jobs finished in the last hour failed (%s%%, over'
        || ' %s%%): read their errors, e.g. `select error_message, count(*) from public.jobs'
        || ' where job_type = %L and status = ''failed'' and completed_at > now() - interval'
        || ' ''1 hour'' group by 1;`, and check the pool''s workers and model',
        q.job_type, q.worker_pool, q.failed_last_hour,
        q.completed_last_hour + q.failed_last_hour,
        round(100.0 * q.failed_last_hour / (q.completed_last_hour + q.failed_last_hour)),
        l.rate, q.job_type
    ) as message
from jobs_private.queue_health() as q
cross join limits as l
where
    q.completed_last_hour + q.failed_last_hour >= greatest(l.min_finished, 1)
    and 100.0 * q.failed_last_hour / (q.completed_last_hour + q.failed_last_hour) > l.rate
order by q.job_type;

-- name: workers
-- Worker logins (LOGIN roles granted jobs_worker) and their pool scopes
-- (jobs_private.worker_logins, read by claim_jobs by session_user; null pools or no row means
-- every pool).
with pools as (
    select distinct q.worker_pool from jobs_private.queue_health() as q
),

owner as (
    select n.nspowner as oid from pg_catalog.pg_namespace as n where n.nspname = 'jobs_private'
),

members as (
    -- direct members of jobs_worker that may log in, other than the owner and PostgREST's
    -- login role (both members by design) and superusers (they are everything anyway)
    select
        r.oid,
        r.rolname,
        array(
            select g.rolname::text
            from pg_catalog.pg_auth_members as m2
            inner join pg_catalog.pg_roles as g on m2.roleid = g.oid
            where m2.member = r.oid and g.rolname <> 'jobs_worker'
            order by g.rolname
        )
        || array_remove(
            array[
                case when r.rolcreaterole then 'CREATEROLE' end,
                case when r.rolcreatedb then 'CREATEDB' end,
                case when r.rolreplication then 'REPLICATION' end,
                case when r.rolbypassrls then 'BYPASSRLS' end
            ],
            null
        ) as extra
    from pg_catalog.pg_roles as r
    inner join pg_catalog.pg_auth_members as m on r.oid = m.member
    where
        m.roleid = 'jobs_worker'::regrole
        and r.rolcanlogin
        and not r.rolsuper
        and r.oid <> (select owner.oid from owner)
        and r.rolname <> 'authenticator'
),

scopes as (
    select
        w.login,
        w.worker_pools,
        r.rolname is not null as role_exists,
        exists(select from members as m where m.rolname = w.login) as is_worker_login
    from jobs_private.worker_logins as w
    left join pg_catalog.pg_roles as r on w.login = r.rolname
)

select
    'finding' as kind,
    format(
        'jobs_private.worker_logins scopes login %s, but role %s does not exist: delete the'
        || ' row (`delete from jobs_private.worker_logins where login = %L;` as the owner),'
        || ' or a role made later under that name gets its pools',
        s.login, s.login, s.login
    ) as message
from scopes as s
where not s.role_exists
union all
select
    'finding' as kind,
    format(
        'jobs_private.worker_logins scopes role %s, which is not a worker login (cannot log in,'
        || ' or not a member of jobs_worker): delete the row (`delete from'
        || ' jobs_private.worker_logins where login = %L;`) or make it one (`grant jobs_worker'
        || ' to %I;`)',
        s.login, s.login, s.login
    ) as message
from scopes as s
where s.role_exists and not s.is_worker_login
union all
select
    'finding' as kind,
    format(
        'worker login %s is scoped to pool(s) %s that no job type uses (pools: %s): fix its'
        || ' scope (`update jobs_private.worker_logins set worker_pools = %L where login ='
        || ' %L;` with its real pools)',
        s.login,
        array_to_string(
            array(
                select x.pool from unnest(s.worker_pools) as x (pool)
                where x.pool not in (select p.worker_pool from pools as p)
            ),
            ', '
        ),
        (select string_agg(p.worker_pool, ', ' order by p.worker_pool) from pools as p),
        '{POOL}', s.login
    ) as message
from scopes as s
where
    s.role_exists
    and exists (
        select from unnest(s.worker_pools) as x (pool)
        where x.pool not in (select p.worker_pool from pools as p)
    )
union all
select
    'finding' as kind,
    format(
        'worker login %s may claim jobs of every pool: scope it to the pools its machines'
        || ' serve, as the owner: `insert into jobs_private.worker_logins (login, worker_pools)'
        || ' values (%L, %L) on conflict (login) do update set worker_pools ='
        || ' excluded.worker_pools;`',
        m.rolname, m.rolname, '{POOL}'
    ) as message
from members as m
where not exists (
        select from jobs_private.worker_logins as w
        where w.login = m.rolname and w.worker_pools is not null
    )
union all
select
    'finding' as kind,
    format(
        'worker login %s also holds %s: a worker login holds jobs_worker alone (a GPU machine''s'
        || ' password is then worth no more than its jobs): revoke the rest, or make a new'
        || ' login with `jobsdb worker-login create`',
        m.rolname, array_to_string(m.extra, ', ')
    ) as message
from members as m
where cardinality(m.extra) > 0
order by message;

-- name: security_functions
-- The Security Advisor's function lints on the package's functions (jobs_private, jobs_api,
-- and its RPCs in public): 0028/0029 (security definer executable by anon/authenticated in an
-- exposed schema), 0011 (no search_path), anon may execute a function in an exposed schema at
-- all (the package grants anon nothing), and the package's stricter rule: a function that runs
-- with other rights than its caller's (security definer; a trigger function, run as whoever
-- writes, the package's own definer functions included; the internals of jobs_private and
-- jobs_api, reached only from those and from the owner's pg_cron jobs) must put pg_temp last
-- on its search_path: '' alone still searches the caller's temporary schema first for
-- relations and types.
with exposed as (
    select pg_catalog.btrim(s.name) as nspname
    from
        pg_catalog.unnest(
            pg_catalog.string_to_array(
                pg_catalog.current_setting('jobsdb_doctor.exposed_schemas'), ','
            )
        ) as s (name)
),

functions as (
    select
        p.oid,
        p.oid::regprocedure::text as signature,
        n.nspname,
        p.prosecdef,
        p.prorettype = 'trigger'::regtype as is_trigger,
        n.nspname in (select e.nspname from exposed as e) as is_exposed,
        (
            select substr(s.setting, length('search_path=') + 1)
            from unnest(p.proconfig) as s (setting)
            where s.setting like 'search\_path=%'
        ) as search_path
    from pg_catalog.pg_proc as p
    inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
    where
        (
            n.nspname in ('jobs_private', 'jobs_api')
            or (
                n.nspname = 'public'
                and p.proname = any(
                    string_to_array(current_setting('jobsdb_doctor.public_functions'), ',')
                )
            )
        )
        and not exists (
            select from pg_catalog.pg_depend as d
            where
                d.classid = 'pg_catalog.pg_proc'::regclass
                and d.objid = p.oid and d.deptype = 'e'
        )
)

select
    'finding' as kind,
    format(
        '%s is security definer and executable by %s in exposed schema %s, so anyone with'
        || ' that key runs it with its owner''s rights (Security Advisor %s): `revoke execute'
        || ' on function %s from public, anon, authenticated;` and grant it to the roles meant'
        || ' to call it',
        f.signature,
        concat_ws(
            ' and ',
            case when has_function_privilege('anon', f.oid, 'execute') then 'anon' end,
            case
                when has_function_privilege('authenticated', f.oid, 'execute')
                    then 'authenticated'
            end
        ),
        f.nspname,
        concat_ws(
            '/',
            case when has_function_privilege('anon', f.oid, 'execute') then '0028' end,
            case when has_function_privilege('authenticated', f.oid, 'execute') then '0029' end
        ),
        f.signature
    ) as message
from functions as f
where
    f.prosecdef and f.is_exposed
    and (
        has_function_privilege('anon', f.oid, 'execute')
        or has_function_privilege('authenticated', f.oid, 'execute')
    )
union all
select
    'finding' as kind,
    format(
        '%s may be executed by anon (the package grants anon nothing; a new function is'
        || ' executable by PUBLIC until revoked): `revoke execute on function %s from public,'
        || ' anon;`',
        f.signature, f.signature
    ) as message
from functions as f
where
    not f.prosecdef and f.is_exposed and has_function_privilege('anon', f.oid, 'execute')
union all
select
    'finding' as kind,
    format(
        '%s has no search_path setting, so its names resolve by the caller''s search_path'
        || ' (Security Advisor 0011): `alter function %s set search_path = pg_catalog,'
        || ' pg_temp;`',
        f.signature, f.signature
    ) as message
from functions as f
where f.search_path is null
union all
select
    'finding' as kind,
    format(
        '%s runs with other rights than its caller''s (%s) and its search_path (%s) does not'
        || ' put pg_temp last, so a caller''s temporary tables or types can take over the names'
        || ' it uses: `alter function %s set search_path = pg_catalog, pg_temp;` (or upgrade'
        || ' to the newest release)',
        f.signature,
        case
            when f.prosecdef then 'security definer'
            when f.is_trigger then 'a trigger function'
            else 'reached from the package''s definer functions and pg_cron jobs'
        end,
        f.search_path,
        f.signature
    ) as message
from functions as f
where
    f.search_path is not null
    and (f.prosecdef or f.is_trigger or f.nspname in ('jobs_private', 'jobs_api'))
    and f.search_path !~ '(^|,)\s*"?pg_temp"?\s*$'
order by message;

-- name: security_tables
-- The Security Advisor's table and policy lints on the package's tables: 0013 (row level
-- security off on a table of an exposed schema that anon or authenticated may read), 0007
-- (policies on a table whose row level security is off), 0008 (row level security on but no
-- policy: a policy of the package was dropped), 0024 (a write policy whose USING or WITH CHECK
-- is always true for anon, authenticated or everyone), 0015 (a policy reading user_metadata,
-- which users edit themselves), and anon reading a package table at all (0026: visible to
-- anyone in the API and the GraphQL schema; the package grants anon nothing).
with exposed as (
    select pg_catalog.btrim(s.name) as nspname
    from
        pg_catalog.unnest(
            pg_catalog.string_to_array(
                pg_catalog.current_setting('jobsdb_doctor.exposed_schemas'), ','
            )
        ) as s (name)
),

tables as (
    select
        c.oid,
        format('%I.%I', n.nspname, c.relname) as name,
        c.relrowsecurity,
        n.nspname in (select e.nspname from exposed as e) as is_exposed,
        has_table_privilege('anon', c.oid, 'select')
        or has_table_privilege('authenticated', c.oid, 'select') as readable,
        exists(
            select
            from pg_catalog.pg_attribute as a
            where
                a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                and has_column_privilege('anon', c.oid, a.attnum, 'select')
        ) as anon_reads,
        array(
            select p.polname::text from pg_catalog.pg_policy as p
            where p.polrelid = c.oid order by p.polname
        ) as policies
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        c.relkind in ('r', 'p')
        and (
            n.nspname in ('jobs_private', 'jobs_api')
            or (
                n.nspname = 'public'
                and c.relname = any(
                    string_to_array(current_setting('jobsdb_doctor.public_tables'), ',')
                )
            )
        )
),

policies as (
    select
        format('%s on %s', quote_ident(p.polname), t.name) as name,
        p.polcmd,
        p.polroles,
        p.polpermissive,
        lower(regexp_replace(coalesce(pg_get_expr(p.polqual, p.polrelid), ''), '[\s()]', '', 'g'))
            as qual,
        lower(
            regexp_replace(
                coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''), '[\s()]', '', 'g'
            )
        ) as with_check,
        coalesce(pg_get_expr(p.polqual, p.polrelid), '')
        || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as expressions
    from pg_catalog.pg_policy as p
    inner join tables as t on p.polrelid = t.oid
    where t.relrowsecurity
)

select
    'finding' as kind,
    format(
        'table %s has row level security off and %s may read it: every row is theirs through'
        || ' the API (Security Advisor 0013): `alter table %s enable row level security;`',
        t.name,
        case when t.anon_reads then 'anon' else 'authenticated' end,
        t.name
    ) as message
from tables as t
where t.is_exposed and t.readable and not t.relrowsecurity
union all
select
    'finding' as kind,
    format(
        'table %s has policies (%s) but row level security is off, so they do nothing'
        || ' (Security Advisor 0007): drop them, or `alter table %s enable row level'
        || ' security;` if they are meant',
        t.name, array_to_string(t.policies, ', '), t.name
    ) as message
from tables as t
where
    not t.relrowsecurity and cardinality(t.policies) > 0
    and not (t.is_exposed and t.readable)
union all
select
    'finding' as kind,
    format(
        'table %s has row level security on but no policy, so only its owner and BYPASSRLS'
        || ' roles see a row (Security Advisor 0008): the package''s policies are gone; apply'
        || ' them again (upgrade to the newest release)',
        t.name
    ) as message
from tables as t
where t.relrowsecurity and cardinality(t.policies) = 0
union all
select
    'finding' as kind,
    format(
        'policy %s lets %s %s any row (its %s is always true; Security Advisor 0024): drop it'
        || ' (`drop policy %s;`): the package''s functions do these writes',
        p.name,
        case
            when p.polroles = array[0::oid] then 'everyone'
            else array_to_string(array(select r::regrole::text from unnest(p.polroles) as r), ', ')
        end,
        case p.polcmd
            when 'a' then 'insert'
            when 'w' then 'update'
            when 'd' then 'delete'
            else 'write'
        end,
        case
            when p.qual in ('true', '1=1') then 'using'
            else 'with check'
        end,
        p.name
    ) as message
from policies as p
where
    p.polpermissive
    and p.polcmd in ('a', 'w', 'd', '*')
    and (
        p.polroles = array[0::oid]
        or 'anon'::regrole = any(p.polroles)
        or 'authenticated'::regrole = any(p.polroles)
    )
    and (
        (p.polcmd in ('w', 'd', '*') and p.qual in ('true', '1=1'))
        or p.with_check in ('true', '1=1')
        or (p.polcmd = 'a' and p.with_check = '')
    )
union all
select
    'finding' as kind,
    format(
        'policy %s reads user_metadata, which every user may edit for themselves (Security'
        || ' Advisor 0015): decide on app_metadata (set by the server) instead',
        p.name
    ) as message
from policies as p
where p.expressions ~* 'user_metadata'
union all
select
    'finding' as kind,
    format(
        'anon may read %s: it shows in the API and the GraphQL schema to anyone with the anon'
        || ' key (Security Advisor 0026; the package grants anon nothing): `revoke all on table'
        || ' %s from anon;` (and from public)',
        t.name, t.name
    ) as message
from tables as t
where t.anon_reads
order by message;

-- name: security_views
-- Views and materialized views in exposed schemas, readable by anon or authenticated, that read
-- a table of the package with their owner's rights: 0010 (a view without security_invoker
-- bypasses the row level security of what it reads) and 0016 (a materialized view has none).
with exposed as (
    select pg_catalog.btrim(s.name) as nspname
    from
        pg_catalog.unnest(
            pg_catalog.string_to_array(
                pg_catalog.current_setting('jobsdb_doctor.exposed_schemas'), ','
            )
        ) as s (name)
),

package_tables as (
    select
        c.oid,
        format('%I.%I', n.nspname, c.relname) as name
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        c.relkind in ('r', 'p')
        and (
            n.nspname in ('jobs_private', 'jobs_api')
            or (
                n.nspname = 'public'
                and c.relname = any(
                    string_to_array(current_setting('jobsdb_doctor.public_tables'), ',')
                )
            )
        )
),

views as (
    select distinct
        v.oid,
        format('%I.%I', n.nspname, v.relname) as name,
        v.relkind,
        t.name as reads
    from pg_catalog.pg_class as v
    inner join pg_catalog.pg_namespace as n on v.relnamespace = n.oid
    inner join pg_catalog.pg_rewrite as w on v.oid = w.ev_class
    inner join pg_catalog.pg_depend as d
        on
            d.classid = 'pg_catalog.pg_rewrite'::regclass
            and w.oid = d.objid
            and d.refclassid = 'pg_catalog.pg_class'::regclass
    inner join package_tables as t on d.refobjid = t.oid
    where
        v.relkind in ('v', 'm')
        and n.nspname in (select e.nspname from exposed as e)
        and (
            has_table_privilege('anon', v.oid, 'select')
            or has_table_privilege('authenticated', v.oid, 'select')
        )
        and not (
            v.relkind = 'v'
            and lower(coalesce(v.reloptions::text, '{}'))::text[] && array[
                'security_invoker=1', 'security_invoker=true', 'security_invoker=yes',
                'security_invoker=on'
            ]
        )
)

select
    'finding' as kind,
    format(
        'view %s reads %s with its owner''s rights (no security_invoker), so its readers bypass'
        || ' the row level security of what it reads (Security Advisor 0010): `alter view %s set'
        || ' (security_invoker = on);`',
        v.name, string_agg(v.reads, ', ' order by v.reads), v.name
    ) as message
from views as v
where v.relkind = 'v'
group by v.oid, v.name
union all
select
    'finding' as kind,
    format(
        'materialized view %s copies %s and has no row level security, so anon or authenticated'
        || ' read every row (Security Advisor 0016): `revoke select on %s from anon,'
        || ' authenticated;`',
        v.name, string_agg(v.reads, ', ' order by v.reads), v.name
    ) as message
from views as v
where v.relkind = 'm'
group by v.oid, v.name
order by message;

-- name: references
-- Foreign keys of the app's tables that reference public.jobs and hold a job row in place: under
-- NO ACTION or RESTRICT a delete (retention, a user's deletion cascading to their jobs) fails,
-- and so does retiring a sealed partition whose jobs its rows point at (jobsdb history retire);
-- a partitioned table's key stops every seal (PostgreSQL 15 cannot add it back NOT VALID). A
-- plain table's key with ON DELETE CASCADE, SET NULL or SET DEFAULT is handled like jobsdb's,
-- if an index leads with its column: the retirement's detach checks the table through it under
-- a lock the queue waits for, and without one reads the table whole (so does each job delete).
select
    'finding' as kind,
    format(
        'table %s references public.jobs (foreign key %I, on delete %s): %s',
        c.conrelid::regclass,
        c.conname,
        case c.confdeltype
            when 'a' then 'no action'
            when 'r' then 'restrict'
            when 'c' then 'cascade'
            when 'n' then 'set null'
            when 'd' then 'set default'
        end,
        case
            when r.relkind = 'p'
                then 'a partitioned table''s key stops `jobsdb history seal`: reference jobs from'
                    || ' a plain table, or keep the job id without a foreign key'
            when c.confdeltype in ('a', 'r')
                then 'deleting a referenced job fails (purge_finished_jobs, deleting its user),'
                    || ' and so does `jobsdb history retire` of a sealed partition its rows point'
                    || ' at: keep the job id without a foreign key (a plain uuid column, joined'
                    || ' when the job still exists), or use `on delete cascade` / `on delete'
                    || ' set null`'
            else format(
                    'no index leads with %I: `jobsdb history retire` reads the table whole under a'
                    || ' lock the queue waits for (and every delete of a job reads it): create'
                    || ' index on %s (%I)',
                    a.attname, c.conrelid::regclass, a.attname
                )
        end
    ) as message
from pg_catalog.pg_constraint as c
inner join pg_catalog.pg_class as r on c.conrelid = r.oid
inner join pg_catalog.pg_namespace as n on r.relnamespace = n.oid
inner join pg_catalog.pg_attribute as a on c.conrelid = a.attrelid and c.conkey[1] = a.attnum
where
    c.contype = 'f'
    and c.confrelid = 'public.jobs'::regclass
    and c.conparentid = 0
    and (
        c.confdeltype in ('a', 'r')
        or r.relkind = 'p'
        or not exists (
            select from pg_catalog.pg_index as i
            where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]
        )
    )
    and not (
        n.nspname in ('jobs_private', 'jobs_api')
        or (
            n.nspname = 'public'
            and r.relname = any(
                string_to_array(current_setting('jobsdb_doctor.public_tables'), ',')
            )
        )
    )
order by message;

-- name: history
-- The partitions of public.jobs besides the queue's (jobs_private.jobs_hot): sealed history.
-- A generic plan through the parent locks and opens each of them before it prunes
-- (PostgreSQL 15), and two such statements are on the hot path: the check of each output's
-- job_id into jobs (PostgreSQL's own foreign key check, in job_callback) and queue_job's lookup
-- of an idempotency key (which reads every partition's index). Past about 16 partitions the lifecycle falls below 0.95 x its rate at
-- 8 clients (bench/README.md, "The hot path beside sealed history"). Also the foreign keys into
-- jobs left NOT VALID: a seal or a retirement runs, or its last step was cut short.
with limits as (
    select pg_catalog.current_setting('jobsdb_doctor.max_sealed_partitions')::integer as most
),

parts as (
    select pg_catalog.count(*)::integer as n
    from pg_catalog.pg_inherits as i
    where
        i.inhparent = 'public.jobs'::regclass
        -- (a release before 1.7.0 has no jobs_hot, and no partition)
        and i.inhrelid::oid <> coalesce(to_regclass('jobs_private.jobs_hot')::oid, 0)
)

select
    'finding' as kind,
    format(
        'public.jobs has %s sealed partitions (more than %s): each one adds to the check of'
        || ' every output''s job_id into jobs and to every queue_job with an idempotency key:'
        || ' retire the oldest (`jobsdb history retire`), and seal longer periods',
        p.n, l.most
    ) as message
from parts as p
cross join limits as l
where p.n > l.most
union all
select
    'finding' as kind,
    format(
        'the foreign key %I of %s into public.jobs is NOT VALID (a seal or retirement is'
        || ' running, or was cut short before its last step): unless one runs, run'
        || ' `select jobs_private.seal_check_keys();` as the owner (it reads the table; writes'
        || ' do not wait)',
        c.conname, c.conrelid::regclass
    ) as message
from pg_catalog.pg_constraint as c
where
    c.contype = 'f'
    and c.confrelid = 'public.jobs'::regclass
    and c.conparentid = 0
    and not c.convalidated;
