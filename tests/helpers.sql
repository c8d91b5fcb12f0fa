-- Test helpers, loaded by the test runner into the template database (schema tests; never part
-- of a migration). They act the way PostgREST does: set local role + request.jwt.claims, so
-- they must be called inside a transaction (every pgTAP file is one).
create schema if not exists tests;
grant usage on schema tests to public;

-- A signed-up Supabase user as the Auth service writes it (email provider, confirmed): an
-- auth.users row with every value Auth fills in (an explicit id and timestamps: on Supabase
-- auth.users has no defaults for them; '' for the token columns Auth reads back as strings)
-- and its auth.identities row. No profile.
create or replace function tests.create_auth_user(email text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_id uuid := gen_random_uuid();
    v_now timestamptz := now();
begin
    insert into auth.users (
        instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
        confirmation_token, recovery_token, email_change_token_new, email_change,
        raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at
    )
    values (
        '00000000-0000-0000-0000-000000000000', v_id, 'authenticated', 'authenticated',
        create_auth_user.email, '', v_now, '', '', '', '',
        '{"provider": "email", "providers": ["email"]}', '{}', v_now, v_now, v_now
    );
    insert into auth.identities (
        id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at,
        updated_at
    )
    values (
        gen_random_uuid(), v_id::text, v_id,
        jsonb_build_object('sub', v_id::text, 'email', create_auth_user.email,
            'email_verified', true),
        'email', v_now, v_now, v_now
    );
    return v_id;
end;
$$;

-- `jobsdb test --url` runs the files in a project's database (jobsdb/sql/existing.sql sets
-- jobsdb.test_target there): public also holds the project's own tables and functions, and a
-- table of the spec may be the project's own (jobs_private.app_tables). There the files check
-- jobsdb's objects only; in jobsdb's own test database, everything in public is jobsdb's.
create or replace function tests.on_a_project()
returns boolean
language sql
stable
set search_path = ''
as $$
    select coalesce(current_setting('jobsdb.test_target', true), '') = 'project';
$$;

-- A table of public that is jobsdb's (not the project's own). Security definer: the files call
-- it acting as any role, and only the owner reads jobs_private.
create or replace function tests.jobsdbs_table(table_name text)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select not exists (
        select from jobs_private.app_tables as a
        where a.table_name = 'public.' || jobsdbs_table.table_name
    )
    and (
        not tests.on_a_project()
        or jobsdbs_table.table_name = any(array[
            'jobs', 'job_types', 'profiles', 'user_roles', 'projects', 'api_models',
            'prompt_tests', 'images_videos', 'videos'
        ])
    );
$$;

-- A function of public that is jobsdb's (its RPC surface).
create or replace function tests.jobsdbs_function(function_name text)
returns boolean
language sql
stable
set search_path = ''
as $$
    select not tests.on_a_project() or jobsdbs_function.function_name = any(array[
        'asset_info', 'cancel_job', 'claim_jobs', 'get_job', 'heartbeat_jobs', 'job_callback',
        'job_callbacks', 'job_callback_and_claim', 'job_changes_since', 'library_items', 'list_jobs', 'purge_finished_jobs',
        'queue_job', 'release_jobs', 'rescue_expired_jobs', 'rescue_is_scheduled', 'retry_job',
        'review_job', 'system_metrics', 'workspace_groups'
    ]);
$$;

-- Checks of a table that may be the project's own: on jobsdb's table, the rows the statement
-- (text, parsed only then) returns or changes must be `expected`, or it must live; on the
-- project's own table, a skip. No pinned search_path: pgTAP lives in the extensions schema.
create or replace function tests.rows_on_jobsdbs_table(
    table_name text, statement text, expected integer, description text
)
returns text
language plpgsql
as $$
declare
    v_rows integer;
begin
    if not tests.jobsdbs_table(rows_on_jobsdbs_table.table_name) then
        return skip(rows_on_jobsdbs_table.table_name || ' is the project''s own table');
    end if;
    execute rows_on_jobsdbs_table.statement;
    get diagnostics v_rows = row_count;
    return is(v_rows, rows_on_jobsdbs_table.expected, rows_on_jobsdbs_table.description);
end;
$$;

create or replace function tests.lives_on_jobsdbs_table(
    table_name text, statement text, description text
)
returns text
language plpgsql
as $$
begin
    if not tests.jobsdbs_table(lives_on_jobsdbs_table.table_name) then
        return skip(lives_on_jobsdbs_table.table_name || ' is the project''s own table');
    end if;
    return lives_ok(lives_on_jobsdbs_table.statement, lives_on_jobsdbs_table.description);
end;
$$;

-- A Supabase user with a profile; admin adds the admin role.
create or replace function tests.create_user(email text, is_admin boolean default false)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_id uuid := tests.create_auth_user(create_user.email);
begin
    -- a project may create profiles from a trigger on auth.users already (and may require
    -- columns of its own there, which only its trigger fills)
    if not exists (select from public.profiles as p where p.id = v_id) then
        insert into public.profiles (id) values (v_id);
    end if;
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

-- The status state machine, pair by pair: one job in each `from` state for each of the 20
-- ordered pairs of the five statuses; then, as the owner (default) or as the service role, a
-- direct UPDATE to the `to` state. Returns one pgTAP result per pair: a pair in `allowed`
-- ('queued->processing', ...) must succeed, any other must raise PT409 naming both states.
-- No pinned search_path: the pgTAP functions it calls live in the extensions schema.
create or replace function tests.check_status_changes(
    allowed text[], as_service_role boolean default false
)
returns setof text
language plpgsql
as $$
declare
    v_owner uuid := tests.create_user('transitions-' || gen_random_uuid() || '@example.com');
    v_pair record;
    v_outcome text;
begin
    create temporary table status_pairs on commit drop as
    select f.s as from_status, t.s as to_status, gen_random_uuid() as job_id
    from unnest(array['queued', 'processing', 'completed', 'failed', 'cancelled']) as f (s)
    cross join unnest(array['queued', 'processing', 'completed', 'failed', 'cancelled']) as t (s)
    where f.s <> t.s;
    grant select on status_pairs to service_role;
    -- born queued (or completed), then walked to the from state along allowed transitions
    insert into public.jobs (id, user_id, job_type, status)
    select p.job_id, v_owner, 'image_fast', case when p.from_status = 'completed' then 'completed' else 'queued' end
    from status_pairs as p;
    update public.jobs as j
    set status = 'processing', attempts = 1, locked_by = 'w1',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    from status_pairs as p
    where j.id = p.job_id and p.from_status in ('processing', 'failed');
    update public.jobs as j set status = p.from_status
    from status_pairs as p
    where j.id = p.job_id and p.from_status in ('failed', 'cancelled');

    if check_status_changes.as_service_role then
        perform tests.authenticate_as_service_role();
    end if;
    for v_pair in select * from status_pairs order by from_status, to_status loop
        begin
            update public.jobs
            set status = v_pair.to_status, locked_by = 'w2',
                lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
            where id = v_pair.job_id;
            v_outcome := 'allowed';
        exception when others then
            v_outcome := sqlstate || ' ' || sqlerrm;
        end;
        return next is(
            v_outcome,
            case when v_pair.from_status || '->' || v_pair.to_status = any(check_status_changes.allowed)
                then 'allowed'
                else format('PT409 job status cannot change from %s to %s', v_pair.from_status, v_pair.to_status)
            end,
            format('%s -> %s is %s', v_pair.from_status, v_pair.to_status,
                case when v_pair.from_status || '->' || v_pair.to_status = any(check_status_changes.allowed)
                    then 'allowed' else 'refused' end)
        );
    end loop;
    perform tests.clear_authentication();
end;
$$;

-- As role_name (set the way PostgREST does), every select, insert, update and delete on every
-- table of public must fail with 42501, before any row is read: one pgTAP result per table and
-- command, so a table added later is covered without editing the test.
create or replace function tests.check_no_table_access(role_name text)
returns setof text
language plpgsql
as $$
declare
    v_table record;
    v_command text;
    v_sql text;
    v_outcome text;
begin
    for v_table in
        select
            c.relname as table_name,
            (
                select a.attname from pg_catalog.pg_attribute as a
                where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                order by a.attnum limit 1
            ) as first_column
        from pg_catalog.pg_class as c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
            and tests.jobsdbs_table(c.relname)
        order by c.relname
    loop
        foreach v_command in array array['select', 'insert', 'update', 'delete'] loop
            v_sql := case v_command
                when 'select' then format('select from public.%I', v_table.table_name)
                when 'insert' then format('insert into public.%I default values', v_table.table_name)
                when 'update' then format(
                    'update public.%1$I set %2$I = %2$I where true', v_table.table_name,
                    v_table.first_column
                )
                else format('delete from public.%I where true', v_table.table_name)
            end;
            perform tests.act_as(check_no_table_access.role_name, '{}');
            begin
                execute v_sql;
                v_outcome := 'allowed';
            exception when others then
                v_outcome := sqlstate;
            end;
            perform tests.clear_authentication();
            return next is(
                v_outcome, '42501',
                format('%s cannot %s %s', check_no_table_access.role_name, v_command,
                    v_table.table_name)
            );
        end loop;
    end loop;
end;
$$;


-- The security suite's fixture: an owner, another user and an admin (ids in the settings
-- t.owner, t.other, t.admin), each user with a project and a completed video job that has an
-- image and a video output (fixed ids ...a1-a5 for the owner, ...b1-b5 for the other user), a
-- prompt test and an api model (...c1, ...c2), and a signed-up user without a profile (t.bare).
create or replace function tests.seed_two_tenants()
returns void
language plpgsql
set search_path = ''
as $$
begin
    perform set_config('t.owner', tests.create_user('owner@example.com')::text, true);
    perform set_config('t.other', tests.create_user('other@example.com')::text, true);
    perform set_config('t.admin', tests.create_user('admin@example.com', true)::text, true);
    insert into public.projects (id, user_id, name)
    values
    ('00000000-0000-0000-0000-0000000000a5', current_setting('t.owner')::uuid, 'owner project'),
    ('00000000-0000-0000-0000-0000000000b5', current_setting('t.other')::uuid, 'other project');
    insert into public.prompt_tests (id, name, prompt, created_by)
    values (
        '00000000-0000-0000-0000-0000000000c1', 'test', 'a prompt', current_setting('t.admin')::uuid
    );
    insert into public.api_models (id, model_key, provider)
    values ('00000000-0000-0000-0000-0000000000c2', 'model-key', 'provider');
    insert into public.jobs (id, user_id, job_type, status, project_id)
    values
    (
        '00000000-0000-0000-0000-0000000000a1', current_setting('t.owner')::uuid, 'video_fast',
        'completed',
        '00000000-0000-0000-0000-0000000000a5'
    ),
    (
        '00000000-0000-0000-0000-0000000000b1', current_setting('t.other')::uuid, 'video_fast',
        'completed',
        '00000000-0000-0000-0000-0000000000b5'
    );
    insert into public.images_videos
    (id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    values
    (
        '00000000-0000-0000-0000-0000000000a2', current_setting('t.owner')::uuid,
        '00000000-0000-0000-0000-0000000000a1', 0, 'image', 'b', 'o/0.png', '0.png'
    ),
    (
        '00000000-0000-0000-0000-0000000000a3', current_setting('t.owner')::uuid,
        '00000000-0000-0000-0000-0000000000a1', 1, 'video', 'b', 'o/1.mp4', '1.mp4'
    ),
    (
        '00000000-0000-0000-0000-0000000000b2', current_setting('t.other')::uuid,
        '00000000-0000-0000-0000-0000000000b1', 0, 'image', 'b', 't/0.png', '0.png'
    ),
    (
        '00000000-0000-0000-0000-0000000000b3', current_setting('t.other')::uuid,
        '00000000-0000-0000-0000-0000000000b1', 1, 'video', 'b', 't/1.mp4', '1.mp4'
    );
    insert into public.videos (id, user_id, asset_id, file_path)
    values
    (
        '00000000-0000-0000-0000-0000000000a4', current_setting('t.owner')::uuid,
        '00000000-0000-0000-0000-0000000000a3',
        'o/1.mp4'
    ),
    (
        '00000000-0000-0000-0000-0000000000b4', current_setting('t.other')::uuid,
        '00000000-0000-0000-0000-0000000000b3',
        't/1.mp4'
    );
    update public.jobs set video_id = '00000000-0000-0000-0000-0000000000a4'
    where id = '00000000-0000-0000-0000-0000000000a1';
    update public.jobs set video_id = '00000000-0000-0000-0000-0000000000b4'
    where id = '00000000-0000-0000-0000-0000000000b1';
    perform set_config('t.bare', tests.create_auth_user('bare@example.com')::text, true);
end;
$$;
