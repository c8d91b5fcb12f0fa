-- One job_callbacks call carries six reports with six different answers, each exactly
-- job_callback's, in the input order (not the job id order it locks in); the same batch sent
-- again (a worker that lost the answer) answers duplicate, stale or the same no-op per job and
-- writes nothing.
begin;
select plan(8);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 4) is not null;
select set_config('t.cancelled', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'y'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select public.cancel_job(job_id := current_setting('t.cancelled')::uuid) is not null;

select tests.authenticate_as_worker();
select set_config('t.claims', (
    select jsonb_agg(jsonb_build_object('id', c.job_id, 'token', c.lease_token) order by c.job_id)
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 10) as c
)::text, true) is not null;
-- c3 completed, an unknown job, c0 failed (retryable), the cancelled job, c1 failed for good,
-- c2 with another attempt's token
select
    set_config('t.batch', jsonb_build_array(
        jsonb_build_object(
            'job_id', c -> 3 -> 'id', 'status', 'completed',
            'lease_token', c -> 3 -> 'token',
            'assets', jsonb_build_array(current_setting('t.alice') || '/o/3.png'),
            'metadata', jsonb_build_object('quality_rating', 7)
        ),
        jsonb_build_object(
            'job_id', gen_random_uuid(), 'status', 'completed',
            'lease_token', gen_random_uuid()
        ),
        jsonb_build_object(
            'job_id', c -> 0 -> 'id', 'status', 'failed',
            'lease_token', c -> 0 -> 'token', 'error_message', 'oom'
        ),
        jsonb_build_object(
            'job_id', current_setting('t.cancelled'), 'status', 'completed',
            'lease_token', gen_random_uuid(),
            'assets', jsonb_build_array(current_setting('t.alice') || '/o/c.png')
        ),
        jsonb_build_object(
            'job_id', c -> 1 -> 'id', 'status', 'failed',
            'lease_token', c -> 1 -> 'token', 'error_message', 'nsfw', 'retryable', false
        ),
        jsonb_build_object(
            'job_id', c -> 2 -> 'id', 'status', 'completed',
            'lease_token', gen_random_uuid(),
            'assets', jsonb_build_array(current_setting('t.alice') || '/o/2.png')
        )
    )::text, true) is not null
from (select current_setting('t.claims')::jsonb as c) as s;
select set_config('t.first', (
    select jsonb_agg(jsonb_build_array(r.job_id, r.result, r.answer))
    from public.job_callbacks(reports := current_setting('t.batch')::jsonb) as r
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (select jsonb_agg(e -> 1) from jsonb_array_elements(current_setting('t.first')::jsonb) as e),
    '["completed", "unknown_job", "requeued", "ignored_cancelled", "failed", "stale"]'::jsonb,
    'one answer per report, in the input order'
);
select is(
    (
        select jsonb_agg(e -> 0)
        from jsonb_array_elements(current_setting('t.first')::jsonb) as e
    ),
    (
        select jsonb_agg(e -> 'job_id')
        from jsonb_array_elements(current_setting('t.batch')::jsonb) as e
    ),
    'each row names its report''s job'
);
select ok(
    (current_setting('t.first')::jsonb -> 0 -> 2 -> 'asset_ids' -> 0) is not null
    and (current_setting('t.first')::jsonb -> 2 -> 2 ->> 'retry_at') is not null,
    'each row carries job_callback''s whole answer (asset_ids, retry_at)'
);
select results_eq(
    $$select j.status, j.error_message, j.quality_rating::integer,
        (select count(*)::integer from public.images_videos as iv where iv.job_id = j.id)
    from jsonb_array_elements(current_setting('t.claims')::jsonb) with ordinality as c (v, ord)
    join public.jobs as j on j.id = (c.v ->> 'id')::uuid
    order by c.ord$$,
    $$values ('queued', 'oom', null::integer, 0), ('failed', 'nsfw', null, 0),
        ('processing', null, null, 0), ('completed', null, 7, 1)$$,
    'each job changed as job_callback changes it; the stale report changed nothing'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.cancelled')::uuid),
    'cancelled', 'the cancelled job stays cancelled, with no output'
);

select set_config('t.before', (
    select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j
) || (select count(*) from public.images_videos)::text, true) is not null;
select tests.authenticate_as_worker();
select set_config('t.again', (
    select jsonb_agg(r.result)
    from public.job_callbacks(reports := current_setting('t.batch')::jsonb) as r
)::text, true) is not null;
select tests.clear_authentication();
select is(
    current_setting('t.again')::jsonb,
    '["duplicate", "unknown_job", "stale", "ignored_cancelled", "duplicate", "stale"]'::jsonb,
    'the replayed batch: duplicate for the finished jobs, stale for the requeued one'
);
select is(
    (select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j)
    || (select count(*) from public.images_videos)::text,
    current_setting('t.before'),
    'the replay wrote nothing'
);
select is(
    (select count(*)::integer from public.jobs where status = 'processing'),
    1, 'control: one job is still processing, under its real token'
);

select * from finish();
rollback;
