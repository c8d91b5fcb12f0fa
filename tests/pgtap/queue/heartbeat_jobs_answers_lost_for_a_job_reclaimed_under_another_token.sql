-- A worker whose job was rescued and re-claimed by another worker hears 'lost', and its
-- heartbeat does not touch the new holder's lease.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select set_config('t.old_token', (
    select c.lease_token::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as c
), true) is not null;
-- As the owner: the lease ended a second ago (time moves the honest way).
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select public.rescue_expired_jobs() ->> 'requeued' = '1';
select set_config('t.rescued_beat', (
    select h.state
    from public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
            lease_tokens := array[current_setting('t.old_token')::uuid]
        ) as h
), true) is not null;
-- As the owner: the retry's backoff is over.
select tests.clear_authentication();
update public.jobs set run_at = now() where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.new_lease', (
    select c.lease_expires_at::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-2'
        ) as c
), true) is not null;
select set_config('t.beat', (
    select h.state
    from public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
            lease_tokens := array[current_setting('t.old_token')::uuid],
            lease_seconds := 3600
        ) as h
), true) is not null;
select tests.clear_authentication();

select is(current_setting('t.rescued_beat'), 'lost', 'after the rescue the job is lost');
select is(current_setting('t.beat'), 'lost', 'after the re-claim the old holder hears lost');
select is(
    current_setting('t.new_lease')::timestamptz, now() + interval '120 seconds',
    'the new claim has its own lease'
);
select results_eq(
    format(
        'select j.locked_by, j.lease_expires_at from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('gpu-2', now() + interval '120 seconds')$$,
    'the new holder''s lease is untouched by the old holder''s heartbeat'
);

select * from finish();
rollback;
