-- library_items lists the user's completed jobs that have outputs, newest first, with their
-- assets; queued, failed and cancelled jobs and completed jobs without outputs are left out.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- As the owner: jobs 1..6 a minute apart; 1, 3, 4, 6 completed; 2 queued; 5 cancelled.
insert into public.jobs (id, user_id, job_type, status, metadata, created_at, completed_at)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    case when i in (2, 5) then 'queued' else 'completed' end as status,
    jsonb_build_object('prompt', 'prompt ' || i) as metadata,
    '2025-01-01 00:00:00+00'::timestamptz + make_interval(mins => i) as created_at,
    case
        when
            i not in (2, 5)
            then '2025-01-01 00:00:00+00'::timestamptz + make_interval(mins => i, secs => 30)
    end as completed_at
from generate_series(1, 6) as i;
update public.jobs set status = 'cancelled' where id = '00000000-0000-0000-0000-000000000005';
-- Outputs for every job but 4 (completed without outputs); job 6 has two.
insert into public.images_videos (
    user_id, job_id, asset_index, asset_type, bucket, file_path, file_name
)
select
    current_setting('t.alice')::uuid as user_id,
    j.id as job_id,
    a as asset_index,
    'image' as asset_type,
    'sdxl_image_fast' as bucket,
    'u/' || (j.metadata ->> 'prompt') || '-' || a || '.png' as file_path,
    'x.png' as file_name
from public.jobs as j
cross join generate_series(0, 1) as a
where j.user_id = current_setting('t.alice')::uuid
    and j.id <> '00000000-0000-0000-0000-000000000004'
    and (a = 0 or j.id = '00000000-0000-0000-0000-000000000006');

select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.lib', public.library_items()::text, true) is not null;
select tests.clear_authentication();

select results_eq(
    $$select i ->> 'job_id', i ->> 'prompt'
        from jsonb_array_elements(current_setting('t.lib')::jsonb -> 'items') as i$$,
    $$values
        ('00000000-0000-0000-0000-000000000006', 'prompt 6'),
        ('00000000-0000-0000-0000-000000000003', 'prompt 3'),
        ('00000000-0000-0000-0000-000000000001', 'prompt 1')$$,
    'the completed jobs with outputs, newest first'
);
select results_eq(
    $$select a ->> 'file_path', a ->> 'bucket'
        from jsonb_array_elements(
            current_setting('t.lib')::jsonb -> 'items' -> 0 -> 'assets'
        ) as a$$,
    $$values ('u/prompt 6-0.png', 'sdxl_image_fast'), ('u/prompt 6-1.png', 'sdxl_image_fast')$$,
    'each item carries its assets in order, with their bucket'
);
select is(
    current_setting('t.lib')::jsonb -> 'items' -> 0 ->> 'job_type', 'sdxl_image_fast',
    'and its job type'
);
select is(
    current_setting('t.lib')::jsonb -> 'next', 'null'::jsonb,
    'all items fit on one page: next is null'
);

select * from finish();
rollback;
