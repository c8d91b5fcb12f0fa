-- Every function of the package looks names up in pg_catalog first and in pg_temp last.
--
-- Why: `set search_path = ''` still searches pg_temp first for types and relations, and every
-- role may create objects there (TEMP is granted to PUBLIC, on Supabase too). A worker login
-- that planted a domain pg_temp.jsonb (or pg_temp.uuid, or a type pg_temp.record) whose CHECK
-- calls its own function had that function run as the owner inside claim_jobs, job_callback,
-- job_callbacks and release_jobs. The same held for every invoker or trigger function a
-- definer body reaches (they run with the definer's rights), and for the SQL functions without
-- a search_path of their own that such bodies call (auth.uid(): its ::jsonb and ::uuid are
-- resolved with the caller's path). With pg_catalog listed first and pg_temp listed last, a
-- name is found in pg_catalog before pg_temp; every other name the bodies use is
-- schema-qualified. Functions and operators are never looked up in pg_temp. Only the setting
-- changes: no body does.
-- (One ALTER FUNCTION ... SET per function, from a list: sqlfluff cannot parse a list value
-- in ALTER FUNCTION ... SET.)
do $$
declare
    v_function regprocedure;
begin
    foreach v_function in array array[
        'public.asset_info(uuid)',
        'public.cancel_job(uuid)',
        'public.claim_jobs(text, text, integer, integer)',
        'public.get_job(uuid)',
        'public.heartbeat_jobs(text, uuid[], uuid[], integer)',
        'public.job_callback(uuid, text, uuid, text, jsonb, jsonb, boolean)',
        'public.job_callbacks(jsonb)',
        'public.job_changes_since(text)',
        'public.library_items(timestamp with time zone, integer, uuid)',
        'public.list_jobs(text, timestamp with time zone, integer, uuid)',
        'public.purge_finished_jobs(interval, integer)',
        'public.queue_job(text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamp with time zone)',
        'public.release_jobs(text, uuid[], uuid[])',
        'public.rescue_expired_jobs(integer)',
        'public.rescue_is_scheduled()',
        'public.retry_job(uuid)',
        'public.review_job(uuid, text, text)',
        'public.system_metrics(interval)',
        'public.workspace_groups(timestamp with time zone, uuid, integer, uuid)',
        'jobs_api.cancel_job(uuid)',
        'jobs_api.job_changes_since(text)',
        'jobs_api.purge_finished_jobs(interval, integer)',
        'jobs_api.queue_job(text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamp with time zone)',
        'jobs_api.retry_job(uuid)',
        'jobs_api.review_job(uuid, text, text)',
        'jobs_api.system_metrics(interval)',
        'jobs_private.asset_json(public.images_videos, public.jobs)',
        'jobs_private.broadcast_job_status()',
        'jobs_private.enable_realtime_broadcast()',
        'jobs_private.is_admin()',
        'jobs_private.is_trusted_caller()',
        'jobs_private.job_group_json(uuid, boolean, public.jobs[])',
        'jobs_private.job_metrics_horizon()',
        'jobs_private.jobs_before_insert()',
        'jobs_private.jobs_before_update()',
        'jobs_private.jobs_lower_claim_floor()',
        'jobs_private.jobs_row_is_valid(public.jobs)',
        'jobs_private.json_number(jsonb, text)',
        'jobs_private.lease_digest(uuid)',
        'jobs_private.mark_deleted_job_metrics_stale()',
        'jobs_private.mark_job_metrics_stale()',
        'jobs_private.new_job_id()',
        'jobs_private.record_job_tombstones()',
        'jobs_private.require_admin()',
        'jobs_private.retry_delay(integer)',
        'jobs_private.rollup_job_metrics(boolean)',
        'jobs_private.schedule_maintenance()',
        'jobs_private.touch_updated_at()',
        'jobs_private.visible_user_id_bound(boolean)'
    ]::regprocedure [] loop
        execute format('alter function %s set search_path = pg_catalog, pg_temp', v_function);
    end loop;
end;
$$;
