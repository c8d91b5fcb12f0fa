-- jobs_worker (GPU workers: worker functions only) gets 42501 for select, insert, update and delete
-- on every
-- table of public.
begin;
select plan(36);

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

-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;
select tests.authenticate_as_worker();

select throws_ok(
    $$select * from public.jobs$$,
    '42501', null,
    'jobs_worker cannot select jobs'
);
select throws_ok(
    $$insert into public.jobs (user_id, job_type) values (current_setting('t.owner')::uuid,
    'image_fast')$$,
    '42501', null,
    'jobs_worker cannot insert jobs'
);
select throws_ok(
    $$update public.jobs set error_message = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update jobs'
);
select throws_ok(
    $$delete from public.jobs where true$$,
    '42501', null,
    'jobs_worker cannot delete jobs'
);
select throws_ok(
    $$select * from public.profiles$$,
    '42501', null,
    'jobs_worker cannot select profiles'
);
select throws_ok(
    $$insert into public.profiles (id) select id from auth.users where email =
    'bare@example.com'$$,
    '42501', null,
    'jobs_worker cannot insert profiles'
);
select throws_ok(
    $$update public.profiles set display_name = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update profiles'
);
select throws_ok(
    $$delete from public.profiles where true$$,
    '42501', null,
    'jobs_worker cannot delete profiles'
);
select throws_ok(
    $$select * from public.user_roles$$,
    '42501', null,
    'jobs_worker cannot select user_roles'
);
select throws_ok(
    $$insert into public.user_roles (user_id, role) values (current_setting('t.owner')::uuid,
    'admin')$$,
    '42501', null,
    'jobs_worker cannot insert user_roles'
);
select throws_ok(
    $$update public.user_roles set granted_at = now() where true$$,
    '42501', null,
    'jobs_worker cannot update user_roles'
);
select throws_ok(
    $$delete from public.user_roles where true$$,
    '42501', null,
    'jobs_worker cannot delete user_roles'
);
select throws_ok(
    $$select * from public.projects$$,
    '42501', null,
    'jobs_worker cannot select projects'
);
select throws_ok(
    $$insert into public.projects (user_id, name) values (current_setting('t.owner')::uuid,
    'p')$$,
    '42501', null,
    'jobs_worker cannot insert projects'
);
select throws_ok(
    $$update public.projects set name = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update projects'
);
select throws_ok(
    $$delete from public.projects where true$$,
    '42501', null,
    'jobs_worker cannot delete projects'
);
select throws_ok(
    $$select * from public.job_types$$,
    '42501', null,
    'jobs_worker cannot select job_types'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
    model_type, output_bucket, lease_seconds) values ('x_fast', 'x', 'image', 'png',
    'fast', 'x', 'x', 60)$$,
    '42501', null,
    'jobs_worker cannot insert job_types'
);
select throws_ok(
    $$update public.job_types set description = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update job_types'
);
select throws_ok(
    $$delete from public.job_types where job_type = 'rv51_high'$$,
    '42501', null,
    'jobs_worker cannot delete job_types'
);
select throws_ok(
    $$select * from public.api_models$$,
    '42501', null,
    'jobs_worker cannot select api_models'
);
select throws_ok(
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    '42501', null,
    'jobs_worker cannot insert api_models'
);
select throws_ok(
    $$update public.api_models set display_name = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update api_models'
);
select throws_ok(
    $$delete from public.api_models where true$$,
    '42501', null,
    'jobs_worker cannot delete api_models'
);
select throws_ok(
    $$select * from public.prompt_tests$$,
    '42501', null,
    'jobs_worker cannot select prompt_tests'
);
select throws_ok(
    $$insert into public.prompt_tests (name, prompt) values ('n', 'p')$$,
    '42501', null,
    'jobs_worker cannot insert prompt_tests'
);
select throws_ok(
    $$update public.prompt_tests set name = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update prompt_tests'
);
select throws_ok(
    $$delete from public.prompt_tests where true$$,
    '42501', null,
    'jobs_worker cannot delete prompt_tests'
);
select throws_ok(
    $$select * from public.images_videos$$,
    '42501', null,
    'jobs_worker cannot select images_videos'
);
select throws_ok(
    $$insert into public.images_videos (user_id, asset_index, asset_type, bucket, file_path,
    file_name) values (current_setting('t.owner')::uuid, 5, 'image', 'b', 'x.png',
    'x.png')$$,
    '42501', null,
    'jobs_worker cannot insert images_videos'
);
select throws_ok(
    $$update public.images_videos set file_name = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update images_videos'
);
select throws_ok(
    $$delete from public.images_videos where true$$,
    '42501', null,
    'jobs_worker cannot delete images_videos'
);
select throws_ok(
    $$select * from public.videos$$,
    '42501', null,
    'jobs_worker cannot select videos'
);
select throws_ok(
    $$insert into public.videos (user_id, asset_id, file_path) values
    (current_setting('t.owner')::uuid, '00000000-0000-0000-0000-0000000000a2', 'x')$$,
    '42501', null,
    'jobs_worker cannot insert videos'
);
select throws_ok(
    $$update public.videos set file_path = 'x' where true$$,
    '42501', null,
    'jobs_worker cannot update videos'
);
select throws_ok(
    $$delete from public.videos where true$$,
    '42501', null,
    'jobs_worker cannot delete videos'
);

select * from finish();
rollback;
