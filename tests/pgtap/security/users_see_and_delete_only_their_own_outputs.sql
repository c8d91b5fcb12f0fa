-- jobsdb:unless-app-table public.images_videos
-- jobsdb:unless-app-table public.videos
-- Outputs (images_videos, videos) are written by job_callback and the service role only: a user
-- reads and deletes their own, an admin reads all and deletes only their own.
begin;
select plan(16);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.images_videos
    ) as q),
    2, 'a user sees only their own assets'
);
select is(
    (select count(*)::int from (
        select * from public.videos
    ) as q),
    1, 'a user sees only their own videos'
);
select throws_ok(
    $$insert into public.images_videos (user_id, asset_index, asset_type, bucket, file_path,
    file_name) values (current_setting('t.owner')::uuid, 5, 'image', 'b', 'x.png',
    'x.png')$$,
    '42501', null,
    'a user cannot insert an asset'
);
select throws_ok(
    $$insert into public.videos (user_id, asset_id, file_path) values
    (current_setting('t.owner')::uuid, '00000000-0000-0000-0000-0000000000a2', 'x')$$,
    '42501', null,
    'a user cannot insert a video'
);
select throws_ok(
    $$update public.images_videos set file_path = 'x' where id =
    '00000000-0000-0000-0000-0000000000a2'$$,
    '42501', null,
    'a user cannot update their asset'
);
select throws_ok(
    $$update public.videos set file_path = 'x' where id =
    '00000000-0000-0000-0000-0000000000a4'$$,
    '42501', null,
    'a user cannot update their video'
);
with r as (
    delete from public.images_videos where id = '00000000-0000-0000-0000-0000000000b2'
    returning 1
)

select is(count(*)::int, 0, 'a user cannot delete another user''s asset (0 rows)') from r;
with r as (
    delete from public.videos where id = '00000000-0000-0000-0000-0000000000b4' returning 1
)

select is(count(*)::int, 0, 'a user cannot delete another user''s video (0 rows)') from r;
with r as (
    delete from public.videos where id = '00000000-0000-0000-0000-0000000000a4' returning 1
)

select is(count(*)::int, 1, 'a user can delete their video') from r;
with r as (
    delete from public.images_videos where id = '00000000-0000-0000-0000-0000000000a2'
    returning 1
)

select is(count(*)::int, 1, 'a user can delete their asset') from r;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.images_videos
    ) as q),
    3, 'an admin sees every asset'
);
select is(
    (select count(*)::int from (
        select * from public.videos
    ) as q),
    1, 'an admin sees every video'
);
with r as (
    delete from public.images_videos where id = '00000000-0000-0000-0000-0000000000b2'
    returning 1
)

select is(count(*)::int, 0, 'an admin cannot delete another user''s asset (0 rows)') from r;
with r as (
    delete from public.videos where id = '00000000-0000-0000-0000-0000000000b4' returning 1
)

select is(count(*)::int, 0, 'an admin cannot delete another user''s video (0 rows)') from r;
select throws_ok(
    $$update public.images_videos set file_path = 'x' where id =
    '00000000-0000-0000-0000-0000000000b2'$$,
    '42501', null,
    'an admin cannot update an asset'
);
select tests.clear_authentication();
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'
            and video_id is null
    ) as q),
    1, 'the owner''s deleted video is unlinked from their job'
);

select * from finish();
rollback;
