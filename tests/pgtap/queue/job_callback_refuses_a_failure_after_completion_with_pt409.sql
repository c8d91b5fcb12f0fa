-- A report conflicting with the recorded outcome (failed after completed) is PT409 (HTTP 409)
-- and changes nothing.
begin;
select plan(2);

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
select tests.authenticate_as_service_role();
select public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/o/a.png')
) ->> 'result' = 'completed';

select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L,
            error_message := %L)',
        current_setting('t.job'), 'failed', current_setting('t.token'), 'boom'
    ),
    'PT409', null, 'failed after completed is a conflict'
);
select tests.clear_authentication();

select results_eq(
    format(
        'select j.status, j.error_message from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('completed', null::text)$$,
    'the job stays completed without an error message'
);

select * from finish();
rollback;
