-- Another user's job answers exactly like a missing one: PT404 'job not found' (HTTP 404);
-- the job is not touched.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.mallory', tests.create_user('mallory@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as(current_setting('t.mallory')::uuid);
select throws_ok(
    format('select public.cancel_job(job_id := %L)', current_setting('t.job')),
    'PT404', 'job not found', 'another user''s job is not found'
);
select throws_ok(
    $$select public.cancel_job(job_id := gen_random_uuid())$$,
    'PT404', 'job not found', 'a missing job is not found, with the same message'
);
select tests.clear_authentication();

select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'queued',
    'the job is still queued'
);

select * from finish();
rollback;
