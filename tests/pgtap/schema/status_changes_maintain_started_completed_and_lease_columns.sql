-- The update trigger keeps started_at, completed_at and the lease columns in step with the
-- status: a claim stamps started_at, a finish stamps completed_at and drops the lease, a retry
-- clears completed_at and the lease.
begin;
select plan(10);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('stamps@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type)
values
('00000000-0000-0000-0000-000000060001', current_setting('t.owner')::uuid, 'image_fast'),
('00000000-0000-0000-0000-000000060002', current_setting('t.owner')::uuid, 'image_fast'),
('00000000-0000-0000-0000-000000060003', current_setting('t.owner')::uuid, 'image_fast');

select tests.authenticate_as_service_role();
update public.jobs
set
    status = 'processing', attempts = 1, locked_by = 'w1',
    lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
where user_id = current_setting('t.owner')::uuid;
select is(
    (
        select count(*)::int from public.jobs
        where user_id = current_setting('t.owner')::uuid and started_at = now()
            and completed_at is null
    ),
    3, 'a claim sets started_at and leaves completed_at null'
);

update public.jobs set status = 'completed' where id = '00000000-0000-0000-0000-000000060001';
select results_eq(
    $$select completed_at = now(), locked_by, lease_expires_at from public.jobs
    where id = '00000000-0000-0000-0000-000000060001'$$,
    $$values (true, null::text, null::timestamptz)$$,
    'completing sets completed_at and drops the lease holder and expiry'
);
update public.jobs set status = 'failed', error_message = 'boom'
where id = '00000000-0000-0000-0000-000000060002';
select results_eq(
    $$select completed_at = now(), locked_by, lease_expires_at from public.jobs
    where id = '00000000-0000-0000-0000-000000060002'$$,
    $$values (true, null::text, null::timestamptz)$$,
    'failing sets completed_at and drops the lease'
);
update public.jobs set status = 'queued' where id = '00000000-0000-0000-0000-000000060003';
select results_eq(
    $$select completed_at, locked_by, lease_expires_at from public.jobs
    where id = '00000000-0000-0000-0000-000000060003'$$,
    $$values (null::timestamptz, null::text, null::timestamptz)$$,
    'a retry (processing -> queued) drops the lease and has no completed_at'
);
update public.jobs set status = 'queued' where id = '00000000-0000-0000-0000-000000060002';
select is(
    (select completed_at from public.jobs where id = '00000000-0000-0000-0000-000000060002'),
    null, 'an admin retry (failed -> queued) clears completed_at'
);
update public.jobs set status = 'cancelled' where id = '00000000-0000-0000-0000-000000060003';
select is(
    (select completed_at from public.jobs where id = '00000000-0000-0000-0000-000000060003'),
    now(), 'cancelling sets completed_at'
);

-- a re-claim after a retry gets a new started_at even when the writer passes the old one
select tests.clear_authentication();
update public.jobs set started_at = now() - interval '1 hour', status = 'queued'
where id = '00000000-0000-0000-0000-000000060002';
update public.jobs
set
    status = 'processing', attempts = 2, locked_by = 'w2',
    lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
where id = '00000000-0000-0000-0000-000000060002';
select is(
    (select started_at from public.jobs where id = '00000000-0000-0000-0000-000000060002'),
    now(), 'every claim restamps started_at'
);
-- a status that does not change keeps the timestamps
update public.jobs set error_message = 'note' where id = '00000000-0000-0000-0000-000000060001';
select is(
    (select completed_at from public.jobs where id = '00000000-0000-0000-0000-000000060001'),
    now(), 'an update that keeps the status keeps completed_at'
);
select throws_ok(
    $$update public.jobs set completed_at = null
    where id = '00000000-0000-0000-0000-000000060001'$$,
    '23514', null, 'a finished job cannot lose its completed_at'
);
select ok(
    (
        select completed_at >= started_at from public.jobs
        where id = '00000000-0000-0000-0000-000000060001'
    ),
    'completed_at is never before started_at'
);

select * from finish();
rollback;
