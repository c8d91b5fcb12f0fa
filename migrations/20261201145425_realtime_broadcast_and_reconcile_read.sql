-- Realtime Broadcast of job status changes (where Supabase Realtime is installed) and the
-- reconcile read job_changes_since with its tombstones of deleted jobs.

-- The reconcile read's memory of deleted jobs (retention): one row per deleted job, kept for
-- a week; the newest purged deletion is remembered so an older cursor is told to reload.
create table jobs_private.job_tombstones (
    job_id uuid primary key,
    user_id uuid not null,
    deleted_xid xid8 not null default pg_current_xact_id(),
    deleted_at timestamptz not null default now()
);
create index job_tombstones_user_idx on jobs_private.job_tombstones (user_id, deleted_at);
create index job_tombstones_deleted_at_idx on jobs_private.job_tombstones (deleted_at);
comment on table jobs_private.job_tombstones is
'Jobs deleted (by retention) in the last 7 days, for job_changes_since: a client whose cursor predates a deletion learns the job is gone.';

create table jobs_private.job_tombstone_horizon (
    singleton boolean primary key default true
    constraint job_tombstone_horizon_singleton_check check (singleton),
    purged_through xid8 not null default '0'
);
insert into jobs_private.job_tombstone_horizon default values;
comment on table jobs_private.job_tombstone_horizon is
'The newest transaction id among purged tombstones: a cursor whose snapshot does not see it as finished must reload (job_changes_since answers reset).';

revoke all on jobs_private.job_tombstones, jobs_private.job_tombstone_horizon
from public, anon, authenticated, service_role;

-- Statement trigger (after delete, transition table): one insert per retention batch, and the
-- week-old tombstones dropped (bounded), remembering the newest dropped transaction id.
create function jobs_private.record_job_tombstones()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
-- @plpgsql_check_options: oldtable = gone
begin
    insert into jobs_private.job_tombstones (job_id, user_id)
    select g.id, g.user_id from gone as g
    on conflict (job_id) do nothing;
    with purged as (
        delete from jobs_private.job_tombstones as t
        where t.job_id in (
            select o.job_id from jobs_private.job_tombstones as o
            where o.deleted_at < now() - interval '7 days'
            order by o.deleted_at
            limit 10000
        )
        returning t.deleted_xid
    )
    update jobs_private.job_tombstone_horizon as h
    set purged_through = greatest(h.purged_through, m.newest)
    from (select max(p.deleted_xid) as newest from purged as p) as m
    where h.singleton and m.newest is not null;
    return null;
end;
$$;
comment on function jobs_private.record_job_tombstones() is
'Trigger (after delete on jobs, per statement): records the deleted jobs for job_changes_since and drops tombstones older than 7 days.';
revoke all on function jobs_private.record_job_tombstones()
from public, anon, authenticated, service_role;

-- The Realtime Broadcast of a job's status change, to the owner's private topic jobs:<user id>.
-- Attached (by enable_realtime_broadcast) only where Supabase Realtime's realtime.send exists,
-- as an AFTER UPDATE OF status trigger WHEN the status changed: one statement per change.
-- The payload is what a status view needs and nothing else (no lease token, worker or prompt).
-- Security definer: the status may change under any role; the message is written as the owner.
-- realtime.send never raises (it turns its own errors into a WARNING): a broadcast can be
-- lost, never the status change; job_changes_since is the client's way to catch up.
create function jobs_private.broadcast_job_status()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform realtime.send(
        jsonb_build_object(
            'job_id', new.id,
            'group_id', new.metadata -> 'job_id',
            'image_index', new.metadata -> 'image_index',
            'status', new.status,
            'previous_status', old.status,
            'attempts', new.attempts,
            'error_message', new.error_message,
            'updated_at', new.updated_at
        ),
        'job_status',
        'jobs:' || new.user_id::text,
        true
    );
    return null;
end;
$$;
comment on function jobs_private.broadcast_job_status() is
'Trigger (after update of status on jobs, when it changed): realtime.send of {job_id, group_id, image_index, status, previous_status, attempts, error_message, updated_at} as event job_status on the private topic jobs:<user_id>.';
revoke all on function jobs_private.broadcast_job_status()
from public, anon, authenticated, service_role;

-- Idempotent, run by the migration and again by the owner whenever Supabase Realtime's own
-- objects (realtime.messages, realtime.send, created by the Realtime service's migrations) arrive
-- after the package's: `select jobs_private.enable_realtime_broadcast();`. Without them it
-- changes nothing and answers false; the package works without Realtime.
create function jobs_private.enable_realtime_broadcast()
returns boolean
language plpgsql
set search_path = ''
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

-- Deleted jobs are remembered for job_changes_since (one insert per deleting statement).
create trigger jobs_record_tombstones_trg
after delete on public.jobs
referencing old table as gone
for each statement execute function jobs_private.record_job_tombstones();

-- The reconcile read for (re)subscribing to job status broadcasts, which are not guaranteed to
-- arrive: "my jobs that changed since my last cursor", and the ones retention deleted.
--
-- The cursor is the reading statement's MVCC snapshot (pg_current_snapshot() as text). A job
-- is reported when the transaction that last wrote its row is not visible in the cursor's
-- snapshot: committed after it was taken, including a transaction that started earlier and
-- committed late (it was in progress in that snapshot), which a timestamp cursor would skip.
-- The row's xmin (32 bits) is widened to 64 bits against the current snapshot's epoch.
-- Any write of the row counts (a lease extension too): a job may be reported unchanged in
-- status, never missed. Tombstones of deleted jobs are kept 7 days: an older cursor, or more
-- than 500 changes, answers reset (reload the lists, keep the new cursor).
create function public.job_changes_since(cursor text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_now pg_snapshot := pg_current_snapshot();
    v_top bigint := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
    v_since pg_snapshot;
    v_changed jsonb;
    v_count integer;
    v_removed jsonb;
begin
    if v_uid is null then
        raise exception using errcode = '42501',
            message = 'job_changes_since needs a signed-in user';
    end if;
    if job_changes_since.cursor is null then
        return jsonb_build_object('cursor', v_now::text, 'reset', true,
            'changed', '[]'::jsonb, 'removed', '[]'::jsonb);
    end if;
    if job_changes_since.cursor !~ '^[0-9]{1,20}:[0-9]{1,20}:([0-9]{1,20}(,[0-9]{1,20})*)?$' then
        raise exception using errcode = '22023',
            message = 'cursor is not a cursor job_changes_since answered',
            hint = 'Pass null to start, then the cursor of the previous answer.';
    end if;
    v_since := job_changes_since.cursor::pg_snapshot;
    if pg_snapshot_xmax(v_since) > pg_snapshot_xmax(v_now) then
        raise exception using errcode = '22023', message = 'cursor is from the future';
    end if;
    if pg_snapshot_xmin(v_since) <= (
        select h.purged_through from jobs_private.job_tombstone_horizon as h
    ) then
        return jsonb_build_object('cursor', v_now::text, 'reset', true,
            'changed', '[]'::jsonb, 'removed', '[]'::jsonb);
    end if;

    select count(*), jsonb_agg(jsonb_build_object(
        'job_id', c.id, 'group_id', c.metadata -> 'job_id',
        'image_index', c.metadata -> 'image_index', 'status', c.status,
        'attempts', c.attempts, 'error_message', c.error_message, 'updated_at', c.updated_at
    ) order by c.updated_at, c.id)
    into v_count, v_changed
    from (
        select j.id, j.metadata, j.status, j.attempts, j.error_message, j.updated_at
        from public.jobs as j
        where j.user_id = v_uid
            and not pg_visible_in_snapshot(
                ((case
                    when j.xmin::text::bigint > (v_top & 4294967295) then (v_top >> 32) - 1
                    else v_top >> 32
                end << 32) | j.xmin::text::bigint)::text::xid8,
                v_since
            )
        limit 501
    ) as c;
    if v_count > 500 then
        return jsonb_build_object('cursor', v_now::text, 'reset', true,
            'changed', '[]'::jsonb, 'removed', '[]'::jsonb);
    end if;

    select coalesce(jsonb_agg(t.job_id order by t.deleted_at, t.job_id), '[]')
    into v_removed
    from jobs_private.job_tombstones as t
    where t.user_id = v_uid and not pg_visible_in_snapshot(t.deleted_xid, v_since);

    return jsonb_build_object('cursor', v_now::text, 'reset', false,
        'changed', coalesce(v_changed, '[]'::jsonb), 'removed', v_removed);
end;
$$;
comment on function public.job_changes_since(text) is
'Reconcile read for Realtime: the signed-in user''s jobs written since cursor (committed after the cursor''s snapshot, in whatever order) and the ids of jobs deleted since. Answers {cursor, reset, changed: [{job_id, group_id, image_index, status, attempts, error_message, updated_at}], removed: [job_id]}. cursor null, older than the 7-day tombstones or more than 500 changes: reset true (reload, keep the new cursor). Errors: 42501 not signed in, 22023 not a cursor.';
revoke all on function public.job_changes_since(text)
from public, anon, authenticated, service_role;
grant execute on function public.job_changes_since(text) to authenticated;

select jobs_private.enable_realtime_broadcast();
