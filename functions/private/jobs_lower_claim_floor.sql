-- A job put back into a pool's fairly ranked band below the pool's claim floor (released by a
-- worker, retried by an admin, requeued without backoff, given a higher priority or a lower
-- rank) moves the floor back to it, so the next claim sees it at once. Fired after update only
-- when the job (re)enters that band (the trigger's WHEN clause, evaluated without calling this
-- function): claims and reports never fire it. Security definer: the updating role (e.g. the
-- service role with table access) has no privilege on jobs_private.claim_floors.
create function jobs_private.jobs_lower_claim_floor()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update jobs_private.claim_floors as f
    set neg_priority = -new.priority, fair_rank = new.fair_rank, id = new.id, updated_at = now()
    where f.worker_pool = new.worker_pool
        and (f.neg_priority, f.fair_rank, f.id) > (-new.priority, new.fair_rank, new.id);
    return null;
end;
$$;
comment on function jobs_private.jobs_lower_claim_floor() is
'Trigger: a job back in its pool''s fairly ranked band below the pool''s claim floor moves the floor back to it (jobs_private.claim_floors).';
revoke all on function jobs_private.jobs_lower_claim_floor()
from public, anon, authenticated, service_role;
