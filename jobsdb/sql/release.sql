-- Pieces `jobsdb release build` (jobsdb/release_build.py) puts into every release file around
-- the source. __TO__, __FROM__ and __LAST_MIGRATION__ are replaced by the release(s) of the file
-- and the last migration of the history before 1.0.0. Each guard is the first statement of its
-- file: it stops the file, on one line saying what to do, where it cannot apply; the file being
-- one transaction, nothing of it stays.

-- name: install_guard
do $jobsdb_guard$
declare
    v_have text;
    v_missing text;
begin
    if pg_catalog.to_regclass('auth.users') is null then
        raise exception using errcode = '0A000', message = 'jobsdb __TO__ cannot be installed:'
        || ' this database is not a Supabase project (no auth.users); for a scratch database'
        || ' with a stand-in for Supabase''s auth schema and roles run `jobsdb db scratch`';
    end if;
    select pg_catalog.string_agg(r.rolname, ', ')
    into v_missing
    from pg_catalog.unnest(array['anon', 'authenticated', 'service_role']) as r (rolname)
    where not exists (select from pg_catalog.pg_roles as x where x.rolname = r.rolname);
    if v_missing is not null then
        raise exception using errcode = '0A000', message = 'jobsdb __TO__ cannot be installed:'
        || ' this database lacks Supabase''s role(s) ' || v_missing || '; for a scratch'
        || ' database with a stand-in for them run `jobsdb db scratch`';
    end if;
    if pg_catalog.to_regprocedure('jobs_private.installed_release()') is not null then
        execute 'select jobs_private.installed_release()' into v_have;
        raise exception using errcode = '55000', message = 'jobsdb ' || v_have || ' is already'
        || ' installed here: this file installs jobsdb __TO__ into a database without it; write'
        || ' the upgrade with `jobsdb install --into <project>/supabase/migrations` or run'
        || ' `jobsdb migrate`';
    end if;
    if pg_catalog.to_regclass('public.jobs') is not null then
        if pg_catalog.to_regnamespace('jobs_private') is not null then
            raise exception using errcode = '55000', message = 'this database has jobsdb from'
            || ' before 1.0.0 (the migrations of jobsdb''s repository): it needs the upgrade to'
            || ' __TO__, not the install; `jobsdb install --into <project>/supabase/migrations`'
            || ' writes it, or run `jobsdb migrate`';
        end if;
        raise exception using errcode = '42P07', message = 'jobsdb __TO__ cannot be installed:'
        || ' public.jobs already exists and is not jobsdb''s';
    end if;
end
$jobsdb_guard$;

-- name: step_guard
do $jobsdb_guard$
declare
    v_have text;
begin
    if pg_catalog.to_regprocedure('jobs_private.installed_release()') is not null then
        execute 'select jobs_private.installed_release()' into v_have;
    elsif pg_catalog.to_regclass('public.jobs') is not null then
        v_have := 'pre-1.0';
    end if;
    if v_have is distinct from '__FROM__' then
        raise exception using errcode = '55000', message = 'this file takes jobsdb from __FROM__'
        || ' to __TO__, but the database holds '
        || coalesce('jobsdb ' || v_have, 'no jobsdb') || ': `jobsdb migrate status` says'
        || ' which file applies (docs/operators.md, "Releases")';
    end if;
end
$jobsdb_guard$;

-- name: pre_release_guard
do $jobsdb_guard$
begin
    if pg_catalog.to_regprocedure('jobs_private.installed_release()') is not null
        or pg_catalog.to_regclass('public.jobs') is null then
        raise exception using errcode = '55000', message = 'this file upgrades a database built'
        || ' from jobsdb''s migrations before 1.0.0 to __TO__, and this database is not one:'
        || ' `jobsdb migrate status` says which file applies';
    end if;
    if pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null
        and not exists (
            select from supabase_migrations.schema_migrations as m
            where m.version = '__LAST_MIGRATION__'
        ) then
        raise exception using errcode = '55000', message = 'this database has jobsdb''s'
        || ' migrations before 1.0.0 only in part (__LAST_MIGRATION__ is not applied): apply'
        || ' the rest of them first (`jobsdb migrate` does)';
    end if;
end
$jobsdb_guard$;

-- name: app_table_section
-- A source section that creates or changes one of the spec's tables, run only where jobsdb
-- created that table (jobs_private.app_tables lists the project's own).
do $jobsdb_app_table$
begin
if not exists (select from jobs_private.app_tables where table_name = '__TABLE__') then
__BODY__
end if;
end
$jobsdb_app_table$;
