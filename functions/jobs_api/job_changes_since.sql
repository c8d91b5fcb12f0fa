-- The privileged body of public.job_changes_since (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- Security definer: it reads jobs_private's tombstones, which users cannot.
-- The reconcile read for (re)subscribing to job status broadcasts, which are not guaranteed to
-- arrive: "my jobs that changed since my last cursor", and the ones retention deleted.
--
-- The cursor is the reading statement's MVCC snapshot (pg_current_snapshot() as text). A job
-- is reported when the transaction that last wrote its row is not visible in the cursor's
-- snapshot: committed after it was taken, including a transaction that started earlier and
-- committed late (it was in progress in that snapshot), which a timestamp cursor would skip.
-- The writer is the row's written_xid: its top-level transaction id, set by default and by
-- trigger on every write. Not the row's xmin: under a savepoint that is a subtransaction's id,
-- which a snapshot's list of transactions in progress leaves out, so a job written under a
-- savepoint of a transaction open across the cursor looked committed before it. Every writer
-- the cursor does not see has an id from the snapshot's xmin on, so the rows to test are the
-- user's unfinished jobs (the cap on queued jobs and the workers' claims bound them) and the
-- range (user_id, written_xid >= xmin) of their ended ones in jobs_user_written_idx: the
-- user's recent writes, not their whole history. Rows written before 1.4.0 have none (null: never reported); the upgrade to it moved
-- the tombstone horizon past itself, so every older cursor answers reset once.
-- Any write of the row counts (a lease extension too): a job may be reported unchanged in
-- status, never missed. Tombstones of deleted jobs are kept 7 days: an older cursor, or more
-- than 500 changes, answers reset (reload the lists, keep the new cursor).
create function jobs_api.job_changes_since(cursor text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_uid uuid := auth.uid();
    v_now pg_snapshot := pg_current_snapshot();
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
    -- Shaped like one, it may still not be a snapshot (xmin after xmax, an in-progress id
    -- outside them or out of order, a zero id): 22023 as for any string it never answered.
    begin
        v_since := job_changes_since.cursor::pg_snapshot;
    exception
        when invalid_text_representation then
            raise exception using errcode = '22023',
                message = 'cursor is not a cursor job_changes_since answered',
                hint = 'Pass null to start, then the cursor of the previous answer.';
    end;
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
        -- unfinished: all of the user's (jobs_user_active_idx; queued ones are capped per user)
        select j.id, j.metadata, j.status, j.attempts, j.error_message, j.updated_at
        from public.jobs as j
        where j.user_id = v_uid and j.status in ('queued', 'processing')
            and not pg_visible_in_snapshot(j.written_xid, v_since)
        union all
        -- ended: those written from the snapshot's xmin on (jobs_user_written_idx)
        select j.id, j.metadata, j.status, j.attempts, j.error_message, j.updated_at
        from public.jobs as j
        where j.user_id = v_uid and j.status not in ('queued', 'processing')
            and j.written_xid is not null
            and j.written_xid >= pg_snapshot_xmin(v_since)
            and not pg_visible_in_snapshot(j.written_xid, v_since)
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
comment on function jobs_api.job_changes_since(text) is
'The privileged body of public.job_changes_since (reconcile read for Realtime): the signed-in user''s jobs written since cursor (committed after the cursor''s snapshot, in whatever order) and the ids of jobs deleted since. Answers {cursor, reset, changed: [{job_id, group_id, image_index, status, attempts, error_message, updated_at}], removed: [job_id]}. cursor null, older than the 7-day tombstones or more than 500 changes: reset true (reload, keep the new cursor). Errors: 42501 not signed in, 22023 not a cursor.';
revoke all on function jobs_api.job_changes_since(text)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.job_changes_since(text) to authenticated;
