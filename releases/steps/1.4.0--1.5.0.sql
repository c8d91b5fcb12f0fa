-- jobsdb 1.4.0 -> 1.5.0: system_metrics answers a 31-day window about as fast as a day, with
-- the same exact figures. Its p50/p95 read every distinct run time of the window's rolled-up
-- hours (as many rows as completed jobs with real run times). The roll-up now also counts each
-- hour's and each whole UTC day's completed jobs per bucket of run time (a new table of bucket
-- bounds, jobs_private.job_metrics_run_bounds, and the counts, job_metrics_run_buckets), and
-- system_metrics finds the bucket each percentile falls in by counting, then reads that
-- bucket's exact values only. Callers see nothing new: the same answers, errors and rules for
-- every role.
--
-- The roll-up's three tables are emptied, not converted: the next run of
-- jobs_private.rollup_job_metrics (pg_cron, every five minutes) rolls up the last 31 days
-- again, and system_metrics is exact meanwhile (it reads from jobs what is not rolled up, only
-- slower). Nothing of the jobs table is touched.
truncate table jobs_private.job_metrics_hours, jobs_private.job_metrics_rollup,
jobs_private.job_metrics_run_seconds;
create table jobs_private.job_metrics_run_bounds (
    singleton boolean primary key default true
    constraint job_metrics_run_bounds_singleton_check check (singleton),
    from_seconds double precision[] not null
);
insert into jobs_private.job_metrics_run_bounds (from_seconds)
select array_agg(round(power(2::numeric, g.k / 256.0), 9)::double precision order by g.k)
from generate_series(-2560, 5632) as g (k)
on conflict do nothing;
-- the table was emptied above, in this transaction, which holds it exclusively until commit:
-- no row lacks the column, and building the index on no rows blocks no one
-- squawk-ignore adding-required-field
alter table jobs_private.job_metrics_run_seconds add column bucket integer not null;
-- squawk-ignore require-concurrent-index-creation
create index job_metrics_run_seconds_bucket_idx
on jobs_private.job_metrics_run_seconds (job_type, bucket, hour) include (run_seconds, jobs);
create table jobs_private.job_metrics_run_buckets (
    period timestamptz not null,
    hours smallint not null
    constraint job_metrics_run_buckets_hours_check check (hours in (1, 6, 24)),
    job_type text not null,
    width smallint not null
    constraint job_metrics_run_buckets_width_check check (width in (1, 32)),
    bucket integer not null,
    jobs bigint not null,
    primary key (hours, period, width, job_type, bucket) include (jobs)
)
with (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
-- the emptied roll-up: its key carries every figure, and it is vacuumed as it grows
alter table jobs_private.job_metrics_rollup drop constraint job_metrics_rollup_pkey;
-- emptied above in this transaction: the key is built on no rows
-- squawk-ignore adding-serial-primary-key-field, constraint-missing-not-valid
alter table jobs_private.job_metrics_rollup add constraint job_metrics_rollup_pkey
primary key (hour, job_type) include (
    completed, failed, cancelled, retried, run_count, run_sum, total_count, total_sum
);
alter table jobs_private.job_metrics_rollup
set (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
alter table jobs_private.job_metrics_run_seconds
set (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
revoke all on table jobs_private.job_metrics_run_bounds, jobs_private.job_metrics_run_buckets
from public, anon, authenticated, service_role;
-- jobsdb:apply sql/33_job_metrics_rollup.sql comments
-- jobsdb:apply functions/private/rollup_job_metrics.sql
-- jobsdb:apply functions/jobs_api/system_metrics.sql
