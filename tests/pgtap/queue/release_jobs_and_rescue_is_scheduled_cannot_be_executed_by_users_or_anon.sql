-- The shutdown and schedule functions are the worker's (and the service role's): a signed-in
-- user, even with a job's real token, and anon answer 42501; the job is untouched.
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select * from public.release_jobs(worker_id := 'gpu-1',
        job_ids := array[current_setting('t.job')::uuid],
        lease_tokens := array[current_setting('t.token')::uuid])$$,
    '42501', null, 'a user cannot release a job, even with its token'
);
select throws_ok(
    $$select public.rescue_is_scheduled()$$, '42501', null,
    'a user cannot execute rescue_is_scheduled'
);
select tests.authenticate_as_anon();
select throws_ok(
    $$select * from public.release_jobs(worker_id := 'gpu-1',
        job_ids := array[current_setting('t.job')::uuid],
        lease_tokens := array[current_setting('t.token')::uuid])$$,
    '42501', null, 'anon cannot release a job'
);
select throws_ok(
    $$select public.rescue_is_scheduled()$$, '42501', null,
    'anon cannot execute rescue_is_scheduled'
);
select tests.authenticate_as_service_role();
select lives_ok($$select public.rescue_is_scheduled()$$, 'the service role can');
select tests.clear_authentication();
select results_eq(
    format(
        'select j.status, j.attempts from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('processing', 1)$$,
    'the job is still processing'
);
select * from finish();
rollback;
