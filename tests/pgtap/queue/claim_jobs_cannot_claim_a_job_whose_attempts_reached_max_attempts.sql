-- Once attempts = max_attempts the job can never be claimed again: the last failure fails it
-- (no requeue), the rescue fails it, and no write can put it back in the queue.
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.expiring', public.queue_job(
    job_type := 'rv51_fast', prompt := 'y'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.clear_authentication();
update public.jobs set max_attempts = 2
where id in (current_setting('t.job')::uuid, current_setting('t.expiring')::uuid);

-- Time moves the honest way: as the owner, backoffs end (run_at) and leases expire.
select tests.authenticate_as_service_role();
-- two failing attempts of the sdxl job
select
    public.job_callback(
        job_id := c.job_id, status := 'failed', lease_token := c.lease_token, error_message := 'e1'
    ) ->> 'result' = 'requeued'
from public.claim_jobs(
        worker_pool := 'sdxl', worker_id := 'gpu-1'
    ) as c;
select tests.clear_authentication();
update public.jobs set run_at = now() where status = 'queued';
select tests.authenticate_as_service_role();
select set_config('t.second', (
    select
        public.job_callback(
            job_id := c.job_id, status := 'failed', lease_token := c.lease_token,
            error_message := 'e2'
        )::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as c
), true) is not null;
-- two expiring attempts of the rv51 job
select public.claim_jobs(
    worker_pool := 'rv51', worker_id := 'gpu-2'
) is not null;
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second' where status = 'processing';
select tests.authenticate_as_service_role();
select public.rescue_expired_jobs() ->> 'requeued' = '1';
select tests.clear_authentication();
update public.jobs set run_at = now() where status = 'queued';
select tests.authenticate_as_service_role();
select public.claim_jobs(
    worker_pool := 'rv51', worker_id := 'gpu-2'
) is not null;
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second' where status = 'processing';
select tests.authenticate_as_service_role();
select set_config('t.rescue', public.rescue_expired_jobs()::text, true) is not null;
select tests.clear_authentication();
update public.jobs set run_at = now() where true;
select tests.authenticate_as_service_role();

select set_config('t.claimed', (
    select count(*)::text from (
        select c.job_id
        from public.claim_jobs(
                worker_pool := 'sdxl', worker_id := 'gpu-3'
            ) as c
        union all
        select c.job_id from public.claim_jobs(
                worker_pool := 'rv51', worker_id := 'gpu-3'
            ) as c
    ) as claimed
), true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.second')::jsonb ->> 'result', 'failed',
    'the failure of the last attempt is final'
);
select is(
    current_setting('t.rescue')::jsonb, '{"requeued": 0, "failed": 1}'::jsonb,
    'the expiry of the last attempt is final'
);
select results_eq(
    format(
        $$select j.status, j.attempts from public.jobs as j where j.id in (%L, %L) order by j.id$$,
        current_setting('t.job'), current_setting('t.expiring')
    ),
    $$values ('failed', 2), ('failed', 2)$$,
    'both jobs are failed at attempts = max_attempts'
);
select is(current_setting('t.claimed'), '0', 'neither can be claimed');
select throws_ok(
    format(
        $$update public.jobs set status = 'queued', completed_at = null where id = %L$$,
        current_setting('t.job')
    ),
    '23514', null, 'even the owner role cannot queue a job without attempts left'
);
select throws_ok(
    format(
        $$update public.jobs set attempts = 3 where id = %L$$,
        current_setting('t.job')
    ),
    '23514', null, 'attempts cannot exceed max_attempts'
);

select * from finish();
rollback;
