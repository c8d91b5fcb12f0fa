-- Refuses a seal (55000) while a publication carries the rows of public.jobs: the parent
-- (publish_via_partition_root) or any of its partitions, however they came in (a table named,
-- FOR TABLES IN SCHEMA, FOR ALL TABLES: pg_publication_tables lists each). The seal moves
-- finished jobs out of the hot leaf by deleting them there, and the copy they move into was
-- filled before it became a partition, so a subscriber (Supabase's replication to BigQuery,
-- Realtime's Postgres Changes) would see the move as deletes and never see those rows again.
-- Retirement detaches whole partitions, which a publication carries as no row change, and is
-- not refused. Called by seal_prepare, before anything is copied, and by seal_move, before
-- anything is deleted (a publication made while a seal was under way). For the owner role.
create function jobs_private.seal_check_publications()
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_pubs text;
begin
    select pg_catalog.string_agg(distinct p.pubname::text, ', ' order by p.pubname::text)
    into v_pubs
    from pg_catalog.pg_publication_tables as p
    inner join pg_catalog.pg_namespace as n on p.schemaname = n.nspname
    inner join pg_catalog.pg_class as c on n.oid = c.relnamespace and p.tablename = c.relname
    where c.oid = 'public.jobs'::pg_catalog.regclass
        or c.oid in (
            select i.inhrelid from pg_catalog.pg_inherits as i
            where i.inhparent = 'public.jobs'::pg_catalog.regclass
        );
    if v_pubs is not null then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format(
                'public.jobs is published (%s): a subscriber would see the seal''s move as '
                'deletes and lose the sealed jobs', v_pubs
            ),
            hint = 'A project replicating jobs keeps its history in the replica and does not '
            'seal; or take jobs out of the publication first (docs/operators.md, "Sealing '
            'history").';
    end if;
end;
$$;
comment on function jobs_private.seal_check_publications() is
'Refuses a seal (55000) while a publication carries the rows of public.jobs (the parent or a partition): a subscriber would see its move as deletes. For the owner role.';
revoke all on function jobs_private.seal_check_publications()
from public, anon, authenticated, service_role;
