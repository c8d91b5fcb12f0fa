-- Test helpers, loaded by the test runner into the template database (schema tests; never part
-- of a migration). They act the way PostgREST does: set local role + request.jwt.claims, so
-- they must be called inside a transaction (every pgTAP file is one).
create schema if not exists tests;
grant usage on schema tests to public;

-- A Supabase user: auth.users row + profile; admin adds the admin role.
create or replace function tests.create_user(email text, is_admin boolean default false)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_id uuid;
begin
    insert into auth.users (email, raw_app_meta_data)
    values (create_user.email, jsonb_build_object('provider', 'email'))
    returning id into v_id;
    insert into public.profiles (id, username) values (v_id, null);
    if create_user.is_admin then
        insert into public.user_roles (user_id, role) values (v_id, 'admin');
    end if;
    return v_id;
end;
$$;

create or replace function tests.act_as(role_name text, claims jsonb)
returns void
language plpgsql
set search_path = ''
as $$
begin
    perform set_config('request.jwt.claims', claims::text, true);
    perform set_config('request.jwt.claim.sub', '', true);
    perform set_config('request.method', 'POST', true);
    perform set_config('role', role_name, true);
end;
$$;

-- Signed-in user (role authenticated, sub = user id).
create or replace function tests.authenticate_as(user_id uuid)
returns void
language sql
set search_path = ''
as $$
    select tests.act_as('authenticated', jsonb_build_object(
        'sub', authenticate_as.user_id, 'role', 'authenticated', 'aud', 'authenticated',
        'app_metadata', jsonb_build_object('provider', 'email')
    ));
$$;

create or replace function tests.authenticate_as_anon()
returns void
language sql
set search_path = ''
as $$
    select tests.act_as('anon', '{"role": "anon"}');
$$;

create or replace function tests.authenticate_as_service_role()
returns void
language sql
set search_path = ''
as $$
    select tests.act_as('service_role', '{"role": "service_role"}');
$$;

-- A GPU worker connected directly as a login user that was granted jobs_worker.
create or replace function tests.authenticate_as_worker()
returns void
language sql
set search_path = ''
as $$
    select tests.act_as('jobs_worker', '{}');
$$;

-- Back to the owner role (the migration role), claims cleared.
create or replace function tests.clear_authentication()
returns void
language plpgsql
set search_path = ''
as $$
begin
    perform set_config('request.jwt.claims', '', true);
    reset role;
end;
$$;
