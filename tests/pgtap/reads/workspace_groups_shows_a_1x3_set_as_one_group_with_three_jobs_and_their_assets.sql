-- A 1x3 set (one queue_job call with num_images 3) is one workspace group: its group id, its
-- three jobs in image order and the assets of the completed ones.
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.group', (public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'three owls', num_images := 3,
    destination := 'workspace'
) ->> 'group_id'), true) is not null;
-- Two of the three complete, one output each.
select tests.authenticate_as_worker();
select set_config('t.claims', (
    select jsonb_agg(to_jsonb(c) order by c.metadata -> 'image_index')
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 2) as c
)::text, true) is not null;
select set_config('t.done', (
    select count(*)::text from jsonb_array_elements(current_setting('t.claims')::jsonb) as c
    where public.job_callback(
            job_id := (c ->> 'job_id')::uuid, status := 'completed',
            lease_token := (c ->> 'lease_token')::uuid,
            assets := jsonb_build_array(
                current_setting('t.alice') || '/owl-' || (c -> 'metadata' ->> 'image_index')
                || '.png'
            )
        ) ->> 'result' = 'completed'
), true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.ws', public.workspace_groups()::text, true) is not null;
select tests.clear_authentication();

select is(current_setting('t.done'), '2', 'two jobs of the set completed');
select is(
    jsonb_array_length(current_setting('t.ws')::jsonb -> 'groups'), 1, 'one group'
);
select is(
    current_setting('t.ws')::jsonb -> 'groups' -> 0 ->> 'group_id', current_setting('t.group'),
    'named by metadata.job_id'
);
select results_eq(
    $$select (j ->> 'image_index')::integer, j ->> 'prompt', j ->> 'status'
        from jsonb_array_elements(current_setting('t.ws')::jsonb -> 'groups' -> 0 -> 'jobs') as j$$,
    $$select i, 'three owls', j.status
        from generate_series(0, 2) as i
        inner join public.jobs as j on j.metadata -> 'image_index' = to_jsonb(i)
            and j.metadata ->> 'job_id' = current_setting('t.group')
        order by i$$,
    'with its three jobs in image order'
);
select is(
    (
        select string_agg(j ->> 'status', ',' order by j ->> 'status')
        from jsonb_array_elements(current_setting('t.ws')::jsonb -> 'groups' -> 0 -> 'jobs') as j
    ),
    'completed,completed,queued',
    'two of them completed, one queued'
);
select results_eq(
    $$select a ->> 'file_path', a ->> 'bucket', a ->> 'job_id'
        from jsonb_array_elements(
            current_setting('t.ws')::jsonb -> 'groups' -> 0 -> 'assets'
        ) as a$$,
    $$select j.user_id || '/owl-' || (j.metadata ->> 'image_index') || '.png', 'sdxl_image_fast',
            j.id::text
        from public.jobs as j
        where j.metadata ->> 'job_id' = current_setting('t.group') and j.status = 'completed'
        order by j.metadata -> 'image_index'$$,
    'and the assets of its completed jobs, in image order'
);

select * from finish();
rollback;
