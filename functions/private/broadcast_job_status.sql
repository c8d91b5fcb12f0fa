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
set search_path = pg_catalog, pg_temp
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
