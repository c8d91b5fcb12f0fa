-- A job whose run_at is in the future is not claimable yet; once its run_at has passed it is.
-- Time moves the honest way: the owner moves run_at (a worker has no clock to set).
begin;
select plan(3);

select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'later', run_after := now() + interval '1 hour'
) is not null;

select tests.authenticate_as_worker();
select set_config('t.early', (
    select count(*)::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        )
), true) is not null;
select tests.clear_authentication();
update public.jobs set run_at = now()
where user_id = current_setting('t.admin')::uuid;
select tests.authenticate_as_worker();
select set_config('t.on_time', (
    select count(*)::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        )
), true) is not null;
select tests.clear_authentication();

select is(current_setting('t.early'), '0', 'nothing is claimed before run_at');
select is(current_setting('t.on_time'), '1', 'the job is claimed at run_at');
select is(
    (select j.status from public.jobs as j where j.user_id = current_setting('t.admin')::uuid),
    'processing',
    'and is processing'
);

select * from finish();
rollback;
