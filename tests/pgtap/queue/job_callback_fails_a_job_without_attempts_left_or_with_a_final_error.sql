-- A failure at max_attempts, or one marked retryable := false, makes the job failed with
-- completed_at and the error message.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.last', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'last attempt'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.final', public.queue_job(
    job_type := 'rv51_fast', prompt := 'final error'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.clear_authentication();
update public.jobs set max_attempts = 1 where id = current_setting('t.last')::uuid;

select tests.authenticate_as_service_role();
select set_config('t.last_token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select set_config('t.final_token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'rv51', worker_id := 'gpu-2') as c
), true) is not null;
select set_config('t.last_answer', public.job_callback(
    job_id := current_setting('t.last')::uuid, status := 'failed',
    lease_token := current_setting('t.last_token')::uuid, error_message := 'oom again'
)::text, true) is not null;
select set_config('t.final_answer', public.job_callback(
    job_id := current_setting('t.final')::uuid, status := 'failed',
    lease_token := current_setting('t.final_token')::uuid, error_message := 'prompt rejected',
    retryable := false
)::text, true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.last_answer')::jsonb ->> 'result', 'failed',
    'no attempts left: the answer is failed'
);
select results_eq(
    format(
        $$select j.status, j.error_message, j.completed_at is not null, j.lease_expires_at
        from public.jobs as j where j.id = %L$$,
        current_setting('t.last')
    ),
    $$values ('failed', 'oom again', true, null::timestamptz)$$,
    'the job at max_attempts is failed, with completed_at and the error'
);
select is(
    current_setting('t.final_answer')::jsonb ->> 'result', 'failed',
    'retryable false: the answer is failed'
);
select results_eq(
    format(
        $$select j.status, j.error_message, j.completed_at is not null, j.attempts
        from public.jobs as j where j.id = %L$$,
        current_setting('t.final')
    ),
    $$values ('failed', 'prompt rejected', true, 1)$$,
    'a final error fails the job at its first attempt'
);

select * from finish();
rollback;
