-- num_images 3 makes a 1x3 set: three jobs sharing metadata.job_id (the first job's id), with
-- image_index 0, 1 and 2.
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.answer', public.queue_job(
    job_type := 'sdxl_image_high', prompt := 'three cats', num_images := 3
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (
        select count(*)::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    3,
    'three jobs are created'
);
select is(
    (
        select count(distinct j.metadata ->> 'job_id')::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    1,
    'they share one metadata.job_id'
);
select is(
    (
        select j.metadata ->> 'job_id' from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid and j.metadata ->> 'image_index' = '0'
    ),
    (
        select j.id::text from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid and j.metadata ->> 'image_index' = '0'
    ),
    'the group id is the id of the first job (image_index 0)'
);
select results_eq(
    $$select (j.metadata ->> 'image_index')::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid order by 1$$,
    $$values (0), (1), (2)$$,
    'image_index runs 0..2'
);
select is(
    current_setting('t.answer')::jsonb ->> 'group_id',
    (
        select min(j.metadata ->> 'job_id') from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    'the answer names the group'
);
select is(
    jsonb_array_length(current_setting('t.answer')::jsonb -> 'jobs'), 3,
    'the answer lists the three jobs'
);

select * from finish();
rollback;
