-- A stopping worker hands back the job it holds: the job is queued again at once, its attempt
-- given back and its lease gone; the next claim is the same attempt number again.
begin;
select plan(4);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

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
select results_eq(
    $$select r.job_id::text, r.state from public.release_jobs(
        worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
        lease_tokens := array[current_setting('t.token')::uuid]) as r$$,
    $$values (current_setting('t.job'), 'released')$$,
    'the holder releases the job: released'
);
select tests.clear_authentication();
select results_eq(
    format(
        'select j.status, j.attempts, j.lease_token, j.locked_by, j.lease_expires_at,
            j.run_at <= now()
        from public.jobs as j where j.id = %L', current_setting('t.job')
    ),
    $$values ('queued', 0, null::uuid, null::text, null::timestamptz, true)$$,
    'queued, attempt given back, no lease, runnable now'
);
select tests.authenticate_as_worker();
select is(
    (select c.attempt from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-2') as c),
    1, 'the next claim is attempt 1 again'
);
select tests.clear_authentication();
select is(
    (
        select r.releases from jobs_private.job_releases as r
        where r.job_id = current_setting('t.job')::uuid
    ),
    1, 'the release is counted'
);
select * from finish();
rollback;
