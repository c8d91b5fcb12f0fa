-- jobsdb Supabase shim, database part: what a hosted Supabase database has and our package
-- relies on (SUPABASE.md). Run per database; idempotent.

-- extensions live in schema `extensions`
create schema if not exists extensions;
alter schema extensions owner to postgres;
grant usage on schema extensions to anon, authenticated, service_role;

-- schema public belongs to the owner role, the API roles may use it
alter schema public owner to postgres;
grant usage on schema public to anon, authenticated, service_role;

do $$
begin
    execute format('grant create, connect, temporary on database %I to postgres',
        current_database());
end
$$;

-- auth: the parts of GoTrue's schema that SQL code sees
create schema if not exists auth;
comment on schema auth is 'jobsdb supabase shim';

create table if not exists auth.users (
    instance_id uuid,
    id uuid primary key default gen_random_uuid(),
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    raw_app_meta_data jsonb default '{}'::jsonb,
    raw_user_meta_data jsonb default '{}'::jsonb,
    is_super_admin boolean,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    phone text,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
);

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

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

grant usage on schema auth to anon, authenticated, service_role, postgres;
grant execute on function auth.uid(), auth.role(), auth.jwt()
to anon, authenticated, service_role, postgres;
-- postgres can manage users on hosted Supabase (dashboard, seeds, test helpers)
grant all on table auth.users to postgres;
grant select on table auth.users to service_role;

-- realtime: the publication exists, is owned by postgres and starts empty
do $$
begin
    if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
end
$$;
alter publication supabase_realtime owner to postgres;
