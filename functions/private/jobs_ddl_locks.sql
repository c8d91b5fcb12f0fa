-- The tables a change of public.jobs' partitions (the seal's move, the retirement's detach)
-- locks, busiest first, for jobs_private.lock_tables_briefly: the hot leaf, jobs, `also` (the
-- seal's copy; null for none), jobs' other partitions, the tables referencing jobs (their keys
-- are dropped and added back) and those jobs references (attaching or detaching a partition
-- adds or drops its own keys' triggers on them). Taking them all in the timed tries leaves no
-- untimed wait behind the queue, which could deadlock with it. For the owner role.
create function jobs_private.jobs_ddl_locks(also regclass)
returns regclass[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.array_agg(t.r order by t.o)
    from (
        select 'jobs_private.jobs_hot'::pg_catalog.regclass as r, 0 as o
        union all
        select 'public.jobs'::pg_catalog.regclass, 1
        union all
        select also, 2 where also is not null
        union all
        select i.inhrelid::pg_catalog.regclass, 3 from pg_catalog.pg_inherits as i
        where
            i.inhparent = 'public.jobs'::pg_catalog.regclass
            and i.inhrelid <> 'jobs_private.jobs_hot'::pg_catalog.regclass
        union all
        select distinct c.conrelid::pg_catalog.regclass, 4 from pg_catalog.pg_constraint as c
        where
            c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0
        union all
        select distinct c.confrelid::pg_catalog.regclass, 5 from pg_catalog.pg_constraint as c
        where c.conrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
    ) as t;
$$;
comment on function jobs_private.jobs_ddl_locks(regclass) is
'The tables a change of jobs'' partitions locks, busiest first: the hot leaf, jobs, also, the other partitions, the tables referencing jobs and those jobs references. For the owner role (the seal, the retirement).';
revoke all on function jobs_private.jobs_ddl_locks(regclass)
from public, anon, authenticated, service_role;
