-- Signed-in users (admins too) execute queue_job and cancel_job; the worker functions
-- (claim_jobs, heartbeat_jobs, job_callback, rescue_expired_jobs) answer 42501.
begin;
select plan(12);

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

select tests.authenticate_as(current_setting('t.owner')::uuid);
select lives_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a cat')$$,
    'a user can execute queue_job'
);
select is(
    (select count(*)::int from public.jobs where status = 'queued'),
    1, 'queue_job created the user''s queued job'
);
select lives_ok(
    $$select public.cancel_job(job_id := (select id from public.jobs where status = 'queued'))$$,
    'a user can execute cancel_job on their job'
);
select is(
    (select count(*)::int from public.jobs where status = 'cancelled'),
    1, 'cancel_job cancelled it'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1')$$,
    '42501', null,
    'a user cannot execute claim_jobs'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'w1', job_ids :=
    array['00000000-0000-0000-0000-0000000000a1']::uuid [], lease_tokens :=
    array[gen_random_uuid()])$$,
    '42501', null,
    'a user cannot execute heartbeat_jobs'
);
select throws_ok(
    $$select public.job_callback(job_id := '00000000-0000-0000-0000-0000000000a1', status :=
    'completed')$$,
    '42501', null,
    'a user cannot execute job_callback'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null,
    'a user cannot execute rescue_expired_jobs'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'w1')$$,
    '42501', null,
    'an admin cannot execute claim_jobs'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'w1', job_ids :=
    array['00000000-0000-0000-0000-0000000000a1']::uuid [], lease_tokens :=
    array[gen_random_uuid()])$$,
    '42501', null,
    'an admin cannot execute heartbeat_jobs'
);
select throws_ok(
    $$select public.job_callback(job_id := '00000000-0000-0000-0000-0000000000a1', status :=
    'completed')$$,
    '42501', null,
    'an admin cannot execute job_callback'
);
select throws_ok(
    $$select public.rescue_expired_jobs()$$,
    '42501', null,
    'an admin cannot execute rescue_expired_jobs'
);

select * from finish();
rollback;
