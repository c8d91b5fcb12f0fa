-- jobsdb Supabase shim, database part: what a hosted Supabase database has before any project
-- migration, as far as a package can tell (tests/supabase_facts/ holds the platform's catalog
-- facts; tests/py/test_shim_fidelity.py compares, known_differences.json lists what is kept
-- apart and why). Run per database as a superuser; idempotent, and brings a database set up
-- by an older shim up to date.

-- The database belongs to the owner role, so it owns public through pg_database_owner.
do $$
begin
    execute format('alter database %I owner to postgres', current_database());
end
$$;

-- public: PostgreSQL 15's own (owned by pg_database_owner), usable by the API roles
alter schema public owner to pg_database_owner;
grant usage on schema public to postgres, anon, authenticated, service_role;

-- extensions live in schema `extensions`, owned by postgres
create schema if not exists extensions;
alter schema extensions owner to postgres;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage, create on schema extensions to dashboard_user;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
-- installed as on the platform; its view needs shared_preload_libraries, which the embedded
-- cluster does not set (the package never reads it). Not a trusted extension: only a
-- superuser applying the shim installs it (`jobsdb demo` on a server it does not administer
-- applies the database part as the owner role).
do $$
begin
    if (select r.rolsuper from pg_catalog.pg_roles as r where r.rolname = current_user) then
        create extension if not exists pg_stat_statements with schema extensions;
    end if;
end
$$;

-- the platform's other schemas, empty here (the package uses none of their objects)
create schema if not exists graphql_public;
create schema if not exists storage;
create schema if not exists realtime;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant usage, create on schema storage to postgres, dashboard_user, supabase_storage_admin;
grant usage on schema realtime to postgres;
-- owned by the pgbouncer role, which only a superuser (or a member) can give it to; the owner
-- role applying the shim on a server it does not administer (`jobsdb demo`) leaves it out
do $$
begin
    if pg_catalog.pg_has_role(current_user, 'pgbouncer', 'member') then
        create schema if not exists pgbouncer authorization pgbouncer;
    end if;
end
$$;

-- auth: GoTrue's schema, as far as SQL code sees it. Its comment is the shim's marker
-- (jobsdb/shim.py tells the shim from a real project by it).
create schema if not exists auth;
comment on schema auth is 'jobsdb supabase shim';
grant usage on schema auth to anon, authenticated, service_role;
grant usage, create on schema auth to postgres, dashboard_user, supabase_auth_admin;

do $$
begin
    if not exists (select from pg_catalog.pg_type where typname = 'aal_level'
                   and typnamespace = 'auth'::regnamespace) then
        create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
    end if;
end
$$;

-- auth.users: no default on id or created_at (the Auth service fills them in). The columns
-- are added one by one, in the platform's order, so that a database made by an older shim gets
-- the missing ones and loses the defaults it should not have.
create table if not exists auth.users (instance_id uuid, id uuid not null primary key);
do $$
declare
    c record;
begin
    for c in
        select * from (values
            ('instance_id', 'uuid', null, false),
            ('id', 'uuid', null, true),
            ('aud', 'varchar(255)', null, false),
            ('role', 'varchar(255)', null, false),
            ('email', 'varchar(255)', null, false),
            ('encrypted_password', 'varchar(255)', null, false),
            ('email_confirmed_at', 'timestamptz', null, false),
            ('invited_at', 'timestamptz', null, false),
            ('confirmation_token', 'varchar(255)', null, false),
            ('confirmation_sent_at', 'timestamptz', null, false),
            ('recovery_token', 'varchar(255)', null, false),
            ('recovery_sent_at', 'timestamptz', null, false),
            ('email_change_token_new', 'varchar(255)', null, false),
            ('email_change', 'varchar(255)', null, false),
            ('email_change_sent_at', 'timestamptz', null, false),
            ('last_sign_in_at', 'timestamptz', null, false),
            ('raw_app_meta_data', 'jsonb', null, false),
            ('raw_user_meta_data', 'jsonb', null, false),
            ('is_super_admin', 'boolean', null, false),
            ('created_at', 'timestamptz', null, false),
            ('updated_at', 'timestamptz', null, false),
            ('phone', 'text', 'NULL::character varying', false),
            ('phone_confirmed_at', 'timestamptz', null, false),
            ('phone_change', 'text', '''''::character varying', false),
            ('phone_change_token', 'varchar(255)', '''''::character varying', false),
            ('phone_change_sent_at', 'timestamptz', null, false),
            ('confirmed_at', 'timestamptz', null, false),
            ('email_change_token_current', 'varchar(255)', '''''::character varying', false),
            ('email_change_confirm_status', 'smallint', '0', false),
            ('banned_until', 'timestamptz', null, false),
            ('reauthentication_token', 'varchar(255)', '''''::character varying', false),
            ('reauthentication_sent_at', 'timestamptz', null, false),
            ('is_sso_user', 'boolean', 'false', true),
            ('deleted_at', 'timestamptz', null, false),
            ('is_anonymous', 'boolean', 'false', true)
        ) as v (name, type, default_value, not_null)
    loop
        -- confirmed_at is generated on the platform; added below
        continue when c.name = 'confirmed_at';
        execute format('alter table auth.users add column if not exists %I %s', c.name, c.type);
        if c.default_value is null then
            execute format('alter table auth.users alter column %I drop default', c.name);
        else
            execute format('alter table auth.users alter column %I set default %s', c.name,
                c.default_value);
        end if;
        if c.not_null then
            execute format('alter table auth.users alter column %I set not null', c.name);
        elsif c.name <> 'id' then
            execute format('alter table auth.users alter column %I drop not null', c.name);
        end if;
        if c.name = 'phone_change_sent_at' and not exists (
            select from pg_catalog.pg_attribute
            where attrelid = 'auth.users'::regclass and attname = 'confirmed_at'
        ) then
            alter table auth.users add column confirmed_at timestamptz
            generated always as (least(email_confirmed_at, phone_confirmed_at)) stored;
        end if;
    end loop;
end
$$;
alter table auth.users enable row level security;

create table if not exists auth.identities (
    provider_id text not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    identity_data jsonb not null,
    provider text not null,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text generated always as (lower(identity_data ->> 'email')) stored,
    id uuid not null default gen_random_uuid() primary key,
    unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);
alter table auth.identities enable row level security;

create table if not exists auth.sessions (
    id uuid not null primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz,
    updated_at timestamptz,
    factor_id uuid,
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp,
    user_agent text,
    ip inet,
    tag text,
    oauth_client_id uuid,
    refresh_token_hmac_key text,
    refresh_token_counter bigint,
    scopes text
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);
alter table auth.sessions enable row level security;

-- owned by the Auth service's role; the owner role and the dashboard may do everything, the
-- API roles (service_role included) nothing
do $$
declare
    t text;
begin
    foreach t in array array['auth.users', 'auth.identities', 'auth.sessions'] loop
        execute format('alter table %s owner to supabase_auth_admin', t);
        execute format('revoke all on table %s from public, anon, authenticated, service_role', t);
        execute format('grant all on table %s to postgres, dashboard_user', t);
    end loop;
end
$$;

create or replace function auth.uid() returns uuid
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
-- executable by everyone through PUBLIC, as PostgreSQL's default (an older shim granted them to
-- each API role: taken back)
revoke all on function auth.uid(), auth.role(), auth.email(), auth.jwt()
from anon, authenticated, service_role, postgres;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to public, dashboard_user;
grant execute on function auth.jwt() to postgres;

-- realtime: the publication exists, is owned by postgres and starts empty
do $$
begin
    if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
end
$$;
alter publication supabase_realtime owner to postgres;

-- The platform's superuser owns its schemas, and what it creates in public and graphql_public
-- is granted to the API roles, in extensions to postgres. (The embedded cluster's superuser is
-- supabase_admin; on a server without that role, or applied by a role that cannot act for it,
-- these stay with whoever ran the shim.)
do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'supabase_admin')
        and pg_catalog.pg_has_role(current_user, 'supabase_admin', 'member') then
        alter schema auth owner to supabase_admin;
        alter schema graphql_public owner to supabase_admin;
        alter schema storage owner to supabase_admin;
        alter schema realtime owner to supabase_admin;
        alter default privileges for role supabase_admin in schema public, graphql_public
        grant all on tables to postgres, anon, authenticated, service_role;
        alter default privileges for role supabase_admin in schema public, graphql_public
        grant all on sequences to postgres, anon, authenticated, service_role;
        alter default privileges for role supabase_admin in schema public, graphql_public
        grant all on functions to postgres, anon, authenticated, service_role;
        alter default privileges for role supabase_admin in schema extensions
        grant all on tables to postgres;
        alter default privileges for role supabase_admin in schema extensions
        grant all on sequences to postgres;
        alter default privileges for role supabase_admin in schema extensions
        grant all on functions to postgres;
    end if;
end
$$;

-- what postgres creates in storage is granted to the API roles (for public: auto_grants_*.sql)
alter default privileges for role postgres in schema storage
grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema storage
grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema storage
grant all on functions to postgres, anon, authenticated, service_role;
