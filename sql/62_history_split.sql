-- Where a user's newest jobs are, and where a time's finished jobs are. Reads through
-- public.jobs touch every partition: a plan over the parent reads the top of each one's index
-- (and, cached generic, locks every partition). With 24 sealed weeks at 10 million jobs, leaving
-- them out saved 0.1-0.9 ms of p95 per page of a user's newest jobs and 1.5-3 ms of
-- system_metrics (bench/README.md, "Reads that leave sealed history out"). Each sealed partition's CHECK jobs_sealed_times bounds its
-- created_at and completed_at (created_at never changes, and nothing inserts into sealed
-- history), so:
-- * every job whose id is below `below` is sealed, and sealed was made at or before
--   `created_upto`: a page of a user's newest jobs read from ids at or above `below` alone,
--   whose last row was made after `created_upto`, is the whole answer;
-- * the sealed partition starting at sealed_lows[i] holds no job finished after
--   sealed_completed_upto[i] (null: unknown): system_metrics reads a span of completion times
--   from the first partition that can hold one.
-- jobs_private.history_split_refresh keeps the row, from the catalog; null columns (nothing
-- sealed, or a partition sealed before its CHECK existed) mean the reads go through every
-- partition.
create table jobs_private.history_split (
    singleton boolean primary key default true check (singleton),
    below uuid,
    created_upto timestamptz,
    sealed_lows uuid[] not null default '{}',
    sealed_completed_upto timestamptz[] not null default '{}'
);
comment on table jobs_private.history_split is
'One row: every job with an id below `below` is sealed and was made at or before `created_upto` (null: unknown); the sealed partition from sealed_lows[i] up holds no job finished after sealed_completed_upto[i] (null: unknown). Kept by jobs_private.history_split_refresh; the users'' reads see below and created_upto through jobs_api.history_split.';
insert into jobs_private.history_split default values;
revoke all on table jobs_private.history_split from public, anon, authenticated, service_role;
