-- jobs_worker executes the four worker functions (claim_jobs, heartbeat_jobs, job_callback,
-- rescue_expired_jobs) and nothing else: queue_job, cancel_job and the user and admin functions
-- answer 42501.
begin;
select plan(16);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('owner@example.com')::text, true) is not null;
select set_config('t.other', tests.create_user('other@example.com')::text, true) is not null;
select set_config(
    't.admin', tests.create_user('admin@example.com', true)::text, true
) is not null;
insert into public.projects (id, user_id, name)
values
('00000000-0000-0000-0000-0000000000a5', current_setting('t.owner')::uuid, 'owner project'),
('00000000-0000-0000-0000-0000000000b5', current_setting('t.other')::uuid, 'other project');
insert into public.prompt_tests (id, name, prompt, created_by)
values (
    '00000000-0000-0000-0000-0000000000c1', 'test', 'a prompt', current_setting('t.admin')::uuid
);
insert into public.api_models (id, model_key, provider)
values ('00000000-0000-0000-0000-0000000000c2', 'model-key', 'provider');
insert into public.jobs (id, user_id, job_type, status, project_id)
values
(
    '00000000-0000-0000-0000-0000000000a1', current_setting('t.owner')::uuid, 'video_fast',
    'completed',
    '00000000-0000-0000-0000-0000000000a5'
),
(
    '00000000-0000-0000-0000-0000000000b1', current_setting('t.other')::uuid, 'video_fast',
    'completed',
    '00000000-0000-0000-0000-0000000000b5'
);
insert into public.images_videos
(id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
values
(
    '00000000-0000-0000-0000-0000000000a2', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-0000000000a1', 0, 'image', 'b', 'o/0.png', '0.png'
),
(
    '00000000-0000-0000-0000-0000000000a3', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-0000000000a1', 1, 'video', 'b', 'o/1.mp4', '1.mp4'
),
(
    '00000000-0000-0000-0000-0000000000b2', current_setting('t.other')::uuid,
    '00000000-0000-0000-0000-0000000000b1', 0, 'image', 'b', 't/0.png', '0.png'
),
(
    '00000000-0000-0000-0000-0000000000b3', current_setting('t.other')::uuid,
    '00000000-0000-0000-0000-0000000000b1', 1, 'video', 'b', 't/1.mp4', '1.mp4'
);
insert into public.videos (id, user_id, asset_id, file_path)
values
(
    '00000000-0000-0000-0000-0000000000a4', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-0000000000a3',
    'o/1.mp4'
),
(
    '00000000-0000-0000-0000-0000000000b4', current_setting('t.other')::uuid,
    '00000000-0000-0000-0000-0000000000b3',
    't/1.mp4'
);
update public.jobs set video_id = '00000000-0000-0000-0000-0000000000a4'
where id = '00000000-0000-0000-0000-0000000000a1';
update public.jobs set video_id = '00000000-0000-0000-0000-0000000000b4'
where id = '00000000-0000-0000-0000-0000000000b1';
insert into auth.users (email) values ('bare@example.com');
insert into public.jobs (id, user_id, job_type)
values (
    '00000000-0000-0000-0000-0000000000d1', current_setting('t.owner')::uuid,
    'sdxl_image_fast'
);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

select tests.authenticate_as_worker();
select is(
    (select count(*)::int from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1')),
    1, 'jobs_worker can execute claim_jobs and claims the queued job'
);
select tests.clear_authentication();
select set_config(
    't.token', (
        select lease_token::text
        from public.jobs where id
            = '00000000-0000-0000-0000-0000000000d1'
    ), true
) is not null;
select tests.authenticate_as_worker();
select is(
    (
        select count(*)::int
        from public.heartbeat_jobs(
                worker_id := 'w1',
                job_ids := array['00000000-0000-0000-0000-0000000000d1']::uuid[],
                lease_tokens := array[current_setting('t.token')::uuid]
            )
    ),
    1, 'jobs_worker can execute heartbeat_jobs'
);
select lives_ok(
    $$select public.job_callback(
        job_id := '00000000-0000-0000-0000-0000000000d1', status := 'completed',
        lease_token := current_setting('t.token')::uuid
    )$$,
    'jobs_worker can execute job_callback'
);
select lives_ok(
    $$select public.rescue_expired_jobs()$$,
    'jobs_worker can execute rescue_expired_jobs'
);
select tests.clear_authentication();
select is(
    (select status from public.jobs where id = '00000000-0000-0000-0000-0000000000d1'),
    'completed', 'the worker completed the job through the worker functions'
);
select tests.authenticate_as_worker();
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')$$,
    '42501', null,
    'jobs_worker cannot execute queue_job'
);
select throws_ok(
    $$select public.cancel_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'jobs_worker cannot execute cancel_job'
);
select throws_ok(
    $$select public.list_jobs()$$,
    '42501', null,
    'jobs_worker cannot execute list_jobs'
);
select throws_ok(
    $$select public.get_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'jobs_worker cannot execute get_job'
);
select throws_ok(
    $$select public.asset_info(asset_id := '00000000-0000-0000-0000-0000000000a2')$$,
    '42501', null,
    'jobs_worker cannot execute asset_info'
);
select throws_ok(
    $$select public.workspace_groups()$$,
    '42501', null,
    'jobs_worker cannot execute workspace_groups'
);
select throws_ok(
    $$select public.library_items()$$,
    '42501', null,
    'jobs_worker cannot execute library_items'
);
select throws_ok(
    $$select public.review_job(job_id := '00000000-0000-0000-0000-0000000000a1',
    moderation_status := 'approved')$$,
    '42501', null,
    'jobs_worker cannot execute review_job'
);
select throws_ok(
    $$select public.retry_job(job_id := '00000000-0000-0000-0000-0000000000a1')$$,
    '42501', null,
    'jobs_worker cannot execute retry_job'
);
select throws_ok(
    $$select public.purge_finished_jobs()$$,
    '42501', null,
    'jobs_worker cannot execute purge_finished_jobs'
);
select throws_ok(
    $$select public.system_metrics()$$,
    '42501', null,
    'jobs_worker cannot execute system_metrics'
);

select * from finish();
rollback;
