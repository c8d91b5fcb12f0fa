-- service_role (edge functions with the service key, BYPASSRLS) selects, inserts, updates
-- and deletes every row of every table of public (in a project's database: of every table of
-- jobsdb's; the project's own tables are the project's business).
begin;
select plan(36);

select tests.clear_authentication();
select tests.seed_two_tenants();
-- every job type there is, the project's own too
select set_config('t.job_types', (select count(*) from public.job_types)::text, true) is not null;

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
select tests.rows_on_jobsdbs_table(
    'profiles', $$select from public.profiles$$, 3,
    'service_role sees every row of profiles'
);
select tests.lives_on_jobsdbs_table(
    'profiles',
    $$insert into public.profiles (id) values (current_setting('t.bare')::uuid)$$,
    'service_role can insert into profiles'
);
select tests.rows_on_jobsdbs_table(
    'profiles', $$update public.profiles set display_name = 'x' where true$$, 4,
    'service_role can update every row of profiles'
);
select tests.rows_on_jobsdbs_table(
    'user_roles', $$select from public.user_roles$$, 1,
    'service_role sees every row of user_roles'
);
select tests.lives_on_jobsdbs_table(
    'user_roles',
    $$insert into public.user_roles (user_id, role) values (current_setting('t.owner')::uuid,
    'admin')$$,
    'service_role can insert into user_roles'
);
select tests.rows_on_jobsdbs_table(
    'user_roles', $$update public.user_roles set granted_at = now() where true$$, 2,
    'service_role can update every row of user_roles'
);
select tests.rows_on_jobsdbs_table(
    'projects', $$select from public.projects$$, 2,
    'service_role sees every row of projects'
);
select tests.lives_on_jobsdbs_table(
    'projects',
    $$insert into public.projects (user_id, name) values (current_setting('t.owner')::uuid,
    'p')$$,
    'service_role can insert into projects'
);
select tests.rows_on_jobsdbs_table(
    'projects', $$update public.projects set name = 'x' where true$$, 3,
    'service_role can update every row of projects'
);
select is(
    (select count(*)::int from (
        select * from public.job_types
    ) as q),
    current_setting('t.job_types')::int, 'service_role sees every row of job_types'
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

select is(
    count(*)::int, current_setting('t.job_types')::int + 1,
    'service_role can update every row of job_types'
) from r;
select tests.rows_on_jobsdbs_table(
    'api_models', $$select from public.api_models$$, 1,
    'service_role sees every row of api_models'
);
select tests.lives_on_jobsdbs_table(
    'api_models',
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    'service_role can insert into api_models'
);
select tests.rows_on_jobsdbs_table(
    'api_models', $$update public.api_models set display_name = 'x' where true$$, 2,
    'service_role can update every row of api_models'
);
select tests.rows_on_jobsdbs_table(
    'prompt_tests', $$select from public.prompt_tests$$, 1,
    'service_role sees every row of prompt_tests'
);
select tests.lives_on_jobsdbs_table(
    'prompt_tests',
    $$insert into public.prompt_tests (name, prompt) values ('n', 'p')$$,
    'service_role can insert into prompt_tests'
);
select tests.rows_on_jobsdbs_table(
    'prompt_tests', $$update public.prompt_tests set name = 'x' where true$$, 2,
    'service_role can update every row of prompt_tests'
);
select tests.rows_on_jobsdbs_table(
    'images_videos', $$select from public.images_videos$$, 4,
    'service_role sees every row of images_videos'
);
select tests.lives_on_jobsdbs_table(
    'images_videos',
    $$insert into public.images_videos (user_id, asset_index, asset_type, bucket, file_path,
    file_name) values (current_setting('t.owner')::uuid, 5, 'image', 'b', 'x.png',
    'x.png')$$,
    'service_role can insert into images_videos'
);
select tests.rows_on_jobsdbs_table(
    'images_videos', $$update public.images_videos set file_name = 'x' where true$$, 5,
    'service_role can update every row of images_videos'
);
select tests.rows_on_jobsdbs_table(
    'videos', $$select from public.videos$$, 2,
    'service_role sees every row of videos'
);
select tests.lives_on_jobsdbs_table(
    'videos',
    $$insert into public.videos (user_id, asset_id, file_path) values
    (current_setting('t.owner')::uuid, '00000000-0000-0000-0000-0000000000a2', 'x')$$,
    'service_role can insert into videos'
);
select tests.rows_on_jobsdbs_table(
    'videos', $$update public.videos set file_path = 'x' where true$$, 3,
    'service_role can update every row of videos'
);
select tests.rows_on_jobsdbs_table(
    'videos', $$delete from public.videos where true$$, 3,
    'service_role can delete every row of videos'
);
select tests.rows_on_jobsdbs_table(
    'images_videos', $$delete from public.images_videos where true$$, 5,
    'service_role can delete every row of images_videos'
);
with r as (
    delete from public.jobs where true returning 1
)

select is(count(*)::int, 3, 'service_role can delete every row of jobs') from r;
select tests.rows_on_jobsdbs_table(
    'prompt_tests', $$delete from public.prompt_tests where true$$, 2,
    'service_role can delete every row of prompt_tests'
);
select tests.rows_on_jobsdbs_table(
    'api_models', $$delete from public.api_models where true$$, 2,
    'service_role can delete every row of api_models'
);
select tests.rows_on_jobsdbs_table(
    'projects', $$delete from public.projects where true$$, 3,
    'service_role can delete every row of projects'
);
select tests.rows_on_jobsdbs_table(
    'user_roles', $$delete from public.user_roles where true$$, 2,
    'service_role can delete every row of user_roles'
);
select tests.rows_on_jobsdbs_table(
    'profiles', $$delete from public.profiles where true$$, 4,
    'service_role can delete every row of profiles'
);
with r as (
    delete from public.job_types where job_type = 'x_fast' returning 1
)

select is(count(*)::int, 1, 'service_role can delete a row of job_types') from r;
select * from finish();
rollback;
