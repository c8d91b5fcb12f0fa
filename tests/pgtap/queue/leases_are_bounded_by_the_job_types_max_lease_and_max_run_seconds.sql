-- A lease is at most job_types.max_lease_seconds (a longer request is clamped), and never ends
-- after started_at + max_run_seconds: a worker that keeps heartbeating past it is not extended
-- ('lost'), and the rescue requeues (or, at the last attempt, fails) the job even though its
-- lease was renewed. Time moves the honest way: the owner moves started_at into the past.
begin;
select plan(9);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select set_config('t.claim', (
    select to_jsonb(c)::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', lease_seconds := 86400) as c
), true) is not null;
select set_config('t.beat', (
    select to_jsonb(h)::text
    from public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
            lease_tokens := array[(current_setting('t.claim')::jsonb ->> 'lease_token')::uuid],
            lease_seconds := 86400
        ) as h
), true) is not null;
select tests.clear_authentication();
select is(
    (current_setting('t.claim')::jsonb ->> 'lease_expires_at')::timestamptz,
    now() + interval '600 seconds',
    'a claim asking for 86400 s gets the type''s max_lease_seconds (600)'
);
select is(
    (current_setting('t.beat')::jsonb ->> 'lease_expires_at')::timestamptz,
    now() + interval '600 seconds',
    'so does a heartbeat'
);

-- As the owner: the attempt started 1790 s ago (max_run_seconds is 1800).
update public.jobs set started_at = now() - interval '1790 seconds'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.near', (
    select h.state || ' ' || h.lease_expires_at::text
    from public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
            lease_tokens := array[(current_setting('t.claim')::jsonb ->> 'lease_token')::uuid]
        ) as h
), true) is not null;
select tests.clear_authentication();
select is(
    current_setting('t.near'), 'extended ' || (now() + interval '10 seconds')::text,
    'near the end of its run time a heartbeat extends only up to started_at + max_run_seconds'
);

-- As the owner: the attempt started 1801 s ago, its lease still runs (the worker heartbeats).
update public.jobs
set started_at = now() - interval '1801 seconds', lease_expires_at = now() + interval '60 seconds'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.late', (
    select h.state
    from public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
            lease_tokens := array[(current_setting('t.claim')::jsonb ->> 'lease_token')::uuid]
        ) as h
), true) is not null;
select set_config('t.rescue', public.rescue_expired_jobs()::text, true) is not null;
select tests.clear_authentication();
select is(current_setting('t.late'), 'lost', 'past its run time a heartbeat is not extended: lost');
select is(
    current_setting('t.rescue')::jsonb,
    '{"requeued": 1, "failed": 0}'::jsonb,
    'the rescue takes the overrunning job although its lease has not expired'
);
select results_eq(
    format(
        $$select j.status, j.lease_token, j.error_message ~ '^run time exceeded'
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    $$values ('queued', null::uuid, true)$$,
    'it is requeued, its token dead, and the error says the run time was exceeded'
);

-- The last attempt overrunning is failed.
update public.jobs set run_at = now(), max_attempts = 2 where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.again', (
    select count(*)::text from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-2')
), true) is not null;
select tests.clear_authentication();
select is(current_setting('t.again'), '1', 'claimed again (attempt 2 of 2)');
update public.jobs set started_at = now() - interval '1801 seconds'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.rescue2', public.rescue_expired_jobs()::text, true) is not null;
select tests.clear_authentication();
select is(
    current_setting('t.rescue2')::jsonb,
    '{"requeued": 0, "failed": 1}'::jsonb,
    'the overrunning last attempt is failed'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'failed',
    'and the job is failed'
);

select * from finish();
rollback;
