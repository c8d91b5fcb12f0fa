-- The named domain CHECK constraints of public.jobs (status, quality, destination,
-- moderation_status) each reject a value outside their domain with 23514.
begin;
select plan(13);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('domains@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type)
values ('00000000-0000-0000-0000-00000000d001', current_setting('t.owner')::uuid, 'video_fast');

-- The triggers refuse a bad status first (PT409); switch them off for this transaction so the
-- constraint itself is what is tested.
alter table public.jobs disable trigger jobs_before_insert_trg;
alter table public.jobs disable trigger jobs_before_update_trg;

select throws_ok(
    $$update public.jobs set status = 'done' where id = '00000000-0000-0000-0000-00000000d001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_status_check"',
    'jobs_status_check rejects status done'
);
select throws_ok(
    $$update public.jobs set status = 'QUEUED' where id = '00000000-0000-0000-0000-00000000d001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_status_check"',
    'jobs_status_check is case sensitive'
);
select throws_ok(
    $$update public.jobs set quality = 'ultra' where id = '00000000-0000-0000-0000-00000000d001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_quality_check"',
    'jobs_quality_check rejects quality ultra'
);
select throws_ok(
    $$update public.jobs set destination = 'trash'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_destination_check"',
    'jobs_destination_check rejects destination trash'
);
select throws_ok(
    $$update public.jobs set moderation_status = 'ok'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_moderation_status_check"',
    'jobs_moderation_status_check rejects moderation_status ok'
);
select throws_ok(
    $$update public.jobs set metadata = '[1, 2]'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    '23514',
    'new row for relation "jobs" violates check constraint "jobs_metadata_is_object_check"',
    'jobs_metadata_is_object_check rejects a JSON array'
);

alter table public.jobs enable trigger jobs_before_insert_trg;
alter table public.jobs enable trigger jobs_before_update_trg;

-- every value of each domain is accepted
select lives_ok(
    $$update public.jobs set quality = q
    from (values ('fast'), ('high')) as v (q)
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'quality accepts fast and high'
);
select lives_ok(
    $$update public.jobs set destination = 'workspace'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'destination accepts workspace'
);
select lives_ok(
    $$update public.jobs set destination = 'library'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'destination accepts library'
);
select lives_ok(
    $$update public.jobs set moderation_status = 'approved'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'moderation_status accepts approved'
);
select lives_ok(
    $$update public.jobs set moderation_status = 'rejected'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'moderation_status accepts rejected'
);
select lives_ok(
    $$update public.jobs set moderation_status = 'flagged'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'moderation_status accepts flagged'
);
select lives_ok(
    $$update public.jobs set moderation_status = 'pending'
    where id = '00000000-0000-0000-0000-00000000d001'$$,
    'moderation_status accepts pending'
);

select * from finish();
rollback;
