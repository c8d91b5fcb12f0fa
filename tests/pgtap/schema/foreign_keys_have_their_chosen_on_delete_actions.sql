-- Every foreign key of the package has a deliberate ON DELETE: the catalog lists exactly
-- these (a new FK, or a changed action, fails this test until it is added here on purpose).
-- c = cascade, n = set null, a = no action (the row cannot go while referenced). A table that is
-- the project's own keeps its own keys (tests.jobsdbs_table).
begin;
select plan(1);

select set_eq(
    $$select c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text,
        c.confdeltype::text
    from pg_catalog.pg_constraint as c
    inner join pg_catalog.pg_attribute as a
        on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    inner join pg_catalog.pg_class as r on r.oid = c.conrelid
    -- conparentid: a key into a partitioned table also has one per partition, its own parts
    where c.contype = 'f' and c.conparentid = 0
        and c.connamespace = 'public'::regnamespace and tests.jobsdbs_table(r.relname::text)$$,
    $$select * from (values
        ('profiles', 'id', 'auth.users', 'c'),
        ('user_roles', 'user_id', 'profiles', 'c'),
        ('projects', 'user_id', 'profiles', 'c'),
        ('prompt_tests', 'created_by', 'profiles', 'n'),
        ('jobs', 'user_id', 'profiles', 'c'),
        ('jobs', 'job_type', 'job_types', 'a'),
        ('jobs', 'project_id', 'projects', 'n'),
        ('jobs', 'prompt_test_id', 'prompt_tests', 'n'),
        ('jobs', 'reviewed_by', 'profiles', 'n'),
        ('jobs', 'api_model_id', 'api_models', 'n'),
        ('jobs', 'image_id', 'images_videos', 'n'),
        ('jobs', 'video_id', 'videos', 'n'),
        ('images_videos', 'user_id', 'profiles', 'c'),
        ('images_videos', 'job_id', 'jobs', 'n'),
        ('videos', 'user_id', 'profiles', 'c'),
        ('videos', 'asset_id', 'images_videos', 'c')
    ) as fk (relname, attname, target, action)
    where tests.jobsdbs_table(fk.relname)$$,
    'every foreign key of public with its ON DELETE action'
);

select * from finish();
rollback;
