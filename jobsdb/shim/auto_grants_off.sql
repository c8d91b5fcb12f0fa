-- A project with automatic grants switched off (JOBSDB_SHIM_AUTO_GRANTS=off), as the platform
-- leaves it (tests/supabase_facts/catalog.auto_expose_false.json): the API roles lose select,
-- insert, update and delete on new tables, select and usage on new sequences and execute on
-- new functions; what is not data access (references, trigger, truncate, sequence update)
-- stays granted.
alter default privileges for role postgres in schema public grant all on tables
to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences
to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions
to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke select, insert, update, delete
on tables from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke select, usage on sequences
from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke all on functions
from anon, authenticated, service_role;
