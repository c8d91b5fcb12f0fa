-- jobsdb:unless-app-table public.images_videos
-- Deleting an output asset unlinks it: an images_videos row deleted sets jobs.image_id null,
-- a video asset deleted takes its videos row and sets jobs.video_id null; the job stays.
-- Deleting a job keeps its assets (images_videos.job_id becomes null).
begin;
select plan(8);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('unlink@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type, status)
values
(
    '00000000-0000-0000-0000-000000010001',
    current_setting('t.owner')::uuid,
    'image_fast',
    'completed'
),
(
    '00000000-0000-0000-0000-000000010002',
    current_setting('t.owner')::uuid,
    'video_fast',
    'completed'
),
(
    '00000000-0000-0000-0000-000000010003',
    current_setting('t.owner')::uuid,
    'image_fast',
    'completed'
);
insert into public.images_videos
(id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
values
(
    '00000000-0000-0000-0000-0000000100a1', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-000000010001', 0, 'image', 'b', 'u/1.png', '1.png'
),
(
    '00000000-0000-0000-0000-0000000100a2', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-000000010002', 0, 'video', 'b', 'u/2.mp4', '2.mp4'
),
(
    '00000000-0000-0000-0000-0000000100a3', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-000000010003', 0, 'image', 'b', 'u/3.png', '3.png'
);
insert into public.videos (id, user_id, asset_id, file_path)
values (
    '00000000-0000-0000-0000-0000000100b2', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-0000000100a2', 'u/2.mp4'
);
update public.jobs set image_id = '00000000-0000-0000-0000-0000000100a1'
where id = '00000000-0000-0000-0000-000000010001';
update public.jobs set video_id = '00000000-0000-0000-0000-0000000100b2'
where id = '00000000-0000-0000-0000-000000010002';
update public.jobs set image_id = '00000000-0000-0000-0000-0000000100a3'
where id = '00000000-0000-0000-0000-000000010003';

delete from public.images_videos where id = '00000000-0000-0000-0000-0000000100a1';
select results_eq(
    $$select status, image_id from public.jobs where id = '00000000-0000-0000-0000-000000010001'$$,
    $$values ('completed'::text, null::uuid)$$,
    'deleting an image asset keeps its completed job and sets image_id null'
);

delete from public.images_videos where id = '00000000-0000-0000-0000-0000000100a2';
select is_empty(
    $$select from public.videos where id = '00000000-0000-0000-0000-0000000100b2'$$,
    'deleting a video asset deletes its videos row'
);
select results_eq(
    $$select status, video_id from public.jobs where id = '00000000-0000-0000-0000-000000010002'$$,
    $$values ('completed'::text, null::uuid)$$,
    'deleting a video asset keeps its job and sets video_id null'
);

insert into public.images_videos
(id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
values (
    '00000000-0000-0000-0000-0000000100a4', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-000000010002', 1, 'video', 'b', 'u/4.mp4', '4.mp4'
);
insert into public.videos (id, user_id, asset_id, file_path)
values (
    '00000000-0000-0000-0000-0000000100b4', current_setting('t.owner')::uuid,
    '00000000-0000-0000-0000-0000000100a4', 'u/4.mp4'
);
update public.jobs set video_id = '00000000-0000-0000-0000-0000000100b4'
where id = '00000000-0000-0000-0000-000000010002';
delete from public.videos where id = '00000000-0000-0000-0000-0000000100b4';
select results_eq(
    $$select status, video_id from public.jobs where id = '00000000-0000-0000-0000-000000010002'$$,
    $$values ('completed'::text, null::uuid)$$,
    'deleting a videos row keeps its job and sets video_id null'
);
select isnt_empty(
    $$select from public.images_videos where id = '00000000-0000-0000-0000-0000000100a4'$$,
    'deleting a videos row keeps its images_videos asset'
);

delete from public.jobs where id = '00000000-0000-0000-0000-000000010003';
select is(
    (select job_id from public.images_videos where id = '00000000-0000-0000-0000-0000000100a3'),
    null, 'deleting a job keeps its asset, with job_id null'
);
select throws_ok(
    $$insert into public.images_videos
    (user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    values (current_setting('t.owner')::uuid, '00000000-0000-0000-0000-000000010001', 0,
        'image', 'b', 'u/5.png', '5.png'),
    (current_setting('t.owner')::uuid, '00000000-0000-0000-0000-000000010001', 0,
        'image', 'b', 'u/6.png', '6.png')$$,
    '23505', null, 'a job has at most one asset per asset index'
);
select throws_ok(
    $$insert into public.images_videos
    (user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    values (current_setting('t.owner')::uuid, null, 0, 'audio', 'b', 'u/7.wav', '7.wav')$$,
    '23514',
    'new row for relation "images_videos" violates check constraint '
    || '"images_videos_asset_type_check"',
    'an asset is an image or a video'
);

select * from finish();
rollback;
