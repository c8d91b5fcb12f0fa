-- list_jobs is scoped to the signed-in user: another user (even an admin) gets none of alice's
-- jobs.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat', num_images := 2)
    is not null;

select is(
    (select count(*)::integer from public.list_jobs()), 2, 'alice sees her two jobs'
);
select tests.authenticate_as(current_setting('t.bob')::uuid);
select is_empty($$select from public.list_jobs()$$, 'bob sees nothing');
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is_empty($$select from public.list_jobs()$$, 'an admin''s list is their own: empty');
select tests.clear_authentication();

select * from finish();
rollback;
