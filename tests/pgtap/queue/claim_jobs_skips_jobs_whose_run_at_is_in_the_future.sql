-- A job whose run_at is after the claim's clock is not claimable yet.
begin;
select plan(3);

select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'later', run_after := '2030-01-01 12:00:00+00'
) is not null;

select tests.authenticate_as_worker();
select set_config('t.early', (
    select count(*)::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1', now := '2030-01-01 11:59:59+00'
        )
), true) is not null;
select set_config('t.on_time', (
    select count(*)::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'gpu-1', now := '2030-01-01 12:00:00+00'
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
