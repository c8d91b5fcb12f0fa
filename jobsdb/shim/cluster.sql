-- jobsdb Supabase shim, cluster part: the roles of a hosted Supabase project
-- (SUPABASE.md, "Roles"). Each role is created only where it is missing.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
        -- The project owner: runs migrations, is NOT a superuser on hosted Supabase.
        create role postgres login nosuperuser createdb createrole replication bypassrls;
    end if;
end
$$;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

do $$
begin
    -- postgres may `set role` to each API role (PostgREST-style tests run as the owner).
    grant anon, authenticated, service_role to postgres;
    -- PostgREST's login role switches to the API roles.
    grant anon, authenticated, service_role to authenticator;
end
$$;

alter role postgres set search_path = "$user", public, extensions;
