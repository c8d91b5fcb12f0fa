-- New jobs per user are a token bucket (jobs_private.settings.jobs_per_minute, job_burst): a
-- user may queue job_burst jobs at once, then jobs_per_minute per minute. Past it queue_job
-- answers PT429 (HTTP 429) with detail retry_after_seconds=N and writes nothing. Cancelling
-- gives nothing back (queue and cancel in rounds made 500 jobs in 1.7 s under the queued cap
-- alone), a replayed idempotency key costs nothing, num_images counts each job, another user
-- has a bucket of their own, and a null rate switches the limit off.
begin;
select plan(14);

update jobs_private.settings set jobs_per_minute = 60, job_burst = 5 where singleton;
select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.first', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'a fox', idempotency_key := 'fox-1'
) ->> 'group_id', true) is not null;
-- queue and cancel, as the attack did: four more jobs, each cancelled at once
select
    count(public.cancel_job((public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'spam ' || g
    ) -> 'jobs' -> 0 ->> 'id')::uuid)) = 4
from generate_series(1, 4) as g;
select tests.clear_authentication();
select set_config('t.jobs', (select count(*)::text from public.jobs), true) is not null;
select set_config('t.bucket', (
    select r.refilled_at::text from jobs_private.job_rates as r
    where r.user_id = current_setting('t.alice')::uuid
), true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'one more')$$,
    'PT429',
    'too many new jobs: at most 60 per minute per user, 5 at once; retry in 1 s',
    'the sixth job within the burst is refused with PT429, though five were cancelled'
);
select is(
    public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'a fox', idempotency_key := 'fox-1'
    ) ->> 'group_id',
    current_setting('t.first'),
    'a replayed idempotency key answers the existing job and costs nothing'
);
select tests.clear_authentication();
select is(
    (select count(*)::text from public.jobs), current_setting('t.jobs'),
    'the refused calls wrote no job'
);
select is(
    (
        select r.refilled_at::text from jobs_private.job_rates as r
        where r.user_id = current_setting('t.alice')::uuid
    ),
    current_setting('t.bucket'),
    'and took no token'
);

select tests.authenticate_as(current_setting('t.bob')::uuid);
select ok(
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'bob''s', num_images := 4)
    is not null,
    'another user has a bucket of their own'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 2)$$,
    'PT429', null,
    'num_images counts each job: 4 + 2 is past a burst of 5'
);
select ok(
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'the fifth') is not null,
    'the last token of the burst is still there'
);
select tests.clear_authentication();

-- Time moves the honest way, as the owner: 2.5 s of refill for alice (2 jobs at 60 per minute).
update jobs_private.job_rates set refilled_at = refilled_at - interval '2.5 seconds'
where user_id = current_setting('t.alice')::uuid;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select ok(
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'refilled', num_images := 2)
    is not null,
    'after 2.5 s the bucket holds two jobs again'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'too soon')$$,
    'PT429',
    'too many new jobs: at most 60 per minute per user, 5 at once; retry in 1 s',
    'and no third: the wait is rounded up to the next second'
);
select tests.clear_authentication();

-- the wait for num_images tokens: 4 jobs at 60 per minute from an empty bucket
update jobs_private.job_rates set refilled_at = now() + interval '5 seconds'
where user_id = current_setting('t.alice')::uuid;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 4)$$,
    'PT429',
    'too many new jobs: at most 60 per minute per user, 5 at once; retry in 4 s',
    'an empty bucket: four jobs are back in 4 s'
);
select tests.clear_authentication();

-- the detail and hint a client reads (the queue-job edge function's Retry-After)
select tests.authenticate_as(current_setting('t.alice')::uuid);
do $$
declare
    v_detail text;
    v_hint text;
begin
    perform public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 4);
exception when sqlstate 'PT429' then
    get stacked diagnostics v_detail = pg_exception_detail, v_hint = pg_exception_hint;
    perform set_config('t.detail', v_detail, true);
    perform set_config('t.hint', v_hint, true);
end
$$;
select tests.clear_authentication();
select is(current_setting('t.detail'), 'retry_after_seconds=4', 'the detail names the wait');
select matches(current_setting('t.hint'), 'Retry-After', 'the hint says how to use it');

-- no rate: the owner switches it off
update jobs_private.settings set jobs_per_minute = null where singleton;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select ok(
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 4) is not null,
    'with jobs_per_minute null there is no rate limit'
);
select tests.clear_authentication();
select throws_ok(
    $$update jobs_private.settings set job_burst = 3 where singleton$$,
    '23514', null,
    'a burst smaller than max_images_per_request is refused (a request could never fit)'
);

select * from finish();
rollback;
