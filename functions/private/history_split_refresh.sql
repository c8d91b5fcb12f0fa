-- jobs_private.history_split from the catalog: `below` the hot leaf's lower bound; per sealed
-- partition, in id order, its lower bound and the bounds of its validated CHECK
-- jobs_sealed_times; `created_upto` the latest of them, null while any sealed partition has
-- none (sealed before 1.10.0 and not yet bounded: jobs_private.seal_bound_times). Run in the
-- transaction that changes the partitions (the seal's move, the retirement's detach), so a
-- read sees the row and the partitions agree. Answers the row. For the owner role.
create function jobs_private.history_split_refresh()
returns jobs_private.history_split
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row jobs_private.history_split;
begin
    with parts as (
        select
            coalesce((pg_catalog.regexp_match(
                pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]{36})''\)'
            ))[1]::uuid, '00000000-0000-0000-0000-000000000000'::uuid) as low,
            (pg_catalog.regexp_match(
                k.def, 'created_at <= ''([^'']+)''::timestamp with time zone'
            ))[1]::timestamptz as created_upto,
            (pg_catalog.regexp_match(
                k.def, 'completed_at <= ''([^'']+)''::timestamp with time zone'
            ))[1]::timestamptz as completed_upto
        from pg_catalog.pg_inherits as i
        inner join pg_catalog.pg_class as c on i.inhrelid = c.oid
        left join lateral (
            select pg_catalog.pg_get_constraintdef(n.oid) as def
            from pg_catalog.pg_constraint as n
            where n.conrelid = i.inhrelid and n.conname = 'jobs_sealed_times' and n.convalidated
        ) as k on true
        where i.inhparent = 'public.jobs'::pg_catalog.regclass
            and i.inhrelid <> 'jobs_private.jobs_hot'::pg_catalog.regclass
    )
    update jobs_private.history_split as s
    set below = b.below,
        created_upto = case when b.below is not null then b.created_upto end,
        sealed_lows = b.lows,
        sealed_completed_upto = b.completed
    from (
        select
            jobs_private.seal_low_bound() as below,
            case when pg_catalog.bool_and(p.created_upto is not null)
                then pg_catalog.max(p.created_upto) end as created_upto,
            coalesce(pg_catalog.array_agg(p.low order by p.low), '{}') as lows,
            coalesce(pg_catalog.array_agg(p.completed_upto order by p.low), '{}') as completed
        from parts as p
    ) as b
    where s.singleton
    returning s.* into v_row;
    return v_row;
end;
$$;
comment on function jobs_private.history_split_refresh() is
'Sets jobs_private.history_split from the catalog (the hot leaf''s lower bound; each sealed partition''s lower bound and validated CHECK jobs_sealed_times; the latest sealed created_at when every sealed partition has one) and answers it. For the owner role.';
revoke all on function jobs_private.history_split_refresh()
from public, anon, authenticated, service_role;
