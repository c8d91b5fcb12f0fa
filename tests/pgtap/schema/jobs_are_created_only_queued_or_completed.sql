-- A job is born queued; a direct insert (service role or owner) may also create it completed.
-- Any other birth state is refused with PT409 naming the state.
begin;
select plan(7);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('birth@example.com')::text, true) is not null;

select tests.authenticate_as_service_role();
select lives_ok(
    $$insert into public.jobs (user_id, job_type, status)
    values (current_setting('t.owner')::uuid, 'image_fast', 'queued')$$,
    'the service role can insert a queued job'
);
select lives_ok(
    $$insert into public.jobs (id, user_id, job_type, status)
    values ('00000000-0000-0000-0000-000000070001', current_setting('t.owner')::uuid,
        'image_fast', 'completed')$$,
    'the service role can insert a completed job'
);
select is(
    (select completed_at from public.jobs where id = '00000000-0000-0000-0000-000000070001'),
    now(), 'a job born completed gets completed_at'
);
select throws_ok(
    $$insert into public.jobs (user_id, job_type, status, locked_by, lease_expires_at,
        lease_token, started_at)
    values (current_setting('t.owner')::uuid, 'image_fast', 'processing', 'w1',
        now() + interval '1 minute', gen_random_uuid(), now())$$,
    'PT409', 'a job cannot be created as processing',
    'the service role cannot insert a processing job'
);
select throws_ok(
    $$insert into public.jobs (user_id, job_type, status, completed_at)
    values (current_setting('t.owner')::uuid, 'image_fast', 'failed', now())$$,
    'PT409', 'a job cannot be created as failed',
    'the service role cannot insert a failed job'
);
select throws_ok(
    $$insert into public.jobs (user_id, job_type, status, completed_at)
    values (current_setting('t.owner')::uuid, 'image_fast', 'cancelled', now())$$,
    'PT409', 'a job cannot be created as cancelled',
    'the service role cannot insert a cancelled job'
);
select tests.clear_authentication();
select throws_ok(
    $$insert into public.jobs (user_id, job_type, status, completed_at)
    values (current_setting('t.owner')::uuid, 'image_fast', 'failed', now())$$,
    'PT409', 'a job cannot be created as failed', 'the owner cannot insert a failed job either'
);

select * from finish();
rollback;
