-- jobsdb 1.16.0 -> 1.15.0: the way back, as a forward migration.
--
-- 1.15.0's roll-up, system_metrics and schedule_maintenance, and the roll-up every minute;
-- then the partial minute's rows go with its table (1.15.0 would take them for a closed
-- minute's), and jobs_private.job_metrics_rollup_schedule, which only 1.16.0 called.
-- jobsdb:apply functions/private/rollup_job_metrics.sql from 1.15.0
-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.15.0
-- jobsdb:apply functions/admin/schedule_maintenance.sql from 1.15.0
do $$
begin
    if exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        execute format(
            'select %I.alter_job(j.jobid, schedule => $2) from %I.job as j'
            ' where j.jobname = $1 and j.username = current_user',
            'cron', 'cron'
        ) using 'jobsdb-rollup-job-metrics', '* * * * *';
    end if;
end;
$$;
delete from jobs_private.job_metrics_rollup as r
using jobs_private.job_metrics_partial as p
where r.minutes = 1 and r.period = p.minute;
delete from jobs_private.job_metrics_run_seconds as r
using jobs_private.job_metrics_partial as p
where r.minute = p.minute;
delete from jobs_private.job_metrics_run_buckets as b
using jobs_private.job_metrics_partial as p
where b.minutes = 1 and b.period = p.minute;
-- squawk-ignore ban-drop-table
drop table jobs_private.job_metrics_partial;
-- squawk-ignore ban-drop-function
drop function jobs_private.job_metrics_rollup_schedule(text);
