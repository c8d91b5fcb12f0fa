-- workspace_groups is scoped to the signed-in user: another user gets no groups.
begin;
select plan(2);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select
    public.queue_job(job_type := 'sdxl_image_fast', prompt := 'owls', num_images := 3)
    is not null;

select is(
    jsonb_array_length(public.workspace_groups() -> 'groups'), 1, 'alice sees her group'
);
select tests.authenticate_as(current_setting('t.bob')::uuid);
select is(
    public.workspace_groups(),
    '{"groups": [], "next": null}'::jsonb,
    'bob sees no groups and no next page'
);
select tests.clear_authentication();

select * from finish();
rollback;
