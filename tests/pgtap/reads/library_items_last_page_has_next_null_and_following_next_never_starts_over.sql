-- Following library_items' next page by page visits every item once, in order, and stops: the
-- last page's next is null (also when the items fill it exactly, and for an empty library).
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
-- Alice: five completed jobs with an output; 2..4 share created_at (one 1x3 set).
insert into public.jobs (id, user_id, job_type, status, metadata, created_at, completed_at)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    'completed' as status,
    jsonb_build_object('prompt', 'p' || i) as metadata,
    '2025-01-01 00:00:00+00'::timestamptz + make_interval(mins => least(greatest(i, 2), 4))
        as created_at,
    '2025-01-03 00:00:00+00' as completed_at
from generate_series(1, 5) as i;
insert into public.images_videos (
    user_id, job_id, asset_index, asset_type, bucket, file_path, file_name
)
select
    j.user_id,
    j.id as job_id,
    0 as asset_index,
    'image' as asset_type,
    'b' as bucket,
    'u/' || j.id as file_path,
    'x.png' as file_name
from public.jobs as j
where j.user_id = current_setting('t.alice')::uuid;

create temporary table pages (n integer, page jsonb) on commit drop;
grant insert, select on pages to authenticated;

-- Walk with two items per page, following next until it is null (at most 10 pages).
select tests.authenticate_as(current_setting('t.alice')::uuid);
do $$
declare
    v_page jsonb := public.library_items(max_rows := 2);
    v_n integer := 1;
begin
    insert into pages values (v_n, v_page);
    while v_page -> 'next' <> 'null'::jsonb and v_n < 10 loop
        v_page := public.library_items(
            max_rows := 2,
            before := (v_page -> 'next' ->> 'before')::timestamptz,
            before_id := (v_page -> 'next' ->> 'before_id')::uuid
        );
        v_n := v_n + 1;
        insert into pages values (v_n, v_page);
    end loop;
end;
$$;
select set_config('t.exact', public.library_items(max_rows := 5)::text, true) is not null;
select tests.authenticate_as(current_setting('t.bob')::uuid);
select set_config('t.empty', public.library_items()::text, true) is not null;
select tests.clear_authentication();

select is((select count(*) from pages), 3::bigint, 'five items at two a page: three pages');
select results_eq(
    $$select i ->> 'job_id'
        from pages as p, jsonb_array_elements(p.page -> 'items') with ordinality as e (i, k)
        order by p.n, e.k$$,
    $$values
        ('00000000-0000-0000-0000-000000000005'),
        ('00000000-0000-0000-0000-000000000004'),
        ('00000000-0000-0000-0000-000000000003'),
        ('00000000-0000-0000-0000-000000000002'),
        ('00000000-0000-0000-0000-000000000001')$$,
    'every item once, newest first, across the set that shares created_at'
);
select is(
    (select page -> 'next' from pages where n = 3), 'null'::jsonb,
    'the last page''s next is null'
);
select is(
    (select page -> 'next' ->> 'before_id' from pages where n = 1),
    '00000000-0000-0000-0000-000000000004',
    'a page''s next names its last item'
);
select is(
    current_setting('t.exact')::jsonb -> 'next', 'null'::jsonb,
    'a last page filled exactly has next null'
);
select is(
    current_setting('t.empty')::jsonb, '{"items": [], "next": null}'::jsonb,
    'an empty library: no items, next null'
);

select * from finish();
rollback;
