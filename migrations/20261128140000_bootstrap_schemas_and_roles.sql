-- Bootstrap: the private schema and the jobs_worker role that every later migration relies on.
-- Closed by default: jobs_private is usable by no client role; each later object revokes the
-- privileges Supabase grants automatically and grants exactly what it means to.

-- ===== sql/00_schemas.sql
-- Schemas and roles the package relies on.
--
-- public        what PostgREST exposes: the tables clients read and the RPC functions.
-- jobs_private  internals (trigger functions, helpers, settings, the transition table).
--               PostgREST does not expose it and no client role may use it.
-- jobs_worker   NOLOGIN role for GPU workers: DBAs grant it to their workers' login users.
--               It may execute the worker functions and nothing else; no BYPASSRLS.

create schema if not exists jobs_private;
revoke all on schema jobs_private from public;
comment on schema jobs_private is
'jobsdb internals: not exposed by PostgREST, not usable by client roles.';

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
