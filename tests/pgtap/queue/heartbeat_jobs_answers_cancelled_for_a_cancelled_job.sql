-- When the owner cancels a running job, the worker's next heartbeat answers 'cancelled' and
-- does not extend anything.
begin;
select plan(3);

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
select public.cancel_job(job_id := current_setting('t.job')::uuid) is not null;

select tests.authenticate_as_worker();
select set_config('t.beat', (
    select to_jsonb(h)::text
    from public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
            lease_tokens := array[current_setting('t.token')::uuid]
        ) as h
), true) is not null;
select tests.clear_authentication();

select is(current_setting('t.beat')::jsonb ->> 'state', 'cancelled', 'the answer is cancelled');
select is(current_setting('t.beat')::jsonb ->> 'lease_expires_at', null, 'with no lease');
select results_eq(
    format(
        'select j.status, j.lease_expires_at from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('cancelled', null::timestamptz)$$,
    'the job stays cancelled without a lease'
);

select * from finish();
rollback;
