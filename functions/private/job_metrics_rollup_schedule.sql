-- The pg_cron schedule of system_metrics' roll-up (jobsdb-rollup-job-metrics) for a pg_cron
-- version: every 15 seconds where pg_cron has seconds schedules (1.5 and later: Supabase ships
-- 1.6), so that the partial minute it rolls up (jobs_private.job_metrics_partial) trails the
-- clock by at most 17 s; every minute before (Debian's 1.4.2), when a call of system_metrics
-- reads up to 62 s of jobs. An immutable function of the version, so that both branches are
-- tested on a server that has one pg_cron.
create function jobs_private.job_metrics_rollup_schedule(cron_version text)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select case
        when pg_catalog.string_to_array(
            pg_catalog.substring(cron_version, '^[0-9]+(?:[.][0-9]+)*'), '.'
        )::integer [] >= array[1, 5]
            then '15 seconds'
        else '* * * * *'
    end
$$;
comment on function jobs_private.job_metrics_rollup_schedule(text) is
'The pg_cron schedule of jobsdb-rollup-job-metrics for a pg_cron version (its extversion): 15 seconds from 1.5, every minute before.';
revoke all on function jobs_private.job_metrics_rollup_schedule(text)
from public, anon, authenticated, service_role;
