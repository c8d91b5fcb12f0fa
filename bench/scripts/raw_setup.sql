-- The raw baseline: a plain table, a partial index on queued rows, no triggers.
create table if not exists raw_jobs (
    id bigserial primary key,
    status text not null default 'queued',
    payload jsonb not null,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz,
    worker text
) with (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);
create index if not exists raw_jobs_queued_idx on raw_jobs (id) where status = 'queued';
truncate raw_jobs;
insert into raw_jobs (payload)
select jsonb_build_object('prompt', 'backlog job ' || g) from generate_series(1, %(n)s) as g;
