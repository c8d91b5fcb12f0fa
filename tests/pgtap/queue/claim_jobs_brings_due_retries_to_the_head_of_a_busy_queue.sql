-- A retry whose backoff is over waits in the deferred band, which claims read after the pool's
-- fairly ranked jobs: in a pool that always has fresh work it would wait for ever. About once
-- per 64 jobs claimed (always after a claim of 64 or more), a claim ranks the pool's due
-- retries with the head of the queue, so they are claimed next.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- 101 jobs of one user at once: past the queued cap and the rate of new jobs (not this test's)
update jobs_private.settings set max_queued_per_user = 1000, jobs_per_minute = null
where singleton;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'retry me') is not null;
select count(public.queue_job(job_type := 'sdxl_image_fast', prompt := 'fresh ' || g)) = 100
from generate_series(1, 100) as g;
select tests.clear_authentication();

-- The first job fails with attempts left: requeued into the deferred band with a backoff.
select tests.authenticate_as_worker();
select set_config('t.failed', (
    select public.job_callback(c.job_id, 'failed', c.lease_token, 'gpu fell over') ->> 'result'
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select tests.clear_authentication();
select is(current_setting('t.failed'), 'requeued', 'the failure is requeued with a backoff');
-- its backoff is over (moved as the owner: time is the server's)
update public.jobs set run_at = now() - interval '1 second' where original_prompt = 'retry me';

-- A claim of 64 fresh jobs; then the due retry is the next job claimed, before 36 fresh ones.
select tests.authenticate_as_worker();
select set_config('t.batch', (
    select string_agg(distinct left(c.prompt, 5), ',')
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 64) as c
), true) is not null;
select set_config('t.next', (
    select c.prompt from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select tests.clear_authentication();
select is(current_setting('t.batch'), 'fresh', 'the 64 jobs claimed first are fresh ones');
select is(current_setting('t.next'), 'retry me', 'the due retry is claimed next');

select * from finish();
rollback;
