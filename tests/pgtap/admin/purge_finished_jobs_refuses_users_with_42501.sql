-- purge_finished_jobs is for admins, pg_cron and the service role: a user gets 42501 and nothing
-- is deleted; anon cannot execute it.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type, metadata)
values (
    '00000000-0000-0000-0000-000000000001', current_setting('t.alice')::uuid, 'sdxl_image_fast',
    '{"prompt": "p"}'
);
update public.jobs set status = 'cancelled' where user_id = current_setting('t.alice')::uuid;
update public.jobs set completed_at = now() - interval '90 days'
where user_id = current_setting('t.alice')::uuid;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select public.purge_finished_jobs(older_than := interval '1 day')$$, '42501', null,
    'a user cannot purge'
);
select tests.authenticate_as_anon();
select throws_ok(
    $$select public.purge_finished_jobs(older_than := interval '1 day')$$, '42501', null,
    'anon cannot purge'
);
select tests.clear_authentication();
select is(
    (
        select count(*)::integer
        from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    1,
    'the job is still there'
);
select tests.authenticate_as_service_role();
select is(
    public.purge_finished_jobs(older_than := interval '1 day'), 1, 'the service role can purge'
);
select tests.clear_authentication();

select * from finish();
rollback;
