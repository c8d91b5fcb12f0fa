-- A job links to its output through image_id or video_id, never both
-- (jobs_single_output_check).
begin;
select plan(4);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('output@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type)
values ('00000000-0000-0000-0000-00000000a001', current_setting('t.owner')::uuid, 'video_fast');
insert into public.images_videos
(id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
values
(
    '00000000-0000-0000-0000-0000000000a1', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-00000000a001', 0, 'image', 'b', 'u/a.png', 'a.png'
),
(
    '00000000-0000-0000-0000-0000000000a2', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-00000000a001', 1, 'video', 'b', 'u/a.mp4', 'a.mp4'
);
insert into public.videos (id, user_id, asset_id, file_path)
values (
    '00000000-0000-0000-0000-0000000000b1', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-0000000000a2', 'u/a.mp4'
);

select lives_ok(
    $$update public.jobs set image_id = '00000000-0000-0000-0000-0000000000a1'
    where id = '00000000-0000-0000-0000-00000000a001'$$,
    'a job may link an image'
);
select throws_ok(
    $$update public.jobs set video_id = '00000000-0000-0000-0000-0000000000b1'
    where id = '00000000-0000-0000-0000-00000000a001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_single_output_check"',
    'a job with an image cannot also link a video'
);
select lives_ok(
    $$update public.jobs
    set image_id = null, video_id = '00000000-0000-0000-0000-0000000000b1'
    where id = '00000000-0000-0000-0000-00000000a001'$$,
    'a job may link a video instead'
);
select throws_ok(
    $$update public.jobs set image_id = '00000000-0000-0000-0000-0000000000a1'
    where id = '00000000-0000-0000-0000-00000000a001'$$,
    '23514', 'new row for relation "jobs" violates check constraint "jobs_single_output_check"',
    'a job with a video cannot also link an image'
);

select * from finish();
rollback;
