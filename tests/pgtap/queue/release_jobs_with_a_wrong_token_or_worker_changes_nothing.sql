-- release_jobs is fenced by the claim: another worker id, another token, a job that is no
-- longer processing or an unknown job answer lost and change nothing; bad arrays are 22023.
begin;
select plan(7);
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
select is(
    (
        select r.state
        from public.release_jobs(
                worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
                lease_tokens := array[gen_random_uuid()]
            ) as r
    ),
    'lost', 'a wrong token is lost'
);
select is(
    (
        select r.state
        from public.release_jobs(
                worker_id := 'gpu-2', job_ids := array[current_setting('t.job')::uuid],
                lease_tokens := array[current_setting('t.token')::uuid]
            ) as r
    ),
    'lost', 'another worker id is lost'
);
select is(
    (
        select r.state
        from public.release_jobs(
                worker_id := 'gpu-1', job_ids := array[gen_random_uuid()],
                lease_tokens := array[gen_random_uuid()]
            ) as r
    ),
    'lost', 'an unknown job is lost'
);
select throws_ok(
    $$select * from public.release_jobs(worker_id := 'gpu-1',
        job_ids := array[current_setting('t.job')::uuid], lease_tokens := array[]::uuid[])$$,
    '22023', null, 'arrays of different lengths are 22023'
);
select tests.clear_authentication();
select results_eq(
    format(
        'select j.status, j.attempts, j.lease_token::text from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('processing', 1,
        jobs_private.lease_digest(current_setting('t.token')::uuid)::text)$$,
    'the job is still processing under its claim'
);
select tests.authenticate_as_worker();
select is(
    public.job_callback(
        job_id := current_setting('t.job')::uuid, status := 'completed',
        lease_token := current_setting('t.token')::uuid
    ) ->> 'result',
    'completed', 'the holder completes it'
);
select is(
    (
        select r.state
        from public.release_jobs(
                worker_id := 'gpu-1', job_ids := array[current_setting('t.job')::uuid],
                lease_tokens := array[current_setting('t.token')::uuid]
            ) as r
    ),
    'lost', 'a finished job cannot be released'
);
select tests.clear_authentication();
select * from finish();
rollback;
