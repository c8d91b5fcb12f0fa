-- completed_at is set iff the job is finished, started_at <= completed_at, a processing job
-- has a started_at and a full lease, other jobs hold no lease, and reviewed_by implies
-- reviewed_at. Each named CHECK rejects its bad row with 23514.
begin;
select plan(11);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('timestamps@example.com')::text, true) is not null;
select set_config(
    't.admin', tests.create_user('reviewer@example.com', true)::text, true
) is not null;
insert into public.jobs (id, user_id, job_type)
values
('00000000-0000-0000-0000-00000000c001', current_setting('t.owner')::uuid, 'image_fast'),
('00000000-0000-0000-0000-00000000c002', current_setting('t.owner')::uuid, 'image_fast');
update public.jobs
set
    status = 'processing', locked_by = 'w1', lease_expires_at = now() + interval '1 minute',
    lease_token = gen_random_uuid(), attempts = 1
where id = '00000000-0000-0000-0000-00000000c002';

select throws_ok(
    $$update public.jobs set completed_at = now()
    where id = '00000000-0000-0000-0000-00000000c001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_completed_at_iff_finished_check"',
    'a queued job cannot have completed_at'
);
select throws_ok(
    $$insert into public.jobs (user_id, job_type, status, started_at, completed_at)
    values (current_setting('t.owner')::uuid, 'image_fast', 'completed',
        now(), now() - interval '1 hour')$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_started_before_completed_check"',
    'started_at cannot be after completed_at'
);
select throws_ok(
    $$update public.jobs set started_at = null where id = '00000000-0000-0000-0000-00000000c002'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_processing_started_check"',
    'a processing job has a started_at'
);
select throws_ok(
    $$update public.jobs set locked_by = null where id = '00000000-0000-0000-0000-00000000c002'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_processing_has_lease_check"',
    'a processing job has a lease holder'
);
select throws_ok(
    $$update public.jobs set lease_expires_at = null
    where id = '00000000-0000-0000-0000-00000000c002'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_processing_has_lease_check"',
    'a processing job has a lease expiry'
);
select throws_ok(
    $$update public.jobs set lease_token = null where id = '00000000-0000-0000-0000-00000000c002'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_processing_has_lease_check"',
    'a processing job has a lease token'
);
select throws_ok(
    $$update public.jobs set locked_by = 'w1', lease_expires_at = now()
    where id = '00000000-0000-0000-0000-00000000c001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_processing_has_lease_check"',
    'a queued job holds no lease'
);
select lives_ok(
    $$update public.jobs set reviewed_at = now()
    where id = '00000000-0000-0000-0000-00000000c001'$$,
    'reviewed_at may stand alone (the reviewing admin was deleted)'
);
select throws_ok(
    $$update public.jobs set reviewed_by = current_setting('t.admin')::uuid, reviewed_at = null
    where id = '00000000-0000-0000-0000-00000000c001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_reviewed_check"',
    'reviewed_by needs reviewed_at'
);
select lives_ok(
    $$update public.jobs set reviewed_by = current_setting('t.admin')::uuid, reviewed_at = now()
    where id = '00000000-0000-0000-0000-00000000c001'$$,
    'reviewed_by with reviewed_at is fine'
);
select lives_ok(
    $$insert into public.jobs (user_id, job_type, status, started_at, completed_at)
    values (current_setting('t.owner')::uuid, 'image_fast', 'completed',
        now() - interval '1 hour', now())$$,
    'a completed job with started_at before completed_at is fine'
);

select * from finish();
rollback;
