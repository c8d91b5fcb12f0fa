-- job_callbacks is for workers and the service role: a signed-in user (even with the job's
-- own lease token) and anon get 42501 (HTTP 403 / 401), the way PostgREST calls it, and
-- nothing changes.
begin;
select plan(4);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a cat'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select set_config('t.reports', jsonb_build_array(jsonb_build_object(
    'job_id', current_setting('t.job'), 'status', 'completed',
    'lease_token', current_setting('t.token'),
    'assets', jsonb_build_array(current_setting('t.alice') || '/x/y.png')
))::text, true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select * from public.job_callbacks(reports := current_setting('t.reports')::jsonb)$$,
    '42501', null, 'the job''s owner cannot report its outcome, even with the token'
);
select tests.authenticate_as_anon();
select throws_ok(
    $$select * from public.job_callbacks(reports := current_setting('t.reports')::jsonb)$$,
    '42501', null, 'anon cannot report job outcomes'
);
select tests.clear_authentication();

select results_eq(
    format(
        'select j.status, (select count(*)::integer from public.images_videos as iv
            where iv.job_id = j.id) from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('processing', 0)$$,
    'the job is untouched'
);
-- control: the same call as the worker completes it
select tests.authenticate_as_worker();
select is(
    (
        select r.result
        from public.job_callbacks(reports := current_setting('t.reports')::jsonb) as r
    ),
    'completed', 'control: the worker''s call with the same reports completes the job'
);
select tests.clear_authentication();

select * from finish();
rollback;
