-- Fired only when the new row leaves the function something to do: to refuse its status, to
-- fill a derived column from job_types, to stamp completed_at, to rank a job born waiting in the
-- deferred band, to add the group id, or to correct a written_xid the insert named (the
-- column's default is right). The WHEN clause is evaluated without calling the function (no
-- call of a function with a SET clause), and queue_job's rows, which carry every one of those
-- values, never fire it; a direct insert that omits any of them does.
create trigger jobs_before_insert_trg
before insert on public.jobs
for each row
when (
    new.status is distinct from 'queued'
    or new.worker_pool is null or new.format is null or new.quality is null
    or new.model_type is null
    or new.run_at > now()
    or new.metadata ->> 'job_id' is null
    or new.written_xid is distinct from pg_current_xact_id()
)
execute function jobs_private.jobs_before_insert();

create trigger jobs_before_update_trg
before update on public.jobs
for each row execute function jobs_private.jobs_before_update();

-- A queued job (re)entering its pool's fairly ranked band (2^62 and above is the deferred band)
-- may sit below the pool's claim floor: move the floor back. Claims and reports never match.
create trigger jobs_claim_floor_trg
after update on public.jobs
for each row
when (
    new.status = 'queued' and new.fair_rank < 4611686018427387904
    and (
        old.status <> 'queued' or old.fair_rank <> new.fair_rank
        or old.priority <> new.priority or old.worker_pool <> new.worker_pool
    )
)
execute function jobs_private.jobs_lower_claim_floor();

-- jobsdb:unless-app-table public.profiles
create trigger profiles_touch_updated_at_trg
before update on public.profiles
for each row execute function jobs_private.touch_updated_at();
-- jobsdb:end
