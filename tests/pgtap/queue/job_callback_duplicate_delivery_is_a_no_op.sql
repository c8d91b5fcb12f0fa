-- The same completion delivered twice answers 'duplicate' and creates nothing more.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select tests.authenticate_as_service_role();
select public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/o/a.png'),
    metadata := '{"quality_rating": 50}'
) ->> 'result' = 'completed';
-- As the owner, the first report is moved a minute into the past: a duplicate now must not
-- move completed_at.
select tests.clear_authentication();
update public.jobs
set started_at = now() - interval '2 minutes', completed_at = now() - interval '1 minute'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_service_role();
select set_config('t.completed_at', (
    select j.completed_at::text from public.jobs as j where j.id = current_setting('t.job')::uuid
), true) is not null;
select set_config('t.again', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    assets := jsonb_build_array(
        current_setting('t.alice') || '/o/a.png', current_setting('t.alice') || '/o/b.png'
    ),
    metadata := '{"quality_rating": 99}'
)::text, true) is not null;
select tests.clear_authentication();

select is(current_setting('t.again')::jsonb ->> 'result', 'duplicate', 'the answer is duplicate');
select is(
    (
        select count(*)::integer from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid
    ),
    1,
    'no new output rows'
);
select is(
    (select j.quality_rating from public.jobs as j where j.id = current_setting('t.job')::uuid),
    50.00,
    'the first report''s analytics stay'
);
select is(
    (
        select j.completed_at::text from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    current_setting('t.completed_at'),
    'completed_at is unchanged'
);

select * from finish();
rollback;
