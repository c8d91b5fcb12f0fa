-- workspace_groups lists groups newest first (groups created together: by group id,
-- descending); paging with next.before and next.before_group returns every group exactly once.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- As the owner: groups g1..g5 of two jobs each, a minute apart, and g6, g7 at the same time as
-- g5 (ties are broken by group id).
insert into public.jobs (user_id, job_type, metadata, created_at)
select
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    jsonb_build_object(
        'prompt', 'group ' || g, 'image_index', k,
        'job_id', '00000000-0000-0000-0000-00000000000' || g
    ) as metadata,
    '2025-01-01 00:00:00+00'::timestamptz + make_interval(mins => least(g, 5)) as created_at
from generate_series(1, 7) as g
cross join generate_series(0, 1) as k;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.p1', public.workspace_groups(max_groups := 3)::text, true) is not null;
select set_config('t.p2', public.workspace_groups(
    max_groups := 3,
    before := (current_setting('t.p1')::jsonb -> 'next' ->> 'before')::timestamptz,
    before_group := (current_setting('t.p1')::jsonb -> 'next' ->> 'before_group')::uuid
)::text, true) is not null;
select set_config('t.p3', public.workspace_groups(
    max_groups := 3,
    before := (current_setting('t.p2')::jsonb -> 'next' ->> 'before')::timestamptz,
    before_group := (current_setting('t.p2')::jsonb -> 'next' ->> 'before_group')::uuid
)::text, true) is not null;
select tests.clear_authentication();

select results_eq(
    $$select right(g ->> 'group_id', 1)
        from jsonb_array_elements(current_setting('t.p1')::jsonb -> 'groups') as g$$,
    $$values ('7'), ('6'), ('5')$$,
    'page 1: the three newest groups, newest first'
);
select results_eq(
    $$select right(g ->> 'group_id', 1)
        from jsonb_array_elements(current_setting('t.p2')::jsonb -> 'groups') as g$$,
    $$values ('4'), ('3'), ('2')$$,
    'page 2 continues without overlap or gap'
);
select results_eq(
    $$select right(g ->> 'group_id', 1)
        from jsonb_array_elements(current_setting('t.p3')::jsonb -> 'groups') as g$$,
    $$values ('1')$$,
    'page 3: the oldest group'
);
select is(
    current_setting('t.p1')::jsonb -> 'next',
    jsonb_build_object(
        'before', '2025-01-01 00:05:00+00'::timestamptz,
        'before_group', '00000000-0000-0000-0000-000000000005'
    ),
    'next names the last group of the page'
);
select ok(
    (
        select bool_and(jsonb_array_length(g -> 'jobs') = 2)
        from jsonb_array_elements(current_setting('t.p2')::jsonb -> 'groups') as g
    ),
    'each group has its two jobs'
);

select * from finish();
rollback;
