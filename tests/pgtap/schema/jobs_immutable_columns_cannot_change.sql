-- id, user_id, created_at and job_type of a job never change (PT400), for the owner and for
-- the service role alike.
begin;
select plan(9);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('immutable@example.com')::text, true) is not null;
select set_config('t.other', tests.create_user('immutable-2@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type)
values ('00000000-0000-0000-0000-000000040001', current_setting('t.owner')::uuid, 'image_fast');

select throws_ok(
    $$update public.jobs set id = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed', 'id is immutable'
);
select throws_ok(
    $$update public.jobs set user_id = current_setting('t.other')::uuid
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed',
    'user_id is immutable'
);
select throws_ok(
    $$update public.jobs set created_at = now() - interval '1 day'
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed',
    'created_at is immutable'
);
select throws_ok(
    $$update public.jobs set job_type = 'image_high'
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed',
    'job_type is immutable'
);

select tests.authenticate_as_service_role();
select throws_ok(
    $$update public.jobs set user_id = current_setting('t.other')::uuid
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed',
    'user_id is immutable for the service role'
);
select throws_ok(
    $$update public.jobs set job_type = 'image_high'
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed',
    'job_type is immutable for the service role'
);
select throws_ok(
    $$update public.jobs set id = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'PT400', 'jobs.id, user_id, created_at and job_type cannot be changed',
    'id is immutable for the service role'
);
select lives_ok(
    $$update public.jobs set job_type = 'image_fast', error_message = 'same values are fine'
    where id = '00000000-0000-0000-0000-000000040001'$$,
    'setting an immutable column to its own value is fine'
);
select tests.clear_authentication();
select results_eq(
    $$select user_id, job_type from public.jobs where id = '00000000-0000-0000-0000-000000040001'$$,
    $$select current_setting('t.owner')::uuid, 'image_fast'::text$$,
    'the job kept its owner and type'
);

select * from finish();
rollback;
