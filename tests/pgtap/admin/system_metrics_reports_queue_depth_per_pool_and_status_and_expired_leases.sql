-- system_metrics reports queue depth per pool and status (ready jobs and the oldest age) and the
-- leases of processing jobs: how many, how many expired, how many workers. Time moves the
-- honest way: the owner moves a lease's expiry into the past.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a', num_images := 3) is not null;
select public.queue_job(job_type := 'video_fast', prompt := 'b', num_images := 2) is not null;
-- Two sdxl jobs claimed by two workers with a 60 s lease.
select tests.authenticate_as_worker();
select count(*) = 1 from public.claim_jobs(
        worker_pool := 'sdxl', worker_id := 'gpu-1', lease_seconds := 60
    );
select count(*) = 1 from public.claim_jobs(
        worker_pool := 'sdxl', worker_id := 'gpu-2', lease_seconds := 60
    );

select tests.clear_authentication();
-- gpu-1's lease ended 10 s ago; gpu-2's has 60 s left.
update public.jobs set lease_expires_at = now() - interval '10 s'
where locked_by = 'gpu-1';
select tests.authenticate_as(tests.create_user('admin@example.com', true));
select
    set_config('t.m', public.system_metrics()::text, true)
    is not null;
select tests.clear_authentication();

select results_eq(
    $$select q ->> 'worker_pool', q ->> 'status', (q ->> 'jobs')::integer, (q ->> 'ready')::integer
        from jsonb_array_elements(current_setting('t.m')::jsonb -> 'queue') as q$$,
    $$values ('sdxl', 'processing', 2, 0), ('sdxl', 'queued', 1, 1), ('wan', 'queued', 2, 2)$$,
    'queue depth per pool and status, with the ready queued jobs'
);
select is(
    current_setting('t.m')::jsonb -> 'leases',
    '{"processing": 2, "expired": 1, "active_workers": 2}'::jsonb,
    'two processing jobs, one lease expired, two workers'
);
select is(
    (current_setting('t.m')::jsonb -> 'queue' -> 2 ->> 'oldest_seconds')::numeric,
    round(extract(epoch from (
        (current_setting('t.m')::jsonb ->> 'now')::timestamptz - now()
    ))::numeric, 1),
    'the oldest queued job''s age at the server''s now'
);

select * from finish();
rollback;
