-- max_jobs bounds a claim.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 4) is not null;
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'y', num_images := 1) is not null;

select tests.authenticate_as_worker();
select set_config('t.first', (
    select count(*)::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 3)
), true) is not null;
select set_config('t.second', (
    select count(*)::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-2', max_jobs := 3)
), true) is not null;
select tests.clear_authentication();

select is(current_setting('t.first'), '3', 'max_jobs 3 claims 3 of 5');
select is(current_setting('t.second'), '2', 'the next claim gets the remaining 2');
select is(
    (select count(*)::integer from public.jobs as j where j.status = 'processing'), 5,
    'each job was claimed once'
);

select * from finish();
rollback;
