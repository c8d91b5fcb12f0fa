-- After lease expiry, rescue requeues a processing job with attempts left (error_message says
-- the lease expired) and fails one at max_attempts; unexpired leases are untouched; it answers
-- the counts.
begin;
select plan(7);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.retry', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'retry'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.last', public.queue_job(
    job_type := 'rv51_fast', prompt := 'last'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.alive', public.queue_job(
    job_type := 'video_fast', prompt := 'alive'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.clear_authentication();
update public.jobs set max_attempts = 1 where id = current_setting('t.last')::uuid;

-- leases: sdxl_image_fast 120 s, rv51_fast 120 s, video_fast 600 s from now()
select tests.authenticate_as_worker();
select count(*) = 3 from (
    select c.job_id
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as c
    union all
    select c.job_id
    from public.claim_jobs(
            worker_pool := 'rv51', worker_id := 'gpu-2'
        ) as c
    union all
    select c.job_id from public.claim_jobs(
            worker_pool := 'wan', worker_id := 'gpu-3'
        ) as c
) as claimed;
select set_config('t.before', public.rescue_expired_jobs()::text, true) is not null;
-- Time moves the honest way: as the owner, the two short leases end a second ago.
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second'
where id in (current_setting('t.retry')::uuid, current_setting('t.last')::uuid);
select tests.authenticate_as_worker();
select set_config('t.answer', public.rescue_expired_jobs()::text, true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.before')::jsonb, '{"requeued": 0, "failed": 0}'::jsonb,
    'before expiry nothing is rescued'
);
select is(
    current_setting('t.answer')::jsonb, '{"requeued": 1, "failed": 1}'::jsonb,
    'after expiry one job is requeued and one failed'
);
select results_eq(
    format(
        $$select j.status, j.attempts, j.locked_by, j.completed_at
        from public.jobs as j where j.id = %L$$,
        current_setting('t.retry')
    ),
    $$values ('queued', 1, null::text, null::timestamptz)$$,
    'the job with attempts left is queued again'
);
select matches(
    (select j.error_message from public.jobs as j where j.id = current_setting('t.retry')::uuid),
    '^lease expired: its worker stopped heartbeating ',
    'its error_message says the lease expired (not which worker: its owner reads it)'
);
select cmp_ok(
    (select j.run_at from public.jobs as j where j.id = current_setting('t.retry')::uuid),
    '>', now(),
    'it is retried after a backoff'
);
select results_eq(
    format(
        $$select j.status, j.attempts, j.completed_at is not null, j.error_message ~ 'lease expired'
        from public.jobs as j where j.id = %L$$,
        current_setting('t.last')
    ),
    $$values ('failed', 1, true, true)$$,
    'the job at max_attempts is failed'
);
select results_eq(
    format(
        $$select j.status, j.locked_by, j.lease_expires_at from public.jobs as j where j.id = %L$$,
        current_setting('t.alive')
    ),
    $$values ('processing', 'gpu-3', now() + interval '600 seconds')$$,
    'the unexpired lease is untouched'
);

select * from finish();
rollback;
