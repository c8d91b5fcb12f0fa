-- Paging library_items with next of the previous page returns every item exactly once, also
-- across the jobs of a 1x3 set, which share created_at.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- Four completed jobs with one output each: three of one set (same created_at) and one older.
insert into public.jobs (id, user_id, job_type, status, metadata, created_at, completed_at)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    'completed' as status,
    jsonb_build_object(
        'prompt', 'p', 'image_index', i - 1,
        'job_id', case when i < 4 then '00000000-0000-0000-0000-000000000001' end
    ) - case when i = 4 then 'job_id' else '' end as metadata,
    case when i < 4 then '2025-01-02 00:00:00+00'::timestamptz else '2025-01-01 00:00:00+00' end
        as created_at,
    '2025-01-03 00:00:00+00' as completed_at
from generate_series(1, 4) as i;
insert into public.images_videos (
    user_id, job_id, asset_index, asset_type, bucket, file_path, file_name
)
select
    current_setting('t.alice')::uuid as user_id,
    j.id as job_id,
    0 as asset_index,
    'image' as asset_type,
    'b' as bucket,
    'u/' || j.id as file_path,
    'x.png' as file_name
from public.jobs as j
where j.user_id = current_setting('t.alice')::uuid;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.p1', public.library_items(max_rows := 2)::text, true) is not null;
select set_config('t.p2', public.library_items(
    max_rows := 2,
    before := (current_setting('t.p1')::jsonb -> 'next' ->> 'before')::timestamptz,
    before_id := (current_setting('t.p1')::jsonb -> 'next' ->> 'before_id')::uuid
)::text, true) is not null;
select tests.clear_authentication();

select is(
    jsonb_array_length(current_setting('t.p1')::jsonb -> 'items'), 2, 'page 1 has two items'
);
select is(
    jsonb_array_length(current_setting('t.p2')::jsonb -> 'items'), 2, 'page 2 has two items'
);
select bag_eq(
    $$select i ->> 'job_id' from (
        select jsonb_array_elements(current_setting('t.p1')::jsonb -> 'items') as i
        union all select jsonb_array_elements(current_setting('t.p2')::jsonb -> 'items')
    ) as pages$$,
    $$values
        ('00000000-0000-0000-0000-000000000001'),
        ('00000000-0000-0000-0000-000000000002'),
        ('00000000-0000-0000-0000-000000000003'),
        ('00000000-0000-0000-0000-000000000004')$$,
    'the two pages hold each item exactly once (no overlap, no gap)'
);
select is(
    current_setting('t.p2')::jsonb -> 'next', 'null'::jsonb,
    'page 2 is the last page: its next is null'
);
select isnt(
    current_setting('t.p1')::jsonb -> 'next', 'null'::jsonb, 'page 1 has a next'
);

select * from finish();
rollback;
