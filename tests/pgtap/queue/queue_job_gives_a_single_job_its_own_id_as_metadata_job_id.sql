-- A single job (num_images 1) is its own group: metadata.job_id = its id.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.answer', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'one cat', metadata := '{"job_id": "forged"}'
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (
        select count(*)::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    1,
    'one job is created'
);
select is(
    (
        select j.metadata ->> 'job_id' from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    (select j.id::text from public.jobs as j where j.user_id = current_setting('t.alice')::uuid),
    'metadata.job_id is the job''s own id, not the one the client sent'
);
select is(
    (
        select j.metadata ->> 'image_index' from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    '0',
    'image_index is 0'
);

select * from finish();
rollback;
