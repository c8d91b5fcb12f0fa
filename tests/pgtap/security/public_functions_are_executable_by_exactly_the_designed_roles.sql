-- The execute matrix of the RPC surface, read from the catalog: which functions of public each
-- role can execute. Holds with Supabase's automatic grants on (the template has them) because
-- every function revokes them and grants exactly what it means to. In a project's database, the
-- functions of jobsdb's (tests/helpers.sql, tests.jobsdbs_function).
begin;
select plan(5);


select is_empty(
    $$select p.proname::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and tests.jobsdbs_function(p.proname)
        and has_function_privilege('anon', p.oid, 'execute')$$,
    'anon can execute nothing'
);
select set_eq(
    $$select p.proname::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and tests.jobsdbs_function(p.proname)
        and has_function_privilege('authenticated', p.oid, 'execute')$$,
    array[
        'asset_info', 'cancel_job', 'get_job', 'job_changes_since', 'library_items', 'list_jobs',
        'purge_finished_jobs', 'queue_job', 'retry_job', 'review_job', 'system_metrics',
        'workspace_groups'
    ],
    'authenticated can execute exactly the user and admin functions'
);
select set_eq(
    $$select p.proname::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and tests.jobsdbs_function(p.proname)
        and has_function_privilege('service_role', p.oid, 'execute')$$,
    array[
        'cancel_job', 'claim_jobs', 'heartbeat_jobs', 'job_callback', 'job_callbacks',
        'job_callback_and_claim',
        'purge_finished_jobs', 'queue_job', 'release_jobs', 'rescue_expired_jobs',
        'rescue_is_scheduled', 'retry_job', 'system_metrics'
    ],
    'service_role can execute exactly queue, cancel, worker and admin maintenance functions'
);
select set_eq(
    $$select p.proname::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and tests.jobsdbs_function(p.proname)
        and has_function_privilege('jobs_worker', p.oid, 'execute')$$,
    array[
        'claim_jobs', 'heartbeat_jobs', 'job_callback', 'job_callbacks',
        'job_callback_and_claim', 'release_jobs', 'rescue_expired_jobs', 'rescue_is_scheduled'
    ],
    'jobs_worker can execute exactly the worker functions only'
);
-- pg_temp listed last: with search_path = '' it would be searched first for types and
-- relations, where every caller may create objects (tests/py/test_name_resolution.py); a
-- project's own functions in public are its own business
select is_empty(
    $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace and tests.jobsdbs_function(p.proname)
        and not coalesce(p.proconfig @> array['search_path=pg_catalog, pg_temp'], false)$$,
    'every function of public looks names up in pg_catalog first and pg_temp last'
);

select * from finish();
rollback;
