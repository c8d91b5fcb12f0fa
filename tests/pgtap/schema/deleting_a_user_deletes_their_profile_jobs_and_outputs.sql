-- Deleting an auth.users row deletes the profile and, through it, the user's roles, projects,
-- jobs and outputs (images_videos, videos); other users' rows stay, and jobs the user reviewed
-- as admin lose only the reviewer.
begin;
select plan(10);

select tests.clear_authentication();
select set_config('t.gone', tests.create_user('gone@example.com', true)::text, true) is not null;
select set_config('t.stays', tests.create_user('stays@example.com')::text, true) is not null;
insert into public.projects (id, user_id, name)
values ('00000000-0000-0000-0000-0000000f0001', current_setting('t.gone')::uuid, 'p');
insert into public.prompt_tests (id, name, prompt, created_by)
values ('00000000-0000-0000-0000-0000000f0002', 't', 'p', current_setting('t.gone')::uuid);
insert into public.jobs (id, user_id, job_type, project_id)
values
(
    '00000000-0000-0000-0000-0000000f0010', current_setting('t.gone')::uuid, 'video_fast',
    '00000000-0000-0000-0000-0000000f0001'
),
('00000000-0000-0000-0000-0000000f0020', current_setting('t.stays')::uuid, 'video_fast', null);
insert into public.images_videos
(id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
values (
    '00000000-0000-0000-0000-0000000f0011', current_setting('t.gone')::uuid,
    '00000000-0000-0000-0000-0000000f0010', 0, 'video', 'b', 'g/a.mp4', 'a.mp4'
);
insert into public.videos (id, user_id, asset_id, file_path)
values (
    '00000000-0000-0000-0000-0000000f0012', current_setting('t.gone')::uuid,
    '00000000-0000-0000-0000-0000000f0011', 'g/a.mp4'
);
update public.jobs set video_id = '00000000-0000-0000-0000-0000000f0012'
where id = '00000000-0000-0000-0000-0000000f0010';
-- the user to be deleted, an admin, reviewed the other user's job
update public.jobs
set
    reviewed_by = current_setting('t.gone')::uuid, reviewed_at = now(),
    moderation_status = 'approved'
where id = '00000000-0000-0000-0000-0000000f0020';

select lives_ok(
    $$delete from auth.users where id = current_setting('t.gone')::uuid$$,
    'a user who owns jobs and outputs and reviewed others'' jobs can be deleted'
);
select is_empty(
    $$select from public.profiles where id = current_setting('t.gone')::uuid$$,
    'the profile is gone'
);
select is_empty(
    $$select from public.user_roles where user_id = current_setting('t.gone')::uuid$$,
    'the user''s roles are gone'
);
select is_empty(
    $$select from public.projects where user_id = current_setting('t.gone')::uuid$$,
    'the user''s projects are gone'
);
select is_empty(
    $$select from public.jobs where user_id = current_setting('t.gone')::uuid$$,
    'the user''s jobs are gone'
);
select is_empty(
    $$select from public.images_videos where user_id = current_setting('t.gone')::uuid$$,
    'the user''s images_videos rows are gone'
);
select is_empty(
    $$select from public.videos where user_id = current_setting('t.gone')::uuid$$,
    'the user''s videos are gone'
);
select is(
    (select created_by from public.prompt_tests where id = '00000000-0000-0000-0000-0000000f0002'),
    null, 'a prompt test the user created stays, without its author'
);
select results_eq(
    $$select moderation_status, reviewed_by is null from public.jobs
    where id = '00000000-0000-0000-0000-0000000f0020'$$,
    $$values ('approved'::text, true)$$,
    'another user''s job the deleted admin reviewed stays approved, without the reviewer'
);
select isnt_empty(
    $$select from public.profiles where id = current_setting('t.stays')::uuid$$,
    'the other user''s profile stays'
);

select * from finish();
rollback;
