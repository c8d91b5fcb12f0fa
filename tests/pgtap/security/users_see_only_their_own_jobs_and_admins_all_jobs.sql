-- Reading jobs: a user sees only their own jobs, an admin and the service role see all.
begin;
select plan(7);

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
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    1, 'the owner sees exactly their one job'
);
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'
    ) as q),
    1, 'the owner sees their job'
);
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000b1'
    ) as q),
    0, 'the owner does not see another user''s job'
);
select tests.authenticate_as(current_setting('t.other')::uuid);
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'
    ) as q),
    0, 'another user does not see the owner''s job'
);
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    1, 'another user sees only their own job'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    2, 'an admin sees every job'
);
select tests.authenticate_as_service_role();
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    2, 'the service role sees every job'
);

select * from finish();
rollback;
