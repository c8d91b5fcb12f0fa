-- A worker that died mid-job: rescue requeues its job, another worker completes it, and the
-- dead worker's late callback with its old token is 'stale' and changes nothing.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select set_config('t.dead_token', (
    select c.lease_token::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'dead'
        ) as c
), true) is not null;
-- Time moves the honest way: as the owner, the dead worker's lease ended a second ago.
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second'
where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select public.rescue_expired_jobs() ->> 'requeued' = '1';
select set_config('t.while_queued', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.dead_token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/dead/a.png')
)::text, true) is not null;
select tests.clear_authentication();
update public.jobs set run_at = now() where id = current_setting('t.job')::uuid;
select tests.authenticate_as_worker();
select set_config('t.live_token', (
    select c.lease_token::text
    from public.claim_jobs(
            worker_pool := 'sdxl', worker_id := 'live'
        ) as c
), true) is not null;
select public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.live_token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/live/a.png')
) ->> 'result' = 'completed';
select set_config('t.late', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.dead_token')::uuid,
    assets := jsonb_build_array(current_setting('t.alice') || '/dead/a.png')
)::text, true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.while_queued')::jsonb ->> 'result', 'stale',
    'the dead worker''s callback after the rescue is stale'
);
select is(
    current_setting('t.late')::jsonb ->> 'result', 'stale',
    'its callback after the new attempt completed is stale'
);
select results_eq(
    format(
        $$select iv.file_path from public.images_videos as iv where iv.job_id = %L$$,
        current_setting('t.job')
    ),
    format($$values ('%s/live/a.png')$$, current_setting('t.alice')),
    'only the live worker''s output exists'
);
select results_eq(
    format(
        $$select j.status, j.attempts, j.lease_token from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    format(
        $$values ('completed', 2, jobs_private.lease_digest(%L::uuid))$$,
        current_setting('t.live_token')
    ),
    'the job is completed by the second attempt'
);

select * from finish();
rollback;
