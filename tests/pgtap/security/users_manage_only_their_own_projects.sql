-- projects: a user reads, creates, renames and deletes their own projects only; admins have no
-- extra rights on them.
begin;
select plan(11);

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
        select * from public.projects
    ) as q),
    1, 'a user sees only their own project'
);
select lives_ok(
    $$insert into public.projects (user_id, name) values (current_setting('t.owner')::uuid,
    'new')$$,
    'a user can create a project'
);
select throws_ok(
    $$insert into public.projects (user_id, name) values (current_setting('t.other')::uuid,
    'new')$$,
    '42501', null,
    'a user cannot create a project for another user'
);
select throws_ok(
    $$insert into public.projects (id, user_id, name) values (gen_random_uuid(),
    current_setting('t.owner')::uuid, 'n')$$,
    '42501', null,
    'a user cannot choose a project id'
);
with r as (
    update public.projects set
        name = 'renamed' where id
        = '00000000-0000-0000-0000-0000000000a5'
    returning 1
)

select is(count(*)::int, 1, 'a user can rename their project') from r;
with r as (
    update public.projects set name = 'x' where id = '00000000-0000-0000-0000-0000000000b5'
    returning 1
)

select is(count(*)::int, 0, 'a user cannot rename another user''s project (0 rows)') from r;
select throws_ok(
    $$update public.projects set user_id = current_setting('t.other')::uuid where id =
    '00000000-0000-0000-0000-0000000000a5'$$,
    '42501', null,
    'a user cannot give a project away (projects.user_id)'
);
with r as (
    delete from public.projects where id = '00000000-0000-0000-0000-0000000000b5' returning
        1
)

select is(count(*)::int, 0, 'a user cannot delete another user''s project (0 rows)') from r;
with r as (
    delete from public.projects where id = '00000000-0000-0000-0000-0000000000a5' returning
        1
)

select is(count(*)::int, 1, 'a user can delete their project') from r;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.projects
    ) as q),
    0, 'an admin sees only their own projects'
);
with r as (
    delete from public.projects where id = '00000000-0000-0000-0000-0000000000b5' returning
        1
)

select is(count(*)::int, 0, 'an admin cannot delete another user''s project (0 rows)') from r;

select * from finish();
rollback;
