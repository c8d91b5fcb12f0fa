-- A --variant for measurement only (bench/README.md): jobsdb's functions unchanged, with every
-- row rule taken off public.jobs: the row check and the row triggers that run on the lifecycle
-- (birth states and derived columns, transitions and updated_at, the claim floor, the metrics'
-- stale marks). Its rate is the most that moving the rules out of the table into the functions
-- could give, before the functions pay for them again. Never for a real database.
alter table public.jobs drop constraint jobs_row_check;
drop trigger jobs_before_insert_trg on public.jobs;
drop trigger jobs_before_update_trg on public.jobs;
drop trigger jobs_claim_floor_trg on public.jobs;
drop trigger jobs_metrics_stale_on_update_trg on public.jobs;
drop trigger jobs_metrics_stale_on_insert_trg on public.jobs;
