-- jobsdb Supabase shim, cluster part: the roles of a hosted Supabase project with the
-- attributes, settings and memberships they have there (tests/supabase_facts/, the catalog
-- facts of a database built from Supabase's platform SQL). Idempotent: a role is created when
-- missing, and every attribute and setting is (re)set on each run, so a cluster initialised by
-- an older shim is brought up to date.
do $$
declare
    r record;
begin
    for r in
        select * from (values
            -- the project owner: runs migrations, is NOT a superuser on hosted Supabase
            ('postgres', 'login inherit createdb createrole replication bypassrls'),
            ('anon', 'nologin inherit nocreatedb nocreaterole noreplication nobypassrls'),
            ('authenticated', 'nologin inherit nocreatedb nocreaterole noreplication nobypassrls'),
            ('service_role', 'nologin inherit nocreatedb nocreaterole noreplication bypassrls'),
            -- PostgREST's login role
            ('authenticator', 'login noinherit nocreatedb nocreaterole noreplication nobypassrls'),
            ('dashboard_user', 'nologin inherit createdb createrole replication nobypassrls'),
            ('pgbouncer', 'login inherit nocreatedb nocreaterole noreplication nobypassrls'),
            ('supabase_auth_admin', 'login noinherit nocreatedb createrole noreplication nobypassrls'),
            ('supabase_storage_admin',
                'login noinherit nocreatedb createrole noreplication nobypassrls'),
            ('supabase_read_only_user',
                'login inherit nocreatedb nocreaterole noreplication bypassrls'),
            ('supabase_replication_admin',
                'login inherit nocreatedb nocreaterole replication nobypassrls')
        ) as v (rolname, attributes)
    loop
        if not exists (select from pg_catalog.pg_roles where rolname = r.rolname) then
            execute format('create role %I', r.rolname);
        end if;
        -- never demote the superuser running this (a server whose superuser is `postgres`)
        if r.rolname <> current_user then
            execute format('alter role %I nosuperuser %s', r.rolname, r.attributes);
        end if;
    end loop;
end
$$;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
alter role supabase_auth_admin set idle_in_transaction_session_timeout = 60000;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_storage_admin set search_path = storage;
-- as Supabase's init scripts write it (a quoted "\$user", so no per-user schema is searched)
alter role postgres set search_path = "\$user", public, extensions;
do $$
begin
    -- the platform's superuser (the embedded cluster's is named like it)
    if current_user = 'supabase_admin' then
        alter role supabase_admin set search_path = "\$user", public, auth, extensions;
    end if;
end
$$;

-- postgres may `set role` to each API role (PostgREST-style tests run as the owner);
-- PostgREST's login role switches to the API roles.
do $$
begin
    grant anon, authenticated, service_role, supabase_auth_admin, supabase_storage_admin
    to postgres;
    grant anon, authenticated, service_role to authenticator;
    grant authenticator to supabase_storage_admin;
end
$$;

-- On hosted Supabase, postgres may SET session_replication_role although it is no superuser:
-- supautils lets its privileged role (postgres) set the parameters on
-- supautils.privileged_role_allowed_configs, this one among them, but only by a SET
-- statement, not through set_config(). The seal of job history (functions/private/
-- seal_job_history.sql) uses a SET LOCAL statement. PostgreSQL 15's own parameter privilege
-- gives postgres the same right here (set_config too: the shim cannot tell the two apart).
do $$
begin
    if (select r.rolsuper from pg_catalog.pg_roles as r where r.rolname = current_user)
        and current_user <> 'postgres' then
        grant set on parameter session_replication_role to postgres;
    end if;
end
$$;
