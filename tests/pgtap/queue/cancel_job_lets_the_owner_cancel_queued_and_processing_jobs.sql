-- The owner cancels a queued job and a running one; the running one loses its lease.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.running', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'running'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.queued', public.queue_job(
    job_type := 'rv51_fast', prompt := 'queued'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.authenticate_as_worker();
select public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select is(
    public.cancel_job(job_id := current_setting('t.queued')::uuid),
    jsonb_build_object(
        'id', current_setting('t.queued')::uuid, 'status', 'cancelled', 'previous_status', 'queued'
    ),
    'a queued job is cancelled'
);
select is(
    public.cancel_job(job_id := current_setting('t.running')::uuid) ->> 'previous_status',
    'processing',
    'a processing job is cancelled'
);
select tests.clear_authentication();

select results_eq(
    format(
        $$select j.status, j.completed_at is not null from public.jobs as j where j.id = %L$$,
        current_setting('t.queued')
    ),
    $$values ('cancelled', true)$$,
    'the queued job is cancelled with completed_at'
);
select results_eq(
    format(
        $$select j.status, j.locked_by, j.lease_expires_at, j.completed_at is not null
        from public.jobs as j where j.id = %L$$,
        current_setting('t.running')
    ),
    $$values ('cancelled', null::text, null::timestamptz, true)$$,
    'the running job is cancelled and its lease released'
);
select tests.authenticate_as_worker();
select set_config('t.claimed', (
    select count(*)::text from public.claim_jobs(worker_pool := 'rv51', worker_id := 'gpu-2')
), true) is not null;
select tests.clear_authentication();
select is(current_setting('t.claimed'), '0', 'a cancelled job is not claimed');

select * from finish();
rollback;
