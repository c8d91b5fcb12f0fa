-- A failure with attempts left is requeued with backoff: status queued, run_at in the future,
-- error_message set, lease released.
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
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as c
), true) is not null;
select tests.authenticate_as_service_role();
select set_config('t.answer', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'failed',
    lease_token := current_setting('t.token')::uuid, error_message := 'CUDA out of memory'
)::text, true) is not null;
select tests.clear_authentication();

select is(current_setting('t.answer')::jsonb ->> 'result', 'requeued', 'the answer is requeued');
select results_eq(
    format(
        $$select j.status, j.error_message, j.attempts, j.locked_by, j.lease_expires_at,
            j.completed_at, j.last_error_at
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    $$values ('queued', 'CUDA out of memory', 1, null::text, null::timestamptz,
        null::timestamptz, now())$$,
    'queued again with the error, the attempt counted, no lease'
);
select cmp_ok(
    (select j.run_at from public.jobs as j where j.id = current_setting('t.job')::uuid),
    '>', now(),
    'run_at is in the future'
);
select cmp_ok(
    (select j.run_at from public.jobs as j where j.id = current_setting('t.job')::uuid),
    '<=', now() + interval '600 seconds',
    'within the backoff cap'
);
select is(
    (current_setting('t.answer')::jsonb ->> 'retry_at')::timestamptz,
    (select j.run_at from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'the answer says when it will be retried'
);

select tests.authenticate_as_service_role();
select is(
    (
        select count(*)::integer
        from public.claim_jobs(
                worker_pool := 'sdxl', worker_id := 'gpu-2'
            )
    ),
    0,
    'it is not claimable during the backoff'
);

select * from finish();
rollback;
