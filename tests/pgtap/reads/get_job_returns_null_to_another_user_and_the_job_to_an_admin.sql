-- get_job is RLS-scoped: another user gets null (as for a job that does not exist), an admin
-- gets any user's job.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', (
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')
    -> 'jobs' -> 0 ->> 'id'
), true) is not null;

select is(
    public.get_job(job_id := current_setting('t.job')::uuid) ->> 'id', current_setting('t.job'),
    'alice gets her job'
);
select tests.authenticate_as(current_setting('t.bob')::uuid);
select is(
    public.get_job(job_id := current_setting('t.job')::uuid), null, 'bob gets null'
);
select is(
    public.get_job(job_id := gen_random_uuid()), null, 'an unknown job is null too'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    public.get_job(job_id := current_setting('t.job')::uuid) ->> 'user_id',
    current_setting('t.alice'),
    'an admin gets alice''s job'
);
select tests.clear_authentication();

select * from finish();
rollback;
