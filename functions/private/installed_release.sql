-- The jobsdb release this database holds. The install of a release and every step into one
-- (re)create this function last, so it changes in the same transaction as the objects it
-- names. `jobsdb release build` refuses to build when this literal is not the newest release in
-- releases/ (docs/operators.md, "Making a release"). A database built from the migrations before
-- 1.0.0 has no such function.
create function jobs_private.installed_release()
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select '1.16.0'::text
$$;
comment on function jobs_private.installed_release() is
'The jobsdb release this database holds: `jobsdb migrate`, `jobsdb install` and `jobsdb doctor` read it to know which step applies next.';
revoke all on function jobs_private.installed_release()
from public, anon, authenticated, service_role;
-- jobsdb doctor compares it with the newest release the toolkit carries
grant execute on function jobs_private.installed_release() to jobs_doctor;
