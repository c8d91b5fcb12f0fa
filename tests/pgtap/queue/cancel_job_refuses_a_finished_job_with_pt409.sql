-- A completed (or already cancelled) job cannot be cancelled: PT409 (HTTP 409), no change.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.other', public.queue_job(
    job_type := 'rv51_fast', prompt := 'y'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select public.cancel_job(job_id := current_setting('t.other')::uuid) is not null;

select tests.authenticate_as_service_role();
select
    public.job_callback(
        job_id := c.job_id, status := 'completed', lease_token := c.lease_token,
        assets := jsonb_build_array(current_setting('t.alice') || '/o/a.png')
    ) ->> 'result' = 'completed'
from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    format('select public.cancel_job(job_id := %L)', current_setting('t.job')),
    'PT409', null, 'a completed job cannot be cancelled'
);
select throws_ok(
    format('select public.cancel_job(job_id := %L)', current_setting('t.other')),
    'PT409', null, 'a cancelled job cannot be cancelled again'
);
select tests.clear_authentication();
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'completed',
    'the job stays completed'
);

select * from finish();
rollback;
