-- review_job: a user (even the job's owner) gets 42501 and nothing changes; an admin gets 22023
-- for a status outside the domain and PT404 for an unknown job.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', (
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')
    -> 'jobs' -> 0 ->> 'id'
), true) is not null;

select throws_ok(
    format(
        $$select public.review_job(job_id := %L, moderation_status := 'approved')$$,
        current_setting('t.job')
    ),
    '42501', null, 'the owner cannot review her own job'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    format(
        $$select public.review_job(job_id := %L, moderation_status := 'great')$$,
        current_setting('t.job')
    ),
    '22023', null, 'a bad moderation_status is 22023'
);
select throws_ok(
    format(
        $$select public.review_job(job_id := %L, moderation_status := null)$$,
        current_setting('t.job')
    ),
    '22023', null, 'a null moderation_status is 22023'
);
select throws_ok(
    $$select public.review_job(job_id := gen_random_uuid(), moderation_status := 'approved')$$,
    'PT404', null, 'an unknown job is PT404'
);
select tests.clear_authentication();

select is(
    (
        select j.moderation_status || '/' || coalesce(j.reviewed_by::text, 'nobody')
        from public.jobs as j where j.id = current_setting('t.job')::uuid
    ),
    'pending/nobody',
    'the job is still pending and unreviewed'
);

select * from finish();
rollback;
