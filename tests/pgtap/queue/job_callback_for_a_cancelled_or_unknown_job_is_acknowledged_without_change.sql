-- A report about a cancelled job answers 'ignored_cancelled'; about a job that does not exist,
-- 'unknown_job'; neither changes anything.
begin;
select plan(4);

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
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.cancel_job(job_id := current_setting('t.job')::uuid) is not null;

select tests.authenticate_as_service_role();
select set_config('t.answer', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/o/a.png')
)::text, true) is not null;
select set_config('t.unknown', public.job_callback(
    job_id := '00000000-0000-0000-0000-000000000001', status := 'completed',
    assets := jsonb_build_array(current_setting('t.alice') || '/o/a.png')
)::text, true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.answer')::jsonb ->> 'result', 'ignored_cancelled',
    'a cancelled job''s report is ignored'
);
select results_eq(
    format(
        $$select j.status, j.image_id,
            (select count(*)::integer from public.images_videos as iv where iv.job_id = j.id)
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    $$values ('cancelled', null::uuid, 0)$$,
    'the job stays cancelled without outputs'
);
select is(
    current_setting('t.unknown')::jsonb ->> 'result', 'unknown_job',
    'an unknown job is acknowledged'
);
select is(
    (select count(*)::integer from public.images_videos), 0,
    'no outputs were created'
);

select * from finish();
rollback;
