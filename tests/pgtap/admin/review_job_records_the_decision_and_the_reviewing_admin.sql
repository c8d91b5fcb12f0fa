-- review_job (as an admin) sets moderation_status, review_notes, reviewed_by = the admin and
-- reviewed_at = now, and returns them.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', (
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')
    -> 'jobs' -> 0 ->> 'id'
), true) is not null;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select set_config('t.answer', public.review_job(
    job_id := current_setting('t.job')::uuid, moderation_status := 'flagged',
    review_notes := 'check the hands'
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (select j.moderation_status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'flagged',
    'moderation_status is set'
);
select is(
    (select j.reviewed_by::text from public.jobs as j where j.id = current_setting('t.job')::uuid),
    current_setting('t.admin'),
    'reviewed_by is the admin'
);
select is(
    (select j.reviewed_at from public.jobs as j where j.id = current_setting('t.job')::uuid),
    now(),
    'reviewed_at is now'
);
select is(
    (select j.review_notes from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'check the hands',
    'review_notes are set'
);
select is(
    current_setting('t.answer')::jsonb - 'reviewed_at',
    jsonb_build_object(
        'id', current_setting('t.job'), 'moderation_status', 'flagged',
        'reviewed_by', current_setting('t.admin'), 'review_notes', 'check the hands'
    ),
    'the answer carries the decision'
);

select * from finish();
rollback;
