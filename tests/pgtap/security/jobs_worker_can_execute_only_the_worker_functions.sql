-- jobs_worker executes the four worker functions (claim_jobs, heartbeat_jobs, job_callback,
-- rescue_expired_jobs) and nothing else: queue_job, cancel_job and the user and admin functions
-- answer 42501.
begin;
select plan(16);

select tests.clear_authentication();
select tests.seed_two_tenants();
insert into public.jobs (id, user_id, job_type)
values (
    '00000000-0000-0000-0000-0000000000d1', current_setting('t.owner')::uuid,
    'sdxl_image_fast'
);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

select tests.authenticate_as_worker();
select is(
    (
        select count(set_config('t.token', c.lease_token::text, true))::int
        from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1') as c
    ),
    1, 'jobs_worker can execute claim_jobs and claims the queued job'
);
select is(
    (
        select count(*)::int
        from public.heartbeat_jobs(
                worker_id := 'w1',
                job_ids := array['00000000-0000-0000-0000-0000000000d1']::uuid[],
                lease_tokens := array[current_setting('t.token')::uuid]
            )
    ),
    1, 'jobs_worker can execute heartbeat_jobs'
);
select lives_ok(
    $$select public.job_callback(
        job_id := '00000000-0000-0000-0000-0000000000d1', status := 'completed',
        lease_token := current_setting('t.token')::uuid
    )$$,
    'jobs_worker can execute job_callback'
);
select lives_ok(
    $$select public.rescue_expired_jobs()$$,
    'jobs_worker can execute rescue_expired_jobs'
);
select tests.clear_authentication();
select is(
    (select status from public.jobs where id = '00000000-0000-0000-0000-0000000000d1'),
    'completed', 'the worker completed the job through the worker functions'
);
select tests.authenticate_as_worker();
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')$$,
    '42501', null,
    'jobs_worker cannot execute queue_job'
);
select throws_ok(
    $$select public.cancel_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'jobs_worker cannot execute cancel_job'
);
select throws_ok(
    $$select public.list_jobs()$$,
    '42501', null,
    'jobs_worker cannot execute list_jobs'
);
select throws_ok(
    $$select public.get_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'jobs_worker cannot execute get_job'
);
select throws_ok(
    $$select public.asset_info(asset_id := '00000000-0000-0000-0000-0000000000a2')$$,
    '42501', null,
    'jobs_worker cannot execute asset_info'
);
select throws_ok(
    $$select public.workspace_groups()$$,
    '42501', null,
    'jobs_worker cannot execute workspace_groups'
);
select throws_ok(
    $$select public.library_items()$$,
    '42501', null,
    'jobs_worker cannot execute library_items'
);
select throws_ok(
    $$select public.review_job(job_id := '00000000-0000-0000-0000-0000000000a1',
    moderation_status := 'approved')$$,
    '42501', null,
    'jobs_worker cannot execute review_job'
);
select throws_ok(
    $$select public.retry_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'jobs_worker cannot execute retry_job'
);
select throws_ok(
    $$select public.purge_finished_jobs()$$,
    '42501', null,
    'jobs_worker cannot execute purge_finished_jobs'
);
select throws_ok(
    $$select public.system_metrics()$$,
    '42501', null,
    'jobs_worker cannot execute system_metrics'
);

select * from finish();
rollback;
