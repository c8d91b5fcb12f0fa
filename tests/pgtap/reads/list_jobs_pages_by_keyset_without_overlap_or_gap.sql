-- Paging list_jobs with the cursor of the last row seen returns every job exactly once, also
-- when jobs share created_at (the jobs of one queue_job call, e.g. a 1x3 set, all do).
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- Five single jobs a minute apart, then a 1x3 set queued in this transaction (one created_at).
insert into public.jobs (id, user_id, job_type, metadata, created_at)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    jsonb_build_object('prompt', 'prompt ' || i) as metadata,
    '2020-01-01 00:00:00+00'::timestamptz + make_interval(mins => i) as created_at
from generate_series(1, 5) as i;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'set', num_images := 3)
    is not null;

-- Page 1: 2 rows (two of the set); page 2 from its last row: the set's third job and jobs 5
-- and 4; page 3: the rest.
select
    set_config(
        't.p1',
        (select jsonb_agg(to_jsonb(l)) from public.list_jobs(max_rows := 2) as l)::text,
        true
    )
    is not null;
select set_config('t.p2', (
    select jsonb_agg(to_jsonb(l))
    from public.list_jobs(
            max_rows := 3,
            before := (current_setting('t.p1')::jsonb -> -1 ->> 'created_at')::timestamptz,
            before_id := (current_setting('t.p1')::jsonb -> -1 ->> 'id')::uuid
        ) as l
)::text, true) is not null;
select set_config('t.p3', (
    select jsonb_agg(to_jsonb(l))
    from public.list_jobs(
            max_rows := 50,
            before := (current_setting('t.p2')::jsonb -> -1 ->> 'created_at')::timestamptz,
            before_id := (current_setting('t.p2')::jsonb -> -1 ->> 'id')::uuid
        ) as l
)::text, true) is not null;
select tests.clear_authentication();

select is(
    jsonb_array_length(current_setting('t.p2')::jsonb),
    3,
    'page 2 is full'
);
select bag_eq(
    $$select e ->> 'id' from (
        select jsonb_array_elements(current_setting('t.p1')::jsonb) as e
        union all select jsonb_array_elements(current_setting('t.p2')::jsonb)
        union all select jsonb_array_elements(current_setting('t.p3')::jsonb)
    ) as pages$$,
    $$select j.id::text from public.jobs as j where j.user_id = current_setting('t.alice')::uuid$$,
    'the three pages hold each of the 8 jobs exactly once (no overlap, no gap)'
);
select results_eq(
    $$select e ->> 'id' from jsonb_array_elements(current_setting('t.p3')::jsonb) as e$$,
    $$values
        ('00000000-0000-0000-0000-000000000003'),
        ('00000000-0000-0000-0000-000000000002'),
        ('00000000-0000-0000-0000-000000000001')$$,
    'page 3 continues with the older jobs, newest first'
);
select results_eq(
    $$select e ->> 'id' from jsonb_array_elements(current_setting('t.p2')::jsonb) as e offset 1$$,
    $$values ('00000000-0000-0000-0000-000000000005'), ('00000000-0000-0000-0000-000000000004')$$,
    'page 2 ends with the newest single jobs'
);
select ok(
    (
        select bool_and((e ->> 'metadata')::jsonb ->> 'prompt' = 'set')
        from jsonb_array_elements(current_setting('t.p1')::jsonb) as e
    ),
    'page 1 starts with the newest jobs (the set)'
);

select * from finish();
rollback;
