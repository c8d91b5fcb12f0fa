-- jobs_doctor (the role of `jobsdb doctor`'s read-only login) reads the queue's figures, never a
-- job: it executes the three doctor functions (security definer, pg_temp last on their
-- search_path) and reads the roll-up's hours and stale markers and the worker logins' scopes;
-- every table of public, the rest of jobs_private and every other function answer 42501.
begin;
select plan(
    16 + 4 * (
        select count(*)::integer from pg_catalog.pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
            and tests.jobsdbs_table(relname)
    )
);

select tests.clear_authentication();
select tests.seed_two_tenants();
select set_config('t.job_types', (select count(*) from public.job_types)::text, true);
-- pgTAP lives in schema extensions; let the doctor role call it (rolled back with the test)
grant usage on schema extensions to jobs_doctor;

select * from tests.check_no_table_access('jobs_doctor');

select tests.act_as('jobs_doctor', '{}');
select is(
    (select count(*)::text from jobs_private.queue_health()), current_setting('t.job_types'),
    'queue_health answers one row per job type'
);
select is(
    (select sum(q.completed_last_hour)::integer from jobs_private.queue_health() as q), 2,
    'queue_health counts the two jobs completed in the last hour'
);
select lives_ok(
    'select * from jobs_private.maintenance_schedules()',
    'jobs_doctor may read the package''s pg_cron jobs'
);
select isnt_empty(
    'select * from jobs_private.migration_history()',
    'jobs_doctor may read the migration history''s versions and digests'
);
select lives_ok(
    'select login, worker_pools from jobs_private.worker_logins',
    'jobs_doctor may read the worker logins'' scopes'
);
select lives_ok(
    'select max(hour) from jobs_private.job_metrics_hours',
    'jobs_doctor may read the rolled-up hours'
);
select lives_ok(
    'select min(marked_at) from jobs_private.job_metrics_stale',
    'jobs_doctor may read the stale markers'
);
select throws_ok(
    'select * from jobs_private.settings', '42501', null,
    'jobs_doctor cannot read the settings'
);
select throws_ok(
    'select * from jobs_private.job_metrics_rollup', '42501', null,
    'jobs_doctor cannot read the rolled-up figures'
);
select throws_ok(
    $$select public.claim_jobs(worker_pool := 'sdxl', worker_id := 'doctor')$$, '42501', null,
    'jobs_doctor cannot claim jobs'
);
select throws_ok(
    'select jobs_private.rollup_job_metrics()', '42501', null,
    'jobs_doctor cannot run the roll-up (it writes)'
);
select throws_ok(
    'select public.system_metrics()', '42501', null,
    'jobs_doctor cannot call the admin RPCs'
);
select tests.clear_authentication();

select is(
    array(
        select format('%s: %s', f.name, r.rolname)
        from
            unnest(array[
                'jobs_private.queue_health()', 'jobs_private.maintenance_schedules()',
                'jobs_private.migration_history()'
            ]) as f (name)
        cross join
            unnest(array[
                'anon', 'authenticated', 'service_role', 'jobs_worker', 'jobs_doctor'
            ]) as r (rolname)
        where has_function_privilege(r.rolname, f.name::regprocedure, 'execute')
        order by 1
    ),
    array[
        'jobs_private.maintenance_schedules(): jobs_doctor',
        'jobs_private.migration_history(): jobs_doctor',
        'jobs_private.queue_health(): jobs_doctor'
    ],
    'of the client roles, only jobs_doctor may execute the doctor''s functions'
);
select is(
    array(
        select p.proname::text
        from pg_catalog.pg_proc as p
        where
            p.pronamespace = 'jobs_private'::regnamespace
            and p.proname in ('queue_health', 'maintenance_schedules', 'migration_history')
            and p.prosecdef
            and p.proconfig @> array['search_path=pg_catalog, pg_temp']
        order by 1
    ),
    array['maintenance_schedules', 'migration_history', 'queue_health'],
    'the doctor''s functions are security definer with pg_temp last on their search_path'
);
select ok(
    not exists (
        select from pg_catalog.pg_proc as p
        where
            p.pronamespace = 'jobs_private'::regnamespace
            and p.proname not in (
                'queue_health', 'maintenance_schedules', 'migration_history', 'installed_release'
            )
            and has_function_privilege('jobs_doctor', p.oid, 'execute')
    ),
    'jobs_doctor may execute no other function of jobs_private (but the release it holds)'
);
select ok(
    (
        select not rolcanlogin and not rolbypassrls from pg_catalog.pg_roles
        where rolname = 'jobs_doctor'
    ),
    'jobs_doctor cannot log in and does not bypass row level security'
);

select * from finish();
rollback;
