-- The worker-reported analytics columns hold real values (qwen_expansion_percentage 1500.5
-- overflowed the app's numeric(5,2)) and their named CHECKs reject impossible ones; text
-- columns and priority have bounds.
begin;
select plan(22);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('analytics@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type)
values ('00000000-0000-0000-0000-00000000e001', current_setting('t.owner')::uuid, 'image_fast');

select lives_ok(
    $$update public.jobs set qwen_expansion_percentage = 1500.5
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    'qwen_expansion_percentage 1500.5 fits'
);
select is(
    (
        select qwen_expansion_percentage from public.jobs
        where id = '00000000-0000-0000-0000-00000000e001'
    ),
    1500.50::numeric, 'qwen_expansion_percentage keeps 1500.5 exactly'
);
select lives_ok(
    $$update public.jobs set qwen_expansion_percentage = 1000000
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    'qwen_expansion_percentage 1000000 fits'
);
select throws_ok(
    $$update public.jobs set qwen_expansion_percentage = -0.01
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_qwen_expansion_percentage_check"',
    'qwen_expansion_percentage cannot be negative'
);
select throws_ok(
    $$update public.jobs set qwen_expansion_percentage = 1000000.01
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_qwen_expansion_percentage_check"',
    'qwen_expansion_percentage is at most 1000000'
);
select lives_ok(
    $$update public.jobs set quality_rating = 100, quality_improvement = -250.25
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    'quality_rating 100 and a negative quality_improvement fit'
);
select throws_ok(
    $$update public.jobs set quality_rating = 100.01
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_quality_rating_check"',
    'quality_rating is at most 100'
);
select throws_ok(
    $$update public.jobs set quality_rating = -1
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_quality_rating_check"',
    'quality_rating cannot be negative'
);
select throws_ok(
    $$update public.jobs set quality_improvement = 1000000.01
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_quality_improvement_check"',
    'quality_improvement is at most 1000000'
);
select throws_ok(
    $$update public.jobs set quality_improvement = -1000000.01
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_quality_improvement_check"',
    'quality_improvement is at least -1000000'
);
select throws_ok(
    $$update public.jobs set enhancement_time_ms = -1
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_enhancement_time_ms_check"',
    'enhancement_time_ms cannot be negative'
);
select lives_ok(
    $$update public.jobs set enhancement_time_ms = 0
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    'enhancement_time_ms 0 is fine'
);
select throws_ok(
    $$update public.jobs set priority = 101 where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_priority_check"',
    'priority is at most 100'
);
select throws_ok(
    $$update public.jobs set priority = -101 where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_priority_check"',
    'priority is at least -100'
);
select throws_ok(
    $$update public.jobs set idempotency_key = ''
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_idempotency_key_check"',
    'idempotency_key cannot be empty'
);
select throws_ok(
    $$update public.jobs set idempotency_key = repeat('k', 201)
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_idempotency_key_check"',
    'idempotency_key has at most 200 characters'
);
select throws_ok(
    $$update public.jobs set error_message = repeat('e', 10001)
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_error_message_check"',
    'error_message has at most 10000 characters'
);
select throws_ok(
    $$update public.jobs set review_notes = repeat('n', 10001)
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_review_notes_check"',
    'review_notes has at most 10000 characters'
);
select throws_ok(
    $$update public.jobs set template_name = repeat('t', 201)
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_template_name_check"',
    'template_name has at most 200 characters'
);
select throws_ok(
    $$update public.jobs set status = 'processing', locked_by = '',
        lease_expires_at = now() + interval '1 minute', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_locked_by_check"',
    'locked_by cannot be empty'
);
select throws_ok(
    $$update public.jobs set enhancement_strategy = repeat('s', 51)
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '22001', null, 'enhancement_strategy has at most 50 characters'
);
select throws_ok(
    $$update public.jobs set quality_rating = 'NaN'
    where id = '00000000-0000-0000-0000-00000000e001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_quality_rating_check"',
    'quality_rating cannot be NaN'
);

select * from finish();
rollback;
