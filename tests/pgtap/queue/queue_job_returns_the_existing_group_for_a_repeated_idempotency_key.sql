-- The same idempotency key twice from the same user returns the same group, marked
-- deduplicated, and inserts nothing.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.first', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a cat', num_images := 3, idempotency_key := 'req-1'
)::text, true) is not null;
select set_config('t.second', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a cat', num_images := 3, idempotency_key := 'req-1'
)::text, true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.second')::jsonb ->> 'group_id',
    current_setting('t.first')::jsonb ->> 'group_id',
    'the retry answers the same group'
);
select is(
    (current_setting('t.second')::jsonb ->> 'deduplicated')::boolean, true,
    'the retry is marked deduplicated'
);
select is(
    current_setting('t.second')::jsonb -> 'jobs',
    current_setting('t.first')::jsonb -> 'jobs',
    'the retry lists the same jobs'
);
select is(
    (
        select count(*)::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    3,
    'no new rows'
);
select is(
    (current_setting('t.first')::jsonb ->> 'deduplicated')::boolean, false,
    'the first request is not deduplicated'
);

select * from finish();
rollback;
