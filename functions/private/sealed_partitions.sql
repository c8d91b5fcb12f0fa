-- The sealed partitions of public.jobs, by name (so oldest first: the name carries the cut):
-- jobs_private.jobs_upto_* attached to jobs and not being detached. The hot leaf never is one,
-- and neither is a seal's copy before its move or a retired partition (renamed
-- jobs_retired_*). What a sealed partition is, is said here alone, for the seal and
-- retirement.
create function jobs_private.sealed_partitions()
returns setof regclass
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select i.inhrelid::pg_catalog.regclass
    from pg_catalog.pg_inherits as i
    inner join pg_catalog.pg_class as c on i.inhrelid = c.oid
    where i.inhparent = 'public.jobs'::pg_catalog.regclass
        and c.relnamespace = 'jobs_private'::pg_catalog.regnamespace
        and c.relname like 'jobs\_upto\_%' and not i.inhdetachpending
    order by c.relname
$$;
comment on function jobs_private.sealed_partitions() is
'The sealed partitions of public.jobs (jobs_private.jobs_upto_*, attached, not being detached), by name. For the owner role.';
revoke all on function jobs_private.sealed_partitions()
from public, anon, authenticated, service_role;
