-- anon can execute no function of public: each RPC answers 42501 (401 through PostgREST), and
-- no function of public, present or future, is executable by anon or PUBLIC.
begin;
select plan(17);

select tests.clear_authentication();
select tests.seed_two_tenants();

select is_empty(
    $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::regnamespace
        and has_function_privilege('anon', p.oid, 'execute')$$,
    'anon can execute no function of public (present or future)'
);
select is_empty(
    $$select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
    where p.pronamespace = 'public'::regnamespace and a.grantee = 0$$,
    'no function of public is executable by PUBLIC'
);
select tests.authenticate_as_anon();

select throws_ok(
    $$select public.asset_info(asset_id := '00000000-0000-0000-0000-0000000000a2')$$,
    '42501', null,
    'anon cannot execute asset_info'
);
select throws_ok(
    $$select public.cancel_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'anon cannot execute cancel_job'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1')$$,
    '42501', null,
    'anon cannot execute claim_jobs'
);
select throws_ok(
    $$select public.get_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'anon cannot execute get_job'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'w1', job_ids :=
    array['00000000-0000-0000-0000-0000000000a1']::uuid [], lease_tokens :=
    array[gen_random_uuid()])$$,
    '42501', null,
    'anon cannot execute heartbeat_jobs'
);
select throws_ok(
    $$select public.job_callback(job_id := '00000000-0000-0000-0000-0000000000a1', status :=
    'completed')$$,
    '42501', null,
    'anon cannot execute job_callback'
);
select throws_ok(
    $$select public.library_items()$$,
    '42501', null,
    'anon cannot execute library_items'
);
select throws_ok(
    $$select public.list_jobs()$$,
    '42501', null,
    'anon cannot execute list_jobs'
);
select throws_ok(
    $$select public.purge_finished_jobs()$$,
    '42501', null,
    'anon cannot execute purge_finished_jobs'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')$$,
    '42501', null,
    'anon cannot execute queue_job'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null,
    'anon cannot execute rescue_expired_jobs'
);
select throws_ok(
    $$select public.retry_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'anon cannot execute retry_job'
);
select throws_ok(
    $$select public.review_job(job_id := '00000000-0000-0000-0000-0000000000a1',
    moderation_status := 'approved')$$,
    '42501', null,
    'anon cannot execute review_job'
);
select throws_ok(
    $$select public.system_metrics()$$,
    '42501', null,
    'anon cannot execute system_metrics'
);
select throws_ok(
    $$select public.workspace_groups()$$,
    '42501', null,
    'anon cannot execute workspace_groups'
);

select * from finish();
rollback;
