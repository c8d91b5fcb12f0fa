-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.system_metrics, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.system_metrics.
create function public.system_metrics(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.system_metrics(system_metrics.time_window);
end;
$$;
comment on function public.system_metrics(interval) is
'Admins and the service role: queue depth per pool and status (ready and oldest age), leases (processing, expired, active workers), and per job type over time_window: completed/failed/cancelled, failure and retry rates, average/p50/p95 run time and average time from queue to done. Errors: 42501 not an admin, 22023 bad window.';
revoke all on function public.system_metrics(interval)
from public, anon, authenticated, service_role;
grant execute on function public.system_metrics(interval)
to authenticated, service_role;
