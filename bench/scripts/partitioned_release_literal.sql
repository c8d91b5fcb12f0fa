-- Variant prelude for "Partitioned jobs against unpartitioned" (bench/README.md): put before the
-- step releases/jobsdb--1.2.0--1.3.0.sql of the branch that partitions public.jobs, to measure
-- that step against the unpartitioned table in one run. Applied by the owner to a copy of
-- bench_jobsdb (--variant). That step's guard takes a database at 1.2.0, but this checkout's
-- newest release is the open 1.3.0, whose only change from 1.2.0 is this literal: the copy says
-- 1.2.0 again, and the step then makes it 1.3.0 with the rest of its changes.
create or replace function jobs_private.installed_release()
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select '1.2.0'::text
$$;
