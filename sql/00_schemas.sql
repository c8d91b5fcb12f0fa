-- Schemas and roles the package relies on.
--
-- public        what PostgREST exposes: the tables clients read and the RPC functions.
-- jobs_private  internals (trigger functions, helpers, settings, the transition table).
--               PostgREST does not expose it and no client role may use it.
-- jobs_api      the privileged bodies of the user/admin RPCs, behind their public entry points.
-- jobs_worker   NOLOGIN role for GPU workers: DBAs grant it to their workers' login users.
--               It may execute the worker functions and nothing else; no BYPASSRLS.
-- jobs_doctor   NOLOGIN role for `jobsdb doctor`, the read-only health check: figures and
--               catalog facts only, never a job's content.

create schema if not exists jobs_private;
create schema if not exists jobs_api;
revoke all on schema jobs_private from public;
comment on schema jobs_private is
'jobsdb internals: not exposed by PostgREST, not usable by client roles.';
-- jobs_api holds only the privileged (security definer) bodies of the user/admin RPCs; their
-- public entry points are security invoker and call them (the pgmq_public -> pgmq pattern), so
-- Supabase's lints 0028/0029 find no security definer function in an exposed schema. PostgREST
-- does not expose jobs_api; the API roles may use it, and execute exactly the bodies whose
-- entry points they may call (grants in each function's file).
revoke all on schema jobs_api from public;
grant usage on schema jobs_api to authenticated, service_role;
comment on schema jobs_api is
'jobsdb: the privileged bodies of the public user/admin RPCs, called only through their security invoker entry points in public. Not exposed by PostgREST.';

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'jobs_worker') then
        create role jobs_worker nologin noinherit;
    end if;
end
$$;
comment on role jobs_worker is
'GPU workers of jobsdb: may execute the worker functions only (claim, heartbeat, callback, rescue).';

-- The owner (the migration role) acts as jobs_worker in tests and pg_cron jobs; PostgREST's
-- login role may switch to it when a worker calls through the API with a jobs_worker JWT.
grant jobs_worker to current_user;
do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        grant jobs_worker to authenticator;
    end if;
end
$$;
grant usage on schema public to jobs_worker;

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'jobs_doctor') then
        create role jobs_doctor nologin noinherit;
    end if;
end
$$;
comment on role jobs_doctor is
'jobsdb doctor: may read the package''s health (jobs_private.queue_health, maintenance_schedules, migration_history, the roll-up''s hours and the worker logins'' scopes) and nothing of a job''s content. DBAs grant it to a read-only login.';
-- The owner acts as jobs_doctor in tests.
grant jobs_doctor to current_user;
