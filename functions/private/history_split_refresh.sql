-- jobs_private.history_split from the catalog: `below` the hot leaf's lower bound, and
-- `created_upto` the latest of the sealed partitions' validated CHECKs jobs_sealed_created,
-- null while any sealed partition has none (sealed before 1.10.0 and not yet bounded: see
-- jobs_private.seal_bound_created). Run in the transaction that changes the partitions (the
-- seal's move, the retirement's detach), so a read sees the row and the partitions agree.
-- Answers the row. For the owner role.
create function jobs_private.history_split_refresh()
returns jobs_private.history_split
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row jobs_private.history_split;
begin
    update jobs_private.history_split as s
    set below = b.below, created_upto = case when b.below is not null then b.upto end
    from (
        select
            jobs_private.seal_low_bound() as below,
            case when pg_catalog.bool_and(k.upto is not null) then pg_catalog.max(k.upto) end
                as upto
        from pg_catalog.pg_inherits as i
        left join lateral (
            select (pg_catalog.regexp_match(
                pg_catalog.pg_get_constraintdef(c.oid), '''([^'']+)''::timestamp with time zone'
            ))[1]::timestamptz as upto
            from pg_catalog.pg_constraint as c
            where c.conrelid = i.inhrelid and c.conname = 'jobs_sealed_created'
                and c.convalidated
        ) as k on true
        where i.inhparent = 'public.jobs'::pg_catalog.regclass
            and i.inhrelid <> 'jobs_private.jobs_hot'::pg_catalog.regclass
    ) as b
    where s.singleton
    returning s.* into v_row;
    return v_row;
end;
$$;
comment on function jobs_private.history_split_refresh() is
'Sets jobs_private.history_split from the catalog (the hot leaf''s lower bound; the latest sealed created_at when every sealed partition has a validated CHECK jobs_sealed_created) and answers it. For the owner role.';
revoke all on function jobs_private.history_split_refresh()
from public, anon, authenticated, service_role;
