-- A claim (as the worker role) returns the job with attempt 1 and a lease token, sets the lease
-- to now + the job type's lease (or lease_seconds), and increments attempts.
begin;
select plan(11);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat') is not null;
select public.queue_job(job_type := 'rv51_high', prompt := 'a dog') is not null;

select tests.authenticate_as_worker();
select set_config('t.claim', (
    select to_jsonb(c)::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as c
), true) is not null;
select set_config('t.claim2', (
    select to_jsonb(c)::text
    from public.claim_jobs(
            worker_pool := 'rv51', worker_id := 'gpu-2', max_jobs := 1, lease_seconds := 45
        ) as c
), true) is not null;
select tests.clear_authentication();

select is(
    (current_setting('t.claim')::jsonb ->> 'attempt')::integer, 1,
    'the first claim is attempt 1'
);
select isnt(current_setting('t.claim')::jsonb ->> 'lease_token', null, 'a lease token is returned');
select is(
    (current_setting('t.claim')::jsonb ->> 'lease_expires_at')::timestamptz,
    now() + interval '120 seconds',
    'the lease is now + the type''s lease_seconds (120 s for sdxl_image_fast)'
);
select is(
    current_setting('t.claim')::jsonb ->> 'prompt', 'a cat', 'the prompt is returned'
);
select is(
    current_setting('t.claim')::jsonb ->> 'output_bucket', 'sdxl_image_fast',
    'the output bucket is returned'
);
select is(
    (current_setting('t.claim2')::jsonb ->> 'lease_expires_at')::timestamptz,
    now() + interval '45 seconds',
    'lease_seconds overrides the type''s lease'
);
select results_eq(
    format(
        $$select j.status, j.attempts, j.locked_by, j.lease_token, j.lease_expires_at, j.started_at
        from public.jobs as j where j.id = %L$$,
        current_setting('t.claim')::jsonb ->> 'job_id'
    ),
    $$values ('processing', 1, 'gpu-1',
        jobs_private.lease_digest((current_setting('t.claim')::jsonb ->> 'lease_token')::uuid),
        now() + interval '120 seconds', now())$$,
    'the row is processing, with attempts 1, the lease, the token''s digest and started_at'
);

-- a second claim of the same job (after requeue) is attempt 2 with a new token
select tests.authenticate_as_service_role();
select is(
    public.job_callback(
        job_id := (current_setting('t.claim')::jsonb ->> 'job_id')::uuid, status := 'failed',
        lease_token := (current_setting('t.claim')::jsonb ->> 'lease_token')::uuid,
        error_message := 'oom'
    ) ->> 'result',
    'requeued',
    'the failed attempt is requeued'
);
-- as the owner: the retry's backoff is over
select tests.clear_authentication();
update public.jobs set run_at = now() where status = 'queued';
select tests.authenticate_as_service_role();
select set_config('t.claim3', (
    select to_jsonb(c)::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-3'
        ) as c
), true) is not null;
select is(
    (current_setting('t.claim3')::jsonb ->> 'attempt')::integer, 2,
    'the next claim is attempt 2'
);
select isnt(
    current_setting('t.claim3')::jsonb ->> 'lease_token',
    current_setting('t.claim')::jsonb ->> 'lease_token',
    'with a new lease token'
);
select tests.clear_authentication();
select is(
    (
        select j.attempts from public.jobs as j
        where j.id = (current_setting('t.claim')::jsonb ->> 'job_id')::uuid
    ),
    2,
    'attempts counts claims'
);

select * from finish();
rollback;
