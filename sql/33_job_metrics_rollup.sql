-- system_metrics' roll-up of finished jobs per closed minute, hour, six hours and UTC day.
-- Written only by jobs_private.rollup_job_metrics (pg_cron, or the owner); no job ever writes
-- a shared row. A minute is the half-open [minute, minute + 1 min) of completed_at, an hour
-- [hour, hour + 1 h), binned in UTC (date_bin), so the buckets do not depend on the session's
-- TimeZone. Minutes are the unit a window's edges are read in: a window starts and ends inside
-- some hour, and reading those hours' jobs from jobs cost system_metrics about 10 us a job
-- (a second at 100,000 jobs an hour). Hours, six hours and days are sums of their minutes, so a
-- long window reads few rows.

-- The minutes rolled up: a minute listed here has its figures in job_metrics_rollup (minutes =
-- 1) and job_metrics_run_seconds (a minute with no finished job has none) unless
-- job_metrics_stale names its hour.
create table jobs_private.job_metrics_minutes (
    minute timestamptz primary key
)
with (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
comment on table jobs_private.job_metrics_minutes is
'system_metrics roll-up: the closed minutes (of completed_at, UTC) whose finished jobs are summed in job_metrics_rollup and listed in job_metrics_run_seconds. Written by rollup_job_metrics only.';

-- The hours whose 60 minutes are all rolled up: an hour listed here also has its own sums
-- (job_metrics_rollup, minutes = 60) and counts per bucket (job_metrics_run_buckets).
create table jobs_private.job_metrics_hours (
    hour timestamptz primary key,
    rolled_up_at timestamptz not null default now()
);
comment on table jobs_private.job_metrics_hours is
'system_metrics roll-up: the closed hours (of completed_at, UTC) all of whose minutes are rolled up, with their own sums in job_metrics_rollup and counts in job_metrics_run_buckets. Written by rollup_job_metrics only.';

-- Per minute (minutes = 1) and per hour (minutes = 60) and job type: the sums system_metrics
-- needs (counts per status, retried jobs, the completed jobs' run and queue-to-done seconds:
-- exact numeric sums and their counts); an hour's row is the sum of its minutes'. The key
-- carries every figure, so a window's hours or minutes are one index-only range scan. The
-- roll-up's tables are written a minute at a time and rarely updated: vacuumed after every few
-- thousand rows inserted (instead of 20% of the table), their pages stay all-visible and
-- system_metrics' index-only scans do not visit the heap.
create table jobs_private.job_metrics_rollup (
    period timestamptz not null,
    minutes smallint not null
    constraint job_metrics_rollup_minutes_check check (minutes in (1, 60)),
    job_type text not null,
    completed bigint not null,
    failed bigint not null,
    cancelled bigint not null,
    retried bigint not null,
    run_count bigint not null,
    run_sum numeric,
    total_count bigint not null,
    total_sum numeric,
    primary key (minutes, period, job_type) include (
        completed, failed, cancelled, retried, run_count, run_sum, total_count, total_sum
    )
)
with (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
comment on table jobs_private.job_metrics_rollup is
'system_metrics roll-up: per closed minute (minutes = 1) or hour (minutes = 60) and job type, finished jobs per status, jobs with more than one attempt, and count and exact sum of the completed jobs'' run and queue-to-done seconds.';

-- The buckets of run time system_metrics counts to find its percentiles: bucket b (1-based)
-- holds the run times from from_seconds[b] up to from_seconds[b + 1], 256 buckets an octave
-- (each about 0.27% wider than the one before) from about a millisecond (2^-10 s) to 48 days
-- (2^22 s); pg_catalog.width_bucket(run_seconds::float8, from_seconds) says which, 0 below the
-- first. Data, computed once in numeric arithmetic (as float8: width_bucket bisects a float8
-- array, and walks a numeric one element by element), so a bucket never depends on a float
-- library, and what makes the percentiles exact holds by construction: a larger run time is
-- never in a smaller bucket. One row, one array: a call reads it whole. 32 consecutive buckets
-- (bucket / 32, an eighth of an octave) make a coarse one.
create table jobs_private.job_metrics_run_bounds (
    singleton boolean primary key default true
    constraint job_metrics_run_bounds_singleton_check check (singleton),
    from_seconds double precision[] not null
);
insert into jobs_private.job_metrics_run_bounds (from_seconds)
select array_agg(round(power(2::numeric, g.k / 256.0), 9)::double precision order by g.k)
from generate_series(-2560, 5632) as g (k);
comment on table jobs_private.job_metrics_run_bounds is
'system_metrics roll-up: the lower bounds (seconds) of the buckets of run time, 256 an octave from 2^-10 to 2^22 s, in order, for width_bucket; fixed at install.';

-- Per minute and job type: the completed jobs' run seconds as (value, how many): the exact
-- distribution, so p50/p95 (percentile_cont) are computed exactly from the roll-up. As many
-- rows as distinct run times in the minute (at most one per completed job), so a month of them
-- is as many rows as a month of jobs: system_metrics never reads them all. It counts the
-- window's jobs per coarse bucket of run time (job_metrics_run_buckets) to find the one each
-- percentile falls in, then per bucket within that one (these rows, by their key, for the few
-- minutes at a window's edges outside whole ten minutes), then reads the exact values of that
-- bucket only, through job_metrics_run_seconds_bucket_idx.
create table jobs_private.job_metrics_run_seconds (
    minute timestamptz not null,
    job_type text not null,
    run_seconds numeric not null,
    jobs bigint not null,
    -- its bucket (job_metrics_run_bounds)
    bucket integer not null,
    -- the bucket is run_seconds' own: in the key so that a minute's rows of one job type in
    -- one coarse bucket are one index range
    primary key (minute, job_type, bucket, run_seconds) include (jobs)
)
with (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
create index job_metrics_run_seconds_bucket_idx
on jobs_private.job_metrics_run_seconds (job_type, bucket, minute) include (run_seconds, jobs);
comment on table jobs_private.job_metrics_run_seconds is
'system_metrics roll-up: per closed minute and job type, each distinct run time (completed_at - started_at, seconds) of the completed jobs, how many had it and its bucket (job_metrics_run_bounds), for exact percentiles.';

-- How many completed jobs per bucket of run time (width 1: a bucket of job_metrics_run_bounds;
-- width 32: a coarse bucket, bucket / 32), per ten minutes (minutes = 10, from :00, :10, ...),
-- per hour (60), per six hours (360, from 00, 06, 12 and 18 UTC) and per UTC day (1440), each
-- the sum of its minutes'; per minute (1) the coarse counts only (a few dozen rows a minute at
-- most: the spread of a job type's run times), for the minutes at a window's edges. A block's rows exist exactly while all its minutes are rolled up
-- (rollup_job_metrics keeps it so), so a 31-day window counts about 30 days of rows and a few
-- blocks at its two edges, not 44,640 minutes of them; and it counts the coarse buckets of a
-- job type's spread of run times (a few dozen), then the buckets of the one coarse bucket a
-- percentile falls in. The key leads with what a call asks for: a period's coarse rows, or a
-- job type's buckets within one coarse bucket.
create table jobs_private.job_metrics_run_buckets (
    period timestamptz not null,
    minutes smallint not null
    constraint job_metrics_run_buckets_minutes_check check (minutes in (1, 10, 60, 360, 1440)),
    job_type text not null,
    width smallint not null
    constraint job_metrics_run_buckets_width_check check (width in (1, 32)),
    bucket integer not null,
    jobs bigint not null,
    primary key (minutes, period, width, job_type, bucket) include (jobs),
    constraint job_metrics_run_buckets_coarse_minutes_check check (minutes > 1 or width = 32)
)
with (autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
comment on table jobs_private.job_metrics_run_buckets is
'system_metrics roll-up: completed jobs per bucket of run time (width 1: job_metrics_run_bounds; width 32: bucket / 32), per ten minutes, hour, six hours and UTC day (minutes = 10, 60, 360, 1440) whose minutes are all rolled up, and per rolled-up minute (minutes = 1, width 32 only), to find the bucket each percentile falls in.';

-- Hours whose rolled-up figures a later change made stale: a finished job changed (retry_job
-- requeues a failed one), deleted (retention, account deletion) or inserted already finished
-- (a restore). Insert-only, one row per change (no shared row; no upsert: a marker committed
-- after rollup_job_metrics read the markers must survive it). system_metrics reads a marked
-- hour from jobs; rollup_job_metrics recomputes it and deletes the markers it saw.
create table jobs_private.job_metrics_stale (
    id bigint generated always as identity primary key,
    hour timestamptz not null,
    marked_at timestamptz not null default now()
);
create index job_metrics_stale_hour_idx on jobs_private.job_metrics_stale (hour);
comment on table jobs_private.job_metrics_stale is
'system_metrics roll-up: hours made stale by a change to a finished job (update, delete, insert); read live until rollup_job_metrics recomputes them.';

-- The minute not closed yet whose first part a run rolled up: [minute, upto), upto being the
-- horizon the run reached (job_metrics_horizon). Its sums, run times and coarse counts are in
-- job_metrics_rollup, job_metrics_run_seconds and job_metrics_run_buckets (minutes = 1), as a
-- closed minute's, and every run deletes and writes them again until the minute closes (then it
-- is in job_metrics_minutes instead). Without it, a call read every job finished since the last
-- closed minute from jobs: up to 62 s of them, 31,000 at 500 jobs a second. With a run every 15
-- seconds (pg_cron 1.5's seconds schedules) it reads up to 17 s. A partial minute is never part
-- of a whole ten minutes, hour or day (those count job_metrics_minutes only).
create table jobs_private.job_metrics_partial (
    minute timestamptz primary key,
    upto timestamptz not null,
    constraint job_metrics_partial_upto_check
    check (upto > minute and upto < minute + interval '1 minute')
);
comment on table jobs_private.job_metrics_partial is
'system_metrics roll-up: a minute not closed yet whose jobs finished in [minute, upto) are rolled up like a closed minute''s (minutes = 1 rows); rewritten by each run until the minute closes. Written by rollup_job_metrics only.';

revoke all on table jobs_private.job_metrics_minutes, jobs_private.job_metrics_hours,
jobs_private.job_metrics_partial, jobs_private.job_metrics_rollup,
jobs_private.job_metrics_run_bounds, jobs_private.job_metrics_run_seconds,
jobs_private.job_metrics_run_buckets, jobs_private.job_metrics_stale
from public, anon, authenticated, service_role;

-- How far minutes may be closed, proven from pg_locks (readable by every role, unlike other
-- roles' rows of pg_stat_activity): the virtual transaction ids open at taken_at; once none
-- of them is open any more, no transaction that started before taken_at can still write.
-- One row, written only by rollup_job_metrics (under its advisory lock).
create table jobs_private.job_metrics_horizon (
    singleton boolean primary key default true
    constraint job_metrics_horizon_singleton_check check (singleton),
    closed_through timestamptz,
    taken_at timestamptz,
    open_xacts text[]
);
insert into jobs_private.job_metrics_horizon default values;
comment on table jobs_private.job_metrics_horizon is
'system_metrics roll-up: closed_through, before which no completed_at can still be written, and the transactions (virtual ids) open at taken_at that must end before taken_at becomes the next closed_through.';
revoke all on table jobs_private.job_metrics_horizon from public, anon, authenticated, service_role;
-- jobsdb doctor measures the roll-up's lag: minutes, hours and stale markers hold no job's
-- content.
grant select on table jobs_private.job_metrics_minutes, jobs_private.job_metrics_hours,
jobs_private.job_metrics_stale to jobs_doctor;
