-- claim_jobs, heartbeat_jobs, job_callback and rescue_expired_jobs are for workers and the
-- service role: a signed-in user and anon get 42501 (HTTP 403 / 401), and nothing changes.
begin;
select plan(9);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a cat'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'me')$$,
    '42501', null, 'a user cannot claim jobs'
);
select throws_ok(
    format(
        'select * from public.heartbeat_jobs(worker_id := %L, job_ids := array[%L]::uuid[],
            lease_tokens := array[gen_random_uuid()])',
        'me', current_setting('t.job')
    ),
    '42501', null, 'a user cannot heartbeat'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, assets := %L)',
        current_setting('t.job'), 'completed', '["x/y.png"]'
    ),
    '42501', null, 'a user cannot report a job outcome'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null, 'a user cannot run the rescue'
);

select tests.authenticate_as_anon();
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'me')$$,
    '42501', null, 'anon cannot claim jobs'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'me', job_ids := array[gen_random_uuid()],
        lease_tokens := array[gen_random_uuid()])$$,
    '42501', null, 'anon cannot heartbeat'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L)',
        current_setting('t.job'), 'failed'
    ),
    '42501', null, 'anon cannot report a job outcome'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null, 'anon cannot run the rescue'
);
select tests.clear_authentication();

select results_eq(
    format(
        'select j.status, j.attempts from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('queued', 0)$$,
    'the job is untouched'
);

select * from finish();
rollback;
