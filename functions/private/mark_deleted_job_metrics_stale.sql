-- Statement trigger (after delete on jobs, transition table): one marker per distinct hour
-- of the deleted finished jobs' completed_at (a retention batch marks a handful of hours).
create function jobs_private.mark_deleted_job_metrics_stale()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
-- @plpgsql_check_options: oldtable = gone
begin
    insert into jobs_private.job_metrics_stale (hour)
    select distinct pg_catalog.date_bin(interval '1 hour', g.completed_at, timestamptz '2000-01-01 00:00:00+00')
    from gone as g
    where g.completed_at is not null;
    return null;
end;
$$;
comment on function jobs_private.mark_deleted_job_metrics_stale() is
'Trigger (after delete on jobs, per statement): marks the hours of the deleted finished jobs'' completed_at stale in jobs_private.job_metrics_stale.';
revoke all on function jobs_private.mark_deleted_job_metrics_stale()
from public, anon, authenticated, service_role;
