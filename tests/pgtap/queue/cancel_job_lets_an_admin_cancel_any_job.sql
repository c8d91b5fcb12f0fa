-- An admin may cancel another user's job.
begin;
select plan(2);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    public.cancel_job(job_id := current_setting('t.job')::uuid) ->> 'status', 'cancelled',
    'the admin cancels alice''s job'
);
select tests.clear_authentication();
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'cancelled',
    'the job is cancelled'
);

select * from finish();
rollback;
