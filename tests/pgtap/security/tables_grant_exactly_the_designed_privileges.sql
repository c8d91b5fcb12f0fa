-- The table privileges of every client role, read from the catalog: exactly the designed
-- table-level and column-level grants, nothing from Supabase's automatic grants (the template
-- has them on) and nothing missing if they are off (every grant is explicit). In a project's
-- database, on jobsdb's tables (tests/helpers.sql, tests.jobsdbs_table).
begin;
select plan(3);

select set_eq(
    $$select r.rolname::text, c.relname::text, p.priv
    from pg_catalog.pg_class as c
    cross join (
        values ('anon'), ('authenticated'), ('service_role'), ('jobs_worker')
    ) as r (rolname)
    cross join (
        values ('select'), ('insert'), ('update'), ('delete'), ('truncate'), ('references'),
        ('trigger')
    ) as p (priv)
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
        and tests.jobsdbs_table(c.relname) and has_table_privilege(r.rolname, c.oid, p.priv)$$,
    $$select * from (
    select 'authenticated'::text as rolname, t::text as relname, 'select'::text as priv
    from unnest(array[
        'jobs', 'profiles', 'user_roles', 'projects', 'job_types', 'api_models', 'prompt_tests',
        'images_videos', 'videos'
    ]) as t
    union all
    select 'authenticated', t, 'delete'
    from unnest(array['projects', 'images_videos', 'videos', 'prompt_tests']) as t
    union all
    select 'authenticated', 'prompt_tests', p from unnest(array['insert', 'update']) as p
    union all
    select 'service_role', t, p
    from unnest(array[
        'jobs', 'profiles', 'user_roles', 'projects', 'job_types', 'api_models', 'prompt_tests',
        'images_videos', 'videos'
    ]) as t
    cross join unnest(array['select', 'insert', 'update', 'delete']) as p
    ) as g where tests.jobsdbs_table(g.relname)$$,
    'table-level privileges of anon, authenticated, service_role and jobs_worker are as designed'
);

select set_eq(
    $$select c.relname::text, a.attname::text, x.privilege_type::text
    from pg_catalog.pg_attribute as a
    inner join pg_catalog.pg_class as c on c.oid = a.attrelid
    cross join lateral aclexplode(a.attacl) as x
    where c.relnamespace = 'public'::regnamespace and a.attacl is not null
        and tests.jobsdbs_table(c.relname) and x.grantee = 'authenticated'::regrole$$,
    $$select * from (values
        ('profiles', 'id', 'INSERT'),
        ('profiles', 'username', 'INSERT'), ('profiles', 'username', 'UPDATE'),
        ('profiles', 'display_name', 'INSERT'), ('profiles', 'display_name', 'UPDATE'),
        ('profiles', 'avatar_url', 'INSERT'), ('profiles', 'avatar_url', 'UPDATE'),
        ('projects', 'user_id', 'INSERT'),
        ('projects', 'name', 'INSERT'), ('projects', 'name', 'UPDATE')
    ) as g (relname, attname, privilege) where tests.jobsdbs_table(g.relname)$$,
    'users have column grants only on their profile and project columns'
);

select is_empty(
    $$select c.relname::text, a.attname::text
    from pg_catalog.pg_attribute as a
    inner join pg_catalog.pg_class as c on c.oid = a.attrelid
    cross join lateral aclexplode(a.attacl) as x
    where c.relnamespace = 'public'::regnamespace and a.attacl is not null
        and tests.jobsdbs_table(c.relname) and x.grantee in ('anon'::regrole, 'jobs_worker'::regrole, 0)$$,
    'anon, jobs_worker and PUBLIC have no column grants'
);

select * from finish();
rollback;
