-- Idempotent, run by the migration and again by the owner whenever Supabase Realtime's own
-- objects (realtime.messages, realtime.send, created by the Realtime service's migrations) arrive
-- after the package's: `select jobs_private.enable_realtime_broadcast();`. Without them it
-- changes nothing and answers false; the package works without Realtime.
create function jobs_private.enable_realtime_broadcast()
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if to_regclass('realtime.messages') is null
        or to_regprocedure('realtime.send(jsonb, text, text, boolean)') is null then
        raise notice 'Supabase Realtime (realtime.messages, realtime.send) is not installed: '
            'job status broadcasts stay off; run this again once it is';
        return false;
    end if;
    -- A user may join (read) only their own topic; nobody may send on it but the database.
    if not exists (
        select from pg_catalog.pg_policies as p
        where p.schemaname = 'realtime' and p.tablename = 'messages'
            and p.policyname = 'jobsdb: users receive their own job status broadcasts'
    ) then
        create policy "jobsdb: users receive their own job status broadcasts"
        on realtime.messages
        for select
        to authenticated
        using (
            realtime.messages.extension = 'broadcast'
            and realtime.messages.topic = 'jobs:' || (select auth.uid())::text
        );
    end if;
    if not exists (
        select from pg_catalog.pg_trigger as t
        where t.tgrelid = 'public.jobs'::regclass and t.tgname = 'jobs_status_broadcast_trg'
    ) then
        create trigger jobs_status_broadcast_trg
        after update of status on public.jobs
        for each row
        when (old.status is distinct from new.status)
        execute function jobs_private.broadcast_job_status();
    end if;
    return true;
end;
$$;
comment on function jobs_private.enable_realtime_broadcast() is
'Owner: turn on job status broadcasts (the realtime.messages policy and the jobs trigger) once Supabase Realtime''s objects exist. Idempotent; false (and nothing changed) without them.';
revoke all on function jobs_private.enable_realtime_broadcast()
from public, anon, authenticated, service_role;
