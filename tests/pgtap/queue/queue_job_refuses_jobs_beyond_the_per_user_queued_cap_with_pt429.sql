-- max_queued_per_user caps a user's queued jobs: the request that would exceed it is PT429
-- (HTTP 429) and inserts nothing; other users are not affected.
begin;
select plan(7);

update jobs_private.settings set max_queued_per_user = 2 where singleton;
select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select lives_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'one',
        idempotency_key := 'one')$$,
    'first queued job'
);
select lives_ok(
    $$select public.queue_job(job_type := 'rv51_fast', prompt := 'two')$$,
    'second queued job'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'three')$$,
    'PT429', null, 'the third queued job is refused'
);
select is(
    public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'one', idempotency_key := 'one'
    ) ->> 'deduplicated',
    'true',
    'a retry of an accepted request is answered, not refused, at the cap'
);
select tests.authenticate_as(current_setting('t.bob')::uuid);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 3)$$,
    'PT429', null, 'a set larger than the cap is refused as a whole'
);
select lives_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'bob')$$,
    'another user still may queue'
);
select tests.clear_authentication();

select is(
    (
        select count(*)::integer from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    2,
    'the refused job was not inserted'
);

select * from finish();
rollback;
