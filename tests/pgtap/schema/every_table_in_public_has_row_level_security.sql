-- Row level security is enabled on every table of public (a table added without it fails).
begin;
select plan(2);

select tables_are(
    'public',
    array[
        'api_models', 'images_videos', 'job_types', 'jobs', 'profiles', 'projects',
        'prompt_tests', 'user_roles', 'videos'
    ],
    'public has exactly the package''s tables'
);
select is_empty(
    $$select c.relname from pg_catalog.pg_class as c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        and not c.relrowsecurity$$,
    'every table of public has row level security enabled'
);

select * from finish();
rollback;
