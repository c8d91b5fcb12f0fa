-- priority and run_after are for admins (and the service role): a user gets 42501.
begin;
select plan(7);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', priority := 5)$$,
    '42501', null, 'a user cannot set priority'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x',
        run_after := now() + interval '1 hour')$$,
    '42501', null, 'a user cannot set run_after'
);

select tests.authenticate_as(current_setting('t.admin')::uuid);
select lives_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'urgent', priority := 5,
        run_after := '2030-01-01 00:00:00+00')$$,
    'an admin may set priority and run_after'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', priority := 101)$$,
    '22023', null, 'priority outside -100..100'
);
select tests.clear_authentication();

select is(
    (
        select j.priority::integer from public.jobs as j
        where j.user_id = current_setting('t.admin')::uuid
    ),
    5,
    'the admin''s priority is stored'
);
select is(
    (select j.run_at from public.jobs as j where j.user_id = current_setting('t.admin')::uuid),
    '2030-01-01 00:00:00+00'::timestamptz,
    'the admin''s run_after is the run_at'
);
select is(
    (
        select count(*)::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    0,
    'the user''s refused requests wrote nothing'
);

select * from finish();
rollback;
