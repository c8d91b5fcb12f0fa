-- A job is born queued. Only roles with INSERT on jobs (the service role and the owner) can
-- insert directly, and they may also insert a job already completed (the app copies library
-- items into a workspace that way). Derived columns default from job_types.
create function jobs_private.jobs_before_insert()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_type public.job_types;
begin
    if new.status not in ('queued', 'completed') then
        raise exception using
            errcode = 'PT409',
            message = format('a job cannot be created as %s', new.status),
            hint = 'Jobs are created queued (or completed, by the service role, when copying outputs).';
    end if;
    if new.worker_pool is null or new.format is null or new.quality is null or new.model_type is null then
        select * into v_type from public.job_types as t where t.job_type = new.job_type;
        if found then
            new.worker_pool := coalesce(new.worker_pool, v_type.worker_pool);
            new.format := coalesce(new.format, v_type.format);
            new.quality := coalesce(new.quality, v_type.quality);
            new.model_type := coalesce(new.model_type, v_type.model_type);
        end if;
    end if;
    if new.status = 'completed' then
        new.completed_at := coalesce(new.completed_at, now());
    end if;
    -- A job born waiting for a later run_at (run_after) is in the deferred band of
    -- jobs_claim_idx (sql/20_jobs.sql), ranked by that time.
    if new.status = 'queued' and new.run_at > now() then
        new.fair_rank := 4611686018427387904 + floor(extract(epoch from new.run_at) * 1000)::bigint;
    end if;
    if new.metadata ->> 'job_id' is null then
        new.metadata := new.metadata || jsonb_build_object('job_id', new.id);
    end if;
    -- The column's default, unless the insert named another value (job_changes_since trusts it).
    new.written_xid := pg_current_xact_id();
    return new;
end;
$$;
comment on function jobs_private.jobs_before_insert() is
'Trigger: enforces the birth states (queued, or completed for the service role), fills derived columns from job_types, the deferred band of fair_rank (born waiting for a later run_at), the group id metadata.job_id and written_xid (the inserting transaction''s id, whatever the insert named).';
revoke all on function jobs_private.jobs_before_insert()
from public, anon, authenticated, service_role;
