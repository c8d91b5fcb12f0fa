-- 0 <= attempts <= max_attempts, 1 <= max_attempts <= 25, and a queued job has an attempt
-- left (jobs_attempts_check, jobs_max_attempts_check, jobs_queued_has_attempts_left_check).
begin;
select plan(9);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('attempts@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type, max_attempts)
values ('00000000-0000-0000-0000-00000000b001', current_setting('t.owner')::uuid, 'image_fast', 3);

select throws_ok(
    $$update public.jobs set attempts = -1 where id = '00000000-0000-0000-0000-00000000b001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_attempts_check"',
    'attempts cannot be negative'
);
select throws_ok(
    $$update public.jobs set attempts = 4 where id = '00000000-0000-0000-0000-00000000b001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_attempts_check"',
    'attempts cannot exceed max_attempts'
);
select throws_ok(
    $$update public.jobs set max_attempts = 0 where id = '00000000-0000-0000-0000-00000000b001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_max_attempts_check"',
    'max_attempts must be at least 1'
);
select throws_ok(
    $$update public.jobs set max_attempts = 26 where id = '00000000-0000-0000-0000-00000000b001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_max_attempts_check"',
    'max_attempts is at most 25'
);
select throws_ok(
    $$update public.jobs set attempts = 3 where id = '00000000-0000-0000-0000-00000000b001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_queued_has_attempts_left_check"',
    'a queued job must have an attempt left'
);
select throws_ok(
    $$update public.jobs set max_attempts = 2, attempts = 3
    where id = '00000000-0000-0000-0000-00000000b001'$$,
    '23514', null, 'lowering max_attempts below attempts is refused'
);
select lives_ok(
    $$update public.jobs set attempts = 2 where id = '00000000-0000-0000-0000-00000000b001'$$,
    'attempts = max_attempts - 1 is fine for a queued job'
);
select lives_ok(
    $$update public.jobs set max_attempts = 25 where id = '00000000-0000-0000-0000-00000000b001'$$,
    'max_attempts 25 is fine'
);
-- a processing job may use its last attempt
select lives_ok(
    $$update public.jobs
    set status = 'processing', attempts = 25, locked_by = 'w1',
        lease_expires_at = now() + interval '1 minute', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-00000000b001'$$,
    'a processing job may have attempts = max_attempts'
);

select * from finish();
rollback;
