-- Where a user's newest jobs are: the reads that page them newest first (list_jobs,
-- library_items, workspace_groups) go through public.jobs, and a plan over the parent reads
-- the top of every partition's index (and, cached generic, locks every partition): 1-5 ms more
-- per call with 24 sealed weeks at 10 million jobs. Every job whose id is below `below` is
-- sealed, and sealed was made at or before `created_upto` (each sealed partition's CHECK
-- jobs_sealed_created says so, and created_at never changes). So a page read from ids at or
-- above `below` alone, whose last row was made after `created_upto`, is the whole answer: no
-- sealed job can rank above it. jobs_private.history_split_refresh keeps the row; null
-- columns (nothing sealed, or a partition sealed before its CHECK existed) mean the reads go
-- through every partition.
create table jobs_private.history_split (
    singleton boolean primary key default true check (singleton),
    below uuid,
    created_upto timestamptz
);
comment on table jobs_private.history_split is
'One row: every job with an id below `below` is sealed and was made at or before `created_upto` (null: unknown). Kept by jobs_private.history_split_refresh; read through jobs_api.history_split.';
insert into jobs_private.history_split default values;
revoke all on table jobs_private.history_split from public, anon, authenticated, service_role;
