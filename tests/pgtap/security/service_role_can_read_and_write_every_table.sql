-- service_role (edge functions with the service key, BYPASSRLS) selects, inserts, updates
-- and deletes every row of every table of public.
begin;
select plan(36);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as_service_role();

select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    2, 'service_role sees every row of jobs'
);
select lives_ok(
    $$insert into public.jobs (user_id, job_type) values (current_setting('t.owner')::uuid,
    'image_fast')$$,
    'service_role can insert into jobs'
);
with r as (
    update public.jobs set error_message = 'x' where true returning 1
)

select is(count(*)::int, 3, 'service_role can update every row of jobs') from r;
select is(
    (select count(*)::int from (
        select * from public.profiles
    ) as q),
    3, 'service_role sees every row of profiles'
);
select lives_ok(
    $$insert into public.profiles (id) values (current_setting('t.bare')::uuid)$$,
    'service_role can insert into profiles'
);
with r as (
    update public.profiles set display_name = 'x' where true returning 1
)

select is(count(*)::int, 4, 'service_role can update every row of profiles') from r;
select is(
    (select count(*)::int from (
        select * from public.user_roles
    ) as q),
    1, 'service_role sees every row of user_roles'
);
select lives_ok(
    $$insert into public.user_roles (user_id, role) values (current_setting('t.owner')::uuid,
    'admin')$$,
    'service_role can insert into user_roles'
);
with r as (
    update public.user_roles set granted_at = now() where true returning 1
)

select is(count(*)::int, 2, 'service_role can update every row of user_roles') from r;
select is(
    (select count(*)::int from (
        select * from public.projects
    ) as q),
    2, 'service_role sees every row of projects'
);
select lives_ok(
    $$insert into public.projects (user_id, name) values (current_setting('t.owner')::uuid,
    'p')$$,
    'service_role can insert into projects'
);
with r as (
    update public.projects set name = 'x' where true returning 1
)

select is(count(*)::int, 3, 'service_role can update every row of projects') from r;
select is(
    (select count(*)::int from (
        select * from public.job_types
    ) as q),
    14, 'service_role sees every row of job_types'
);
select lives_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
    model_type, output_bucket, lease_seconds) values ('x_fast', 'x', 'image', 'png',
    'fast', 'x', 'x', 60)$$,
    'service_role can insert into job_types'
);
with r as (
    update public.job_types set description = 'x' where true returning 1
)

select is(count(*)::int, 15, 'service_role can update every row of job_types') from r;
select is(
    (select count(*)::int from (
        select * from public.api_models
    ) as q),
    1, 'service_role sees every row of api_models'
);
select lives_ok(
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    'service_role can insert into api_models'
);
with r as (
    update public.api_models set display_name = 'x' where true returning 1
)

select is(count(*)::int, 2, 'service_role can update every row of api_models') from r;
select is(
    (select count(*)::int from (
        select * from public.prompt_tests
    ) as q),
    1, 'service_role sees every row of prompt_tests'
);
select lives_ok(
    $$insert into public.prompt_tests (name, prompt) values ('n', 'p')$$,
    'service_role can insert into prompt_tests'
);
with r as (
    update public.prompt_tests set name = 'x' where true returning 1
)

select is(count(*)::int, 2, 'service_role can update every row of prompt_tests') from r;
select is(
    (select count(*)::int from (
        select * from public.images_videos
    ) as q),
    4, 'service_role sees every row of images_videos'
);
select lives_ok(
    $$insert into public.images_videos (user_id, asset_index, asset_type, bucket, file_path,
    file_name) values (current_setting('t.owner')::uuid, 5, 'image', 'b', 'x.png',
    'x.png')$$,
    'service_role can insert into images_videos'
);
with r as (
    update public.images_videos set file_name = 'x' where true returning 1
)

select is(count(*)::int, 5, 'service_role can update every row of images_videos') from r;
select is(
    (select count(*)::int from (
        select * from public.videos
    ) as q),
    2, 'service_role sees every row of videos'
);
select lives_ok(
    $$insert into public.videos (user_id, asset_id, file_path) values
    (current_setting('t.owner')::uuid, '00000000-0000-0000-0000-0000000000a2', 'x')$$,
    'service_role can insert into videos'
);
with r as (
    update public.videos set file_path = 'x' where true returning 1
)

select is(count(*)::int, 3, 'service_role can update every row of videos') from r;
with r as (
    delete from public.videos where true returning 1
)

select is(count(*)::int, 3, 'service_role can delete every row of videos') from r;
with r as (
    delete from public.images_videos where true returning 1
)

select is(count(*)::int, 5, 'service_role can delete every row of images_videos') from r;
with r as (
    delete from public.jobs where true returning 1
)

select is(count(*)::int, 3, 'service_role can delete every row of jobs') from r;
with r as (
    delete from public.prompt_tests where true returning 1
)

select is(count(*)::int, 2, 'service_role can delete every row of prompt_tests') from r;
with r as (
    delete from public.api_models where true returning 1
)

select is(count(*)::int, 2, 'service_role can delete every row of api_models') from r;
with r as (
    delete from public.projects where true returning 1
)

select is(count(*)::int, 3, 'service_role can delete every row of projects') from r;
with r as (
    delete from public.user_roles where true returning 1
)

select is(count(*)::int, 2, 'service_role can delete every row of user_roles') from r;
with r as (
    delete from public.profiles where true returning 1
)

select is(count(*)::int, 4, 'service_role can delete every row of profiles') from r;
with r as (
    delete from public.job_types where job_type = 'x_fast' returning 1
)

select is(count(*)::int, 1, 'service_role can delete a row of job_types') from r;

select * from finish();
rollback;
