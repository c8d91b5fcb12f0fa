-- Time moves the honest way: as the owner, backoffs end (run_at) and the lease expires.
-- Full lifecycle through 3 attempts: claim -> fail (requeued) -> claim -> lease expires ->
-- rescue (requeued) -> claim -> complete. attempts never exceeds max_attempts.
begin;
select plan(12);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'persistent cat'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

-- attempt 1: fails, requeued
select tests.authenticate_as_worker();
select set_config('t.c1', (
    select to_jsonb(c)::text from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as c
), true) is not null;
select set_config('t.r1', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'failed',
    lease_token := (current_setting('t.c1')::jsonb ->> 'lease_token')::uuid,
    error_message := 'transient'
)::text, true) is not null;
select tests.clear_authentication();
update public.jobs set run_at = now() where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
-- attempt 2: the worker dies, the lease expires, the rescue requeues
select set_config('t.c2', (
    select to_jsonb(c)::text from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-2'
        ) as c
), true) is not null;
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.r2', public.rescue_expired_jobs()::text, true) is not null;
select tests.clear_authentication();
update public.jobs set run_at = now() where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
-- attempt 3: completes
select set_config('t.c3', (
    select to_jsonb(c)::text from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-3'
        ) as c
), true) is not null;
select set_config('t.r3', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := (current_setting('t.c3')::jsonb ->> 'lease_token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/o/cat.png')
)::text, true) is not null;
select set_config('t.c4', (
    select count(*)::text from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-4'
        )
), true) is not null;
select tests.clear_authentication();

select is((current_setting('t.c1')::jsonb ->> 'attempt')::integer, 1, 'first claim: attempt 1');
select is(current_setting('t.r1')::jsonb ->> 'result', 'requeued', 'the failure is requeued');
select is((current_setting('t.c2')::jsonb ->> 'attempt')::integer, 2, 'second claim: attempt 2');
select is(
    current_setting('t.r2')::jsonb, '{"requeued": 1, "failed": 0}'::jsonb,
    'the expired second attempt is requeued by the rescue'
);
select is((current_setting('t.c3')::jsonb ->> 'attempt')::integer, 3, 'third claim: attempt 3');
select is(
    (current_setting('t.c3')::jsonb ->> 'max_attempts')::integer, 3, 'the last allowed attempt'
);
select is(current_setting('t.r3')::jsonb ->> 'result', 'completed', 'the third attempt completes');
select is(current_setting('t.c4'), '0', 'nothing is left to claim');
select results_eq(
    format(
        $$select j.status, j.attempts, j.max_attempts, j.started_at, j.completed_at
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    $$values ('completed', 3, 3, now(), now())$$,
    'completed after 3 attempts, started_at of the last attempt'
);
select isnt(
    current_setting('t.c2')::jsonb ->> 'lease_token',
    current_setting('t.c1')::jsonb ->> 'lease_token',
    'each claim has its own token (2 vs 1)'
);
select isnt(
    current_setting('t.c3')::jsonb ->> 'lease_token',
    current_setting('t.c2')::jsonb ->> 'lease_token',
    'each claim has its own token (3 vs 2)'
);
select is(
    (
        select count(*)::integer from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid
    ),
    1,
    'one output'
);

select * from finish();
rollback;
