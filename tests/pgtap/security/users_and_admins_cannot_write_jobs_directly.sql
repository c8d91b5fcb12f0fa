-- Writing jobs: no signed-in user, admin or not, may insert, update (status, attempts,
-- outputs, moderation, review, priority, any column) or delete a job row; they go through
-- queue_job, cancel_job and the admin functions.
begin;
select plan(17);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select throws_ok(
    $$insert into public.jobs (user_id, job_type) values (current_setting('t.owner')::uuid,
    'image_fast')$$,
    '42501', null,
    'the owner cannot insert a job directly (queue_job is the way)'
);
select throws_ok(
    $$update public.jobs set status = 'queued' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.status'
);
select throws_ok(
    $$update public.jobs set attempts = 0 where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.attempts'
);
select throws_ok(
    $$update public.jobs set image_id = '00000000-0000-0000-0000-0000000000a2' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.image_id'
);
select throws_ok(
    $$update public.jobs set video_id = null where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.video_id'
);
select throws_ok(
    $$update public.jobs set moderation_status = 'approved' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.moderation_status'
);
select throws_ok(
    $$update public.jobs set reviewed_at = now() where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.reviewed_at'
);
select throws_ok(
    $$update public.jobs set priority = 100 where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.priority'
);
select throws_ok(
    $$update public.jobs set metadata = '{}' where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.metadata'
);
select throws_ok(
    $$delete from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot delete their job'
);
select tests.authenticate_as(current_setting('t.other')::uuid);
select throws_ok(
    $$update public.jobs set status = 'failed' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'another user cannot update jobs.status'
);
select throws_ok(
    $$delete from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'another user cannot delete the owner''s job'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    $$insert into public.jobs (user_id, job_type) values (current_setting('t.admin')::uuid,
    'image_fast')$$,
    '42501', null,
    'an admin cannot insert a job directly'
);
select throws_ok(
    $$update public.jobs set status = 'failed' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'an admin cannot update jobs.status'
);
select throws_ok(
    $$update public.jobs set moderation_status = 'approved' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'an admin (review_job is the way) cannot update jobs.moderation_status'
);
select throws_ok(
    $$delete from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'an admin cannot delete a job directly'
);
select tests.clear_authentication();
select results_eq(
    $$select status, moderation_status, attempts from public.jobs where id =
        '00000000-0000-0000-0000-0000000000a1'$$,
    $$values ('completed'::text, 'pending'::text, 0)$$,
    'the job is unchanged'
);

select * from finish();
rollback;
