-- job_types and api_models are catalogues: every signed-in user (admins too) reads them, nobody
-- signed in writes them.
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

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.job_types
    ) as q),
    14, 'a user sees every job type'
);
select is(
    (select count(*)::int from (
        select * from public.api_models
    ) as q),
    1, 'a user sees every api model'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
    model_type, output_bucket, lease_seconds) values ('x_fast', 'x', 'image', 'png',
    'fast', 'x', 'x', 60)$$,
    '42501', null,
    'a user cannot insert job_types'
);
select throws_ok(
    $$update public.job_types set description = 'x' where true$$,
    '42501', null,
    'a user cannot update job_types'
);
select throws_ok(
    $$delete from public.job_types where job_type = 'rv51_high'$$,
    '42501', null,
    'a user cannot delete job_types'
);
select throws_ok(
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    '42501', null,
    'a user cannot insert api_models'
);
select throws_ok(
    $$update public.api_models set display_name = 'x' where true$$,
    '42501', null,
    'a user cannot update api_models'
);
select throws_ok(
    $$delete from public.api_models where true$$,
    '42501', null,
    'a user cannot delete api_models'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.job_types
    ) as q),
    14, 'an admin sees every job type'
);
select is(
    (select count(*)::int from (
        select * from public.api_models
    ) as q),
    1, 'an admin sees every api model'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
    model_type, output_bucket, lease_seconds) values ('x_fast', 'x', 'image', 'png',
    'fast', 'x', 'x', 60)$$,
    '42501', null,
    'an admin cannot insert job_types'
);
select throws_ok(
    $$update public.job_types set description = 'x' where true$$,
    '42501', null,
    'an admin cannot update job_types'
);
select throws_ok(
    $$delete from public.job_types where job_type = 'rv51_high'$$,
    '42501', null,
    'an admin cannot delete job_types'
);
select throws_ok(
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    '42501', null,
    'an admin cannot insert api_models'
);
select throws_ok(
    $$update public.api_models set display_name = 'x' where true$$,
    '42501', null,
    'an admin cannot update api_models'
);
select throws_ok(
    $$delete from public.api_models where true$$,
    '42501', null,
    'an admin cannot delete api_models'
);

select * from finish();
rollback;
