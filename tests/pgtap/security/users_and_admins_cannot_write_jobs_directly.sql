-- Writing jobs: no signed-in user, admin or not, may insert, update (status, attempts,
-- outputs, moderation, review, priority, any column) or delete a job row; they go through
-- queue_job, cancel_job and the admin functions.
begin;
select plan(17);

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
select throws_ok(
    $$insert into public.jobs (user_id, job_type) values (current_setting('t.owner')::uuid,
    'image_fast')$$,
    '42501', null,
    'the owner cannot insert a job directly (queue_job is the way)'
);
select throws_ok(
    $$update public.jobs set status = 'queued' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.status'
);
select throws_ok(
    $$update public.jobs set attempts = 0 where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.attempts'
);
select throws_ok(
    $$update public.jobs set image_id = '00000000-0000-0000-0000-0000000000a2' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.image_id'
);
select throws_ok(
    $$update public.jobs set video_id = null where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.video_id'
);
select throws_ok(
    $$update public.jobs set moderation_status = 'approved' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.moderation_status'
);
select throws_ok(
    $$update public.jobs set reviewed_at = now() where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.reviewed_at'
);
select throws_ok(
    $$update public.jobs set priority = 100 where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.priority'
);
select throws_ok(
    $$update public.jobs set metadata = '{}' where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot update jobs.metadata'
);
select throws_ok(
    $$delete from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'the owner cannot delete their job'
);
select tests.authenticate_as(current_setting('t.other')::uuid);
select throws_ok(
    $$update public.jobs set status = 'failed' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'another user cannot update jobs.status'
);
select throws_ok(
    $$delete from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'another user cannot delete the owner''s job'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    $$insert into public.jobs (user_id, job_type) values (current_setting('t.admin')::uuid,
    'image_fast')$$,
    '42501', null,
    'an admin cannot insert a job directly'
);
select throws_ok(
    $$update public.jobs set status = 'failed' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'an admin cannot update jobs.status'
);
select throws_ok(
    $$update public.jobs set moderation_status = 'approved' where id =
    '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'an admin (review_job is the way) cannot update jobs.moderation_status'
);
select throws_ok(
    $$delete from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null,
    'an admin cannot delete a job directly'
);
select tests.clear_authentication();
select results_eq(
    $$select status, moderation_status, attempts from public.jobs where id =
        '00000000-0000-0000-0000-0000000000a1'$$,
    $$values ('completed'::text, 'pending'::text, 0)$$,
    'the job is unchanged'
);

select * from finish();
rollback;
