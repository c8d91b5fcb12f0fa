-- Security audit of a built database: the checks of Supabase's Security Advisor (and a few of
-- our own). Every `-- name:` query returns the offending objects, one row each, as
-- (object text, detail text); no row means the check passes.
-- Loaded with jobsdb.queries.load('audit.sql'); run by tests/py/test_security_audit.py.
-- Exposed schemas: what PostgREST serves (public, graphql_public when present).
-- Objects that belong to an extension (pg_depend deptype 'e') are not ours and are skipped.

-- name: rls_disabled_tables
-- Tables in exposed schemas without row level security.
select format('%I.%I', n.nspname, c.relname) as object, 'row level security is disabled' as detail
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
    and n.nspname in ('public', 'graphql_public')
    and not c.relrowsecurity
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
    )
order by 1;

-- name: permissive_write_policies
-- Policies for INSERT/UPDATE/DELETE/ALL whose USING or WITH CHECK is the constant true.
select
    format('%I.%I: %s', p.schemaname, p.tablename, p.policyname) as object,
    format('%s policy with using (%s) with check (%s)', p.cmd,
        coalesce(p.qual, '-'), coalesce(p.with_check, '-')) as detail
from pg_catalog.pg_policies as p
where p.cmd in ('INSERT', 'UPDATE', 'DELETE', 'ALL')
    and (
        lower(regexp_replace(coalesce(p.qual, ''), '[\s()]', '', 'g')) = 'true'
        or lower(regexp_replace(coalesce(p.with_check, ''), '[\s()]', '', 'g')) = 'true'
    )
order by 1;

-- name: functions_that_find_callers_objects_first
-- Functions of the package (every function of public, jobs_private and jobs_api, and every
-- security definer function outside the system schemas) whose search_path setting would let a
-- name they resolve find an object a caller made before the one meant (SUPABASE.md: name
-- resolution). Types and relations are looked up in pg_temp FIRST unless pg_temp is listed,
-- and every role may create there (TEMP is granted to PUBLIC on Supabase): so `''` (what
-- Supabase's lint 0011 accepts) is not enough. Reported: no setting (the caller's path applies,
-- and a security definer body runs with its owner's rights; an invoker function runs with them
-- when a definer body calls it); pg_temp not listed, or not last; a listed schema in which a
-- role without the owner's rights (and not a superuser) may create objects, one that does not
-- exist (whoever creates it first owns it) or "$user". pg_catalog is searched first whenever
-- it is not listed; functions and operators are never looked up in pg_temp.
with functions as (
    select
        p.oid,
        p.proowner,
        s.setting,
        array(
            select btrim(btrim(e.entry), '"')
            from unnest(string_to_array(s.setting, ',')) as e (entry)
            where btrim(btrim(e.entry), '"') <> ''
        ) as path
    from pg_catalog.pg_proc as p
    inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
    left join lateral (
        select substr(c.setting, length('search_path=') + 1) as setting
        from unnest(p.proconfig) as c (setting)
        where c.setting like 'search\_path=%'
    ) as s on true
    where (
        n.nspname in ('public', 'jobs_private', 'jobs_api')
        or (
            p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
            and n.nspname !~ '^pg_(toast|temp)'
        )
    )
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
    )
),

checked as (
    select
        f.oid,
        case
            when f.setting is null then 'no search_path setting: the caller''s path applies'
            when not 'pg_temp' = any(f.path)
                then format('search_path %s does not list pg_temp: it is searched first', f.setting)
            when f.path[cardinality(f.path)] <> 'pg_temp'
                then format('search_path %s does not list pg_temp last', f.setting)
            when o.names is not null
                then format('search_path %s lists %s, where others may create objects',
                    f.setting, o.names)
        end as detail
    from functions as f
    -- listed schemas (not pg_catalog or pg_temp) that a caller could write names into
    left join lateral (
        select string_agg(e.name, ', ' order by e.ord) as names
        from unnest(f.path) with ordinality as e (name, ord)
        left join pg_catalog.pg_namespace as n on n.nspname = e.name
        where e.name not in ('pg_catalog', 'pg_temp')
            and (
                n.oid is null
                or exists (
                    select from pg_catalog.pg_roles as r
                    where not r.rolsuper
                        and not pg_catalog.pg_has_role(r.oid, f.proowner, 'USAGE')
                        and pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE')
                        -- its one member is the database's owner
                        and not (
                            r.rolname = 'pg_database_owner'
                            and pg_catalog.pg_has_role(
                                (
                                    select d.datdba from pg_catalog.pg_database as d
                                    where d.datname = pg_catalog.current_database()
                                ),
                                f.proowner, 'USAGE'
                            )
                        )
                )
            )
    ) as o on true
)

select c.oid::regprocedure::text as object, c.detail
from checked as c
where c.detail is not null
order by 1;

-- name: anon_executable_functions
-- Functions in exposed schemas that anon may execute (directly or through PUBLIC).
select p.oid::regprocedure::text as object, 'anon has EXECUTE' as detail
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('public', 'graphql_public')
    and pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE')
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
    )
order by 1;

-- name: authenticated_executable_functions
-- Functions in exposed schemas that authenticated may execute: (object = name, detail =
-- signature). The test compares the names with the user RPCs listed in docs/app.md.
select p.proname::text as object, p.oid::regprocedure::text as detail
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('public', 'graphql_public')
    and pg_catalog.has_function_privilege('authenticated', p.oid, 'EXECUTE')
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
    )
order by 1, 2;

-- name: anon_security_definer_function_executable
-- Supabase lint 0028, from its documented rule: a SECURITY DEFINER function in an exposed schema
-- (public, graphql_public) that anon may execute (directly, through a role it is a member of,
-- or through PUBLIC). Such a function runs with its owner's privileges, bypassing RLS, for any
-- anonymous caller of /rest/v1/rpc. Extension members are not exempt (the lint exempts none).
select
    p.oid::regprocedure::text as object,
    format('security definer, executable by anon, in exposed schema %s', n.nspname) as detail
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where p.prosecdef
    and n.nspname in ('public', 'graphql_public')
    and pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE')
order by 1;

-- name: authenticated_security_definer_function_executable
-- Supabase lint 0029, from its documented rule: the same for authenticated (any signed-up user).
select
    p.oid::regprocedure::text as object,
    format('security definer, executable by authenticated, in exposed schema %s', n.nspname)
    as detail
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where p.prosecdef
    and n.nspname in ('public', 'graphql_public')
    and pg_catalog.has_function_privilege('authenticated', p.oid, 'EXECUTE')
order by 1;

-- name: unindexed_foreign_keys
-- Foreign keys (any non-system schema) without a valid index whose leading columns are the
-- FK's columns (in any order). Partial indexes count, as in Supabase's own lint.
select
    format('%s: %I', c.conrelid::regclass, c.conname) as object,
    format('no index leads with (%s)', (
        select string_agg(quote_ident(a.attname), ', ' order by k.ord)
        from unnest(c.conkey) with ordinality as k (attnum, ord)
        inner join pg_catalog.pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.attnum
    )) as detail
from pg_catalog.pg_constraint as c
inner join pg_catalog.pg_namespace as n on n.oid = c.connamespace
where c.contype = 'f'
    -- a key into a partitioned table has a part per partition (conparentid): not keys of their own
    and c.conparentid = 0
    and n.nspname not in ('pg_catalog', 'information_schema')
    and not exists (
        select
        from pg_catalog.pg_index as i
        where i.indrelid = c.conrelid
            and i.indisvalid
            and i.indnkeyatts >= cardinality(c.conkey)
            and (
                select array_agg(x order by x)
                from unnest((string_to_array(i.indkey::text, ' ')::smallint [])[1:cardinality(c.conkey)]) as x
            ) = (select array_agg(y order by y) from unnest(c.conkey) as y)
    )
order by 1;

-- name: anon_table_privileges
-- Any table privilege that anon holds (directly or through PUBLIC) on a table, view,
-- materialized view or foreign table outside the system schemas. Relations an extension installs
-- (pg_stat_statements grants its views to PUBLIC) belong to the platform, not the package.
select
    format('%I.%I', n.nspname, c.relname) as object,
    'anon has ' || string_agg(pr.privilege, ', ' order by pr.privilege) as detail
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'])
    as pr (privilege)
where c.relkind in ('r', 'p', 'v', 'm', 'f')
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname !~ '^pg_(toast|temp)'
    and pg_catalog.has_table_privilege('anon', c.oid, pr.privilege)
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
    )
group by n.nspname, c.relname
order by 1;

-- name: unwrapped_auth_calls_in_policies
-- Policies calling auth.uid() / auth.role() / auth.jwt() / current_setting() per row instead of
-- once per statement through a scalar sub-select `(select auth.uid())` (pg_policies shows it
-- as `( SELECT auth.uid() AS uid)`).
select
    format('%I.%I: %s', p.schemaname, p.tablename, p.policyname) as object,
    format('using (%s) with check (%s)', coalesce(p.qual, '-'), coalesce(p.with_check, '-'))
    as detail
from pg_catalog.pg_policies as p
where coalesce(p.qual, '') ~* '(?<!select )(auth\.(uid|role|jwt)|current_setting)\('
    or coalesce(p.with_check, '') ~* '(?<!select )(auth\.(uid|role|jwt)|current_setting)\('
order by 1;

-- name: views_without_security_invoker
-- Views in exposed schemas that run with their owner's privileges (no security_invoker).
select format('%I.%I', n.nspname, c.relname) as object, 'security_invoker is not on' as detail
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('v', 'm')
    and n.nspname in ('public', 'graphql_public')
    and not exists (
        select from unnest(c.reloptions) as o (opt)
        where lower(o.opt) in ('security_invoker=true', 'security_invoker=on', 'security_invoker=1',
            'security_invoker=yes')
    )
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
    )
order by 1;

-- name: tables_without_comment
-- Tables in public without a comment.
select format('%I.%I', n.nspname, c.relname) as object, 'no comment' as detail
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
    and n.nspname = 'public'
    and pg_catalog.obj_description(c.oid, 'pg_class') is null
order by 1;

-- name: exposed_functions_without_comment
-- Functions in exposed schemas without a comment.
select p.oid::regprocedure::text as object, 'no comment' as detail
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('public', 'graphql_public')
    and pg_catalog.obj_description(p.oid, 'pg_proc') is null
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
    )
order by 1;

-- name: table_fingerprints
-- Row count and checksum of the tables whose content must not change on a failed call.
select 'jobs' as table_name, count(*) as n,
    md5(coalesce(string_agg(t::text, ',' order by t.id), '')) as checksum
from public.jobs as t
union all
select 'images_videos', count(*), md5(coalesce(string_agg(t::text, ',' order by t.id), ''))
from public.images_videos as t
union all
select 'videos', count(*), md5(coalesce(string_agg(t::text, ',' order by t.id), ''))
from public.videos as t
union all
select 'profiles', count(*), md5(coalesce(string_agg(t::text, ',' order by t.id), ''))
from public.profiles as t
union all
select 'user_roles', count(*),
    md5(coalesce(string_agg(t::text, ',' order by t.user_id, t.role), ''))
from public.user_roles as t;
