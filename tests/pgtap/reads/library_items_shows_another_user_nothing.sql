-- library_items is scoped to the signed-in user: another user gets no items.
begin;
select plan(2);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type, status, metadata)
values (
    '00000000-0000-0000-0000-000000000001', current_setting('t.alice')::uuid, 'sdxl_image_fast',
    'completed', '{"prompt": "p"}'
);
insert into public.images_videos (
    user_id, job_id, asset_index, asset_type, bucket, file_path, file_name
)
values (
    current_setting('t.alice')::uuid, '00000000-0000-0000-0000-000000000001', 0, 'image', 'b',
    'u/1.png', '1.png'
);

select tests.authenticate_as(current_setting('t.alice')::uuid);
select is(
    jsonb_array_length(public.library_items() -> 'items'), 1, 'alice sees her item'
);
select tests.authenticate_as(current_setting('t.bob')::uuid);
select is(public.library_items() -> 'items', '[]'::jsonb, 'bob sees no items');
select tests.clear_authentication();

select * from finish();
rollback;
