-- retry_job (as an admin) puts a failed job back in the queue with attempts 0 and no
-- completion time, and a worker can claim it again.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', (
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')
    -> 'jobs' -> 0 ->> 'id'
), true) is not null;
select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'failed',
    lease_token := current_setting('t.token')::uuid, error_message := 'CUDA out of memory',
    retryable := false
) ->> 'result' = 'failed';

select tests.authenticate_as(current_setting('t.admin')::uuid);
select
    set_config('t.answer', public.retry_job(job_id := current_setting('t.job')::uuid)::text, true)
    is not null;
select tests.clear_authentication();

select is(
    (
        select j.status || '/' || j.attempts from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    'queued/0',
    'the job is queued again with attempts 0'
);
select is(
    (select j.completed_at from public.jobs as j where j.id = current_setting('t.job')::uuid),
    null,
    'completed_at is cleared'
);
select is(
    current_setting('t.answer')::jsonb,
    jsonb_build_object(
        'id', current_setting('t.job'), 'status', 'queued',
        'previous_error', 'CUDA out of memory'
    ),
    'the answer names the previous error'
);
select tests.authenticate_as_worker();
select set_config('t.claim', (
    select to_jsonb(c)::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-2') as c
), true) is not null;
select tests.clear_authentication();
select
    is(
        current_setting('t.claim')::jsonb ->> 'job_id',
        current_setting('t.job'),
        'it is claimed again'
    );
select is((current_setting('t.claim')::jsonb ->> 'attempt')::integer, 1, 'as attempt 1');

select * from finish();
rollback;
