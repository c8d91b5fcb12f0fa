-- A worker of one pool never claims another pool's jobs.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'video_fast', prompt := 'a wave') is not null;
select public.queue_job(job_type := 'rv51_fast', prompt := 'a face') is not null;

select tests.authenticate_as_worker();
select set_config('t.claimed', (
    select coalesce(jsonb_agg(c.job_type), '[]')::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 10) as c
), true) is not null;
select set_config('t.claimed_wan', (
    select coalesce(jsonb_agg(c.job_type), '[]')::text
    from public.claim_jobs(worker_pool := 'wan', worker_id := 'gpu-2', max_jobs := 10) as c
), true) is not null;
select tests.clear_authentication();

select is(current_setting('t.claimed')::jsonb, '[]'::jsonb, 'the sdxl worker claims nothing');
select is(
    current_setting('t.claimed_wan')::jsonb, '["video_fast"]'::jsonb,
    'the wan worker claims only the wan job'
);
select is(
    (select j.status from public.jobs as j where j.job_type = 'rv51_fast'), 'queued',
    'the rv51 job is still queued'
);

select * from finish();
rollback;
