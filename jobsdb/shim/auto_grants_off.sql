-- A project with automatic grants switched off (JOBSDB_SHIM_AUTO_GRANTS=off).
alter default privileges for role postgres in schema public revoke all on tables
from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke all on sequences
from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke all on functions
from anon, authenticated, service_role;
