-- A --variant epilogue for measurement only (bench/README.md, "A hot leaf"): after
-- variant_partitioned.sql, every function of the package that names public.jobs names the
-- newest partition, jobs_private.jobs_hot, instead: the hot path's statements then touch one
-- plain table and its indexes, as before the partitioning, whatever the number of older
-- partitions. (A real design would have to keep every job the hot path can meet in that one
-- partition; this measures only what the statements cost.) Re-created from their own
-- definitions, so owner, grants, SET clauses and security stay as they were.
do $$
declare
    r record;
begin
    for r in
        select p.oid from pg_catalog.pg_proc as p
        join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
        where n.nspname in ('public', 'jobs_api', 'jobs_private') and p.prokind = 'f'
            and p.prosrc ~ 'public\.jobs\M'
    loop
        execute regexp_replace(
            pg_catalog.pg_get_functiondef(r.oid), 'public\.jobs\M', 'jobs_private.jobs_hot', 'g'
        );
    end loop;
end
$$;
