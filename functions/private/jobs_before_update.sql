-- updated_at is now(), or one microsecond past the row's previous updated_at when now() is
-- not later. now() is the transaction's start, so a transaction that started first but wrote
-- the job last (it waited for the row lock) would otherwise move updated_at backwards. Strictly
-- increasing per job, it orders a job's broadcasts and job_changes_since rows: the larger is the
-- newer (the app client's watchJobs keeps the newest, and ignores a late or repeated message).
create function jobs_private.jobs_before_update()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if new.id is distinct from old.id
        or new.user_id is distinct from old.user_id
        or new.created_at is distinct from old.created_at
        or new.job_type is distinct from old.job_type then
        raise exception using
            errcode = 'PT400',
            message = 'jobs.id, user_id, created_at and job_type cannot be changed',
            detail = format('job %s', old.id);
    end if;
    if new.status is distinct from old.status then
        if not exists (
            select
            from jobs_private.job_status_transitions as t
            where t.from_status = old.status and t.to_status = new.status
        ) then
            raise exception using
                errcode = 'PT409',
                message = format('job status cannot change from %s to %s', old.status, new.status),
                detail = format('job %s', old.id),
                hint = 'The allowed transitions are in jobs_private.job_status_transitions (README: lifecycle).';
        end if;
        if new.status = 'processing' and new.started_at is not distinct from old.started_at then
            new.started_at := now();
        end if;
        if new.status in ('queued', 'processing') then
            new.completed_at := null;
        elsif new.completed_at is null then
            new.completed_at := greatest(now(), new.started_at);
        end if;
        if new.status <> 'processing' then
            new.locked_by := null;
            new.lease_expires_at := null;
        end if;
    end if;
    -- The deferred band of jobs_claim_idx (sql/20_jobs.sql): a job requeued or moved to wait
    -- for a later run_at (a retry's backoff) ranks by that time, past every claimable rank, so
    -- claims stop before it instead of walking it; a job already in the band follows its run_at.
    if new.status = 'queued'
        and (new.status is distinct from old.status or new.run_at is distinct from old.run_at)
        and (new.run_at > now() or new.fair_rank >= 4611686018427387904) then
        new.fair_rank := 4611686018427387904 + floor(extract(epoch from new.run_at) * 1000)::bigint;
    end if;
    new.updated_at := greatest(now(), old.updated_at + interval '1 microsecond');
    -- job_changes_since reads a user's rows by the writer's top-level transaction id.
    new.written_xid := pg_current_xact_id();
    return new;
end;
$$;
comment on function jobs_private.jobs_before_update() is
'Trigger: protects immutable columns (PT400), allows only the transitions of jobs_private.job_status_transitions (PT409, naming both states), maintains started_at, completed_at, the lease columns, the deferred band of fair_rank (a queued job waiting for a later run_at), updated_at (strictly increasing per job: now(), or just past its previous value) and written_xid (the writing transaction''s id).';
revoke all on function jobs_private.jobs_before_update()
from public, anon, authenticated, service_role;
