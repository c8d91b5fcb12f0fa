-- profiles: a user reads, creates and edits (display columns only) their own profile and never
-- deletes it; an admin reads all profiles but edits only their own.
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
        select * from public.profiles
    ) as q),
    1, 'a user sees only their own profile'
);
with r as (
    update public.profiles set display_name = 'me' where true returning 1
)

select is(count(*)::int, 1, 'a user can update their own profile') from r;
with r as (
    update public.profiles set
        display_name = 'x' where id
        = current_setting('t.other')::uuid
    returning 1
)

select is(count(*)::int, 0, 'a user cannot update another user''s profile (0 rows)') from r;
select throws_ok(
    $$update public.profiles set id = current_setting('t.other')::uuid where id =
    current_setting('t.owner')::uuid$$,
    '42501', null,
    'a user cannot update profiles.id'
);
select throws_ok(
    $$update public.profiles set created_at = now() where id =
    current_setting('t.owner')::uuid$$,
    '42501', null,
    'a user cannot update profiles.created_at'
);
select throws_ok(
    $$delete from public.profiles where id = current_setting('t.owner')::uuid$$,
    '42501', null,
    'a user cannot delete their profile'
);
select throws_ok(
    $$insert into public.profiles (id) select id from auth.users where email =
    'bare@example.com'$$,
    '42501', null,
    'a user cannot create another user''s profile'
);
select tests.clear_authentication();
select tests.authenticate_as((select id from auth.users where email = 'bare@example.com'));
select lives_ok(
    $$insert into public.profiles (id, display_name) values (auth.uid(), 'new')$$,
    'a user without a profile can create their own'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.profiles
    ) as q),
    4, 'an admin sees every profile'
);
with r as (
    update public.profiles set
        display_name = 'x' where id
        = current_setting('t.owner')::uuid
    returning 1
)

select is(count(*)::int, 0, 'an admin cannot update another user''s profile (0 rows)') from r;
select tests.authenticate_as(current_setting('t.other')::uuid);
select is(
    (select count(*)::int from (
        select * from public.profiles where id = current_setting('t.owner')::uuid
    ) as q),
    0, 'another user does not see the owner''s profile'
);

select * from finish();
rollback;
