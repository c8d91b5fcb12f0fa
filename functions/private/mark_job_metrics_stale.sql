-- Row trigger (after insert or update on jobs, only when its WHEN clause holds: a finished
-- job changed or a job inserted already finished; never on the queue's own transitions). Marks
-- the hours of its old and new completed_at stale for system_metrics' roll-up.
create function jobs_private.mark_job_metrics_stale()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    insert into jobs_private.job_metrics_stale (hour)
    select distinct pg_catalog.date_bin(interval '1 hour', c.completed_at, timestamptz '2000-01-01 00:00:00+00')
    from (
        select new.completed_at
        union all
        select old.completed_at where tg_op = 'UPDATE'
    ) as c (completed_at)
    where c.completed_at is not null;
    return null;
end;
$$;
comment on function jobs_private.mark_job_metrics_stale() is
'Trigger (after insert or update on jobs, per row, when a finished job changes or a finished job is inserted): marks the hours of its completed_at stale in jobs_private.job_metrics_stale.';
revoke all on function jobs_private.mark_job_metrics_stale()
from public, anon, authenticated, service_role;
