-- Row level security is enabled on every table of public (a table added without it fails). In
-- a project's database: on every table of jobsdb's (tests/helpers.sql, tests.jobsdbs_table).
begin;
select plan(2);

select case
    when tests.on_a_project()
        then is_empty(
                $$select t from unnest(array[
            'api_models', 'images_videos', 'job_types', 'jobs', 'profiles', 'projects',
            'prompt_tests', 'user_roles', 'videos'
        ]) as t where to_regclass('public.' || t) is null$$,
                'public has every table of the package (beside the project''s own)'
            )
    else tables_are(
            'public',
            array[
                'api_models', 'images_videos', 'job_types', 'jobs', 'profiles', 'projects',
                'prompt_tests', 'user_roles', 'videos'
            ],
            'public has exactly the package''s tables'
        )
end;
select is_empty(
    $$select c.relname from pg_catalog.pg_class as c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        and not c.relrowsecurity and tests.jobsdbs_table(c.relname)$$,
    'every table of public has row level security enabled'
);

select * from finish();
rollback;
