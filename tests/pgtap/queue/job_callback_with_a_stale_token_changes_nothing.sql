-- A report naming another claim's lease token answers 'stale' and changes nothing.
begin;
select plan(3);

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
select set_config('t.answer', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := gen_random_uuid(),
    assets := jsonb_build_array(current_setting('t.alice') || '/o/a.png')
)::text, true) is not null;
select set_config('t.failed', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'failed',
    lease_token := gen_random_uuid(), error_message := 'x', retryable := false
)::text, true) is not null;
select tests.clear_authentication();

select is(current_setting('t.answer')::jsonb ->> 'result', 'stale', 'a completion is stale');
select is(current_setting('t.failed')::jsonb ->> 'result', 'stale', 'a failure is stale');
select results_eq(
    format(
        $$select j.status, j.lease_token, j.error_message,
            (select count(*)::integer from public.images_videos as iv where iv.job_id = j.id)
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    format(
        $$values ('processing', jobs_private.lease_digest(%L::uuid), null::text, 0)$$,
        current_setting('t.token')
    ),
    'the job is still processing under its token, with no outputs'
);

select * from finish();
rollback;
