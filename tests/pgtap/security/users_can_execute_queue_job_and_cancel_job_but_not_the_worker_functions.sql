-- Signed-in users (admins too) execute queue_job and cancel_job; the worker functions
-- (claim_jobs, heartbeat_jobs, job_callback, rescue_expired_jobs) answer 42501.
begin;
select plan(12);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select lives_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')$$,
    'a user can execute queue_job'
);
select is(
    (select count(*)::int from public.jobs where status = 'queued'),
    1, 'queue_job created the user''s queued job'
);
select lives_ok(
    $$select public.cancel_job(job_id := (select id from public.jobs where status = 'queued'))$$,
    'a user can execute cancel_job on their job'
);
select is(
    (select count(*)::int from public.jobs where status = 'cancelled'),
    1, 'cancel_job cancelled it'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1')$$,
    '42501', null,
    'a user cannot execute claim_jobs'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'w1', job_ids :=
    array['00000000-0000-0000-0000-0000000000a1']::uuid [], lease_tokens :=
    array[gen_random_uuid()])$$,
    '42501', null,
    'a user cannot execute heartbeat_jobs'
);
select throws_ok(
    $$select public.job_callback(job_id := '00000000-0000-0000-0000-0000000000a1', status :=
    'completed')$$,
    '42501', null,
    'a user cannot execute job_callback'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null,
    'a user cannot execute rescue_expired_jobs'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1')$$,
    '42501', null,
    'an admin cannot execute claim_jobs'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'w1', job_ids :=
    array['00000000-0000-0000-0000-0000000000a1']::uuid [], lease_tokens :=
    array[gen_random_uuid()])$$,
    '42501', null,
    'an admin cannot execute heartbeat_jobs'
);
select throws_ok(
    $$select public.job_callback(job_id := '00000000-0000-0000-0000-0000000000a1', status :=
    'completed')$$,
    '42501', null,
    'an admin cannot execute job_callback'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null,
    'an admin cannot execute rescue_expired_jobs'
);

select * from finish();
rollback;
