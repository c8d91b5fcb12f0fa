-- Idempotency keys are per user: another user's equal key makes a new job.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.first', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a cat', idempotency_key := 'req-1'
)::text, true) is not null;
select tests.authenticate_as(current_setting('t.bob')::uuid);
select set_config('t.second', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a dog', idempotency_key := 'req-1'
)::text, true) is not null;
select tests.clear_authentication();

select isnt(
    current_setting('t.second')::jsonb ->> 'group_id',
    current_setting('t.first')::jsonb ->> 'group_id',
    'bob gets his own group'
);
select is(
    (current_setting('t.second')::jsonb ->> 'deduplicated')::boolean, false,
    'bob''s request is not deduplicated'
);
select is(
    (
        select count(*)::integer from public.jobs as j
        where j.user_id = current_setting('t.bob')::uuid and j.idempotency_key = 'req-1'
    ),
    1,
    'bob owns a new job with the key'
);

select * from finish();
rollback;
