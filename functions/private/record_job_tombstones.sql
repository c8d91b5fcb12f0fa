-- Statement trigger (after delete, transition table): one insert per retention batch, and the
-- week-old tombstones dropped (bounded), remembering the newest dropped transaction id.
create function jobs_private.record_job_tombstones()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
-- @plpgsql_check_options: oldtable = gone
begin
    insert into jobs_private.job_tombstones (job_id, user_id)
    select g.id, g.user_id from gone as g
    on conflict (job_id) do nothing;
    with purged as (
        delete from jobs_private.job_tombstones as t
        where t.job_id in (
            select o.job_id from jobs_private.job_tombstones as o
            where o.deleted_at < now() - interval '7 days'
            order by o.deleted_at
            limit 10000
        )
        returning t.deleted_xid
    )
    update jobs_private.job_tombstone_horizon as h
    set purged_through = greatest(h.purged_through, m.newest)
    from (select max(p.deleted_xid) as newest from purged as p) as m
    where h.singleton and m.newest is not null;
    return null;
end;
$$;
comment on function jobs_private.record_job_tombstones() is
'Trigger (after delete on jobs, per statement): records the deleted jobs for job_changes_since and drops tombstones older than 7 days.';
revoke all on function jobs_private.record_job_tombstones()
from public, anon, authenticated, service_role;
