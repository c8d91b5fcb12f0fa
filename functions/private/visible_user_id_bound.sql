-- RLS on the big tables is written as a range of owner ids, `user_id between lower and upper`,
-- not as `user_id = (select auth.uid()) or (select is_admin())`: an OR with a constant arm
-- cannot be an index condition, and PostgreSQL will not push a query's own
-- `user_id = auth.uid()` (an inlined, non-leakproof coalesce) below the policy, so the spec's
-- queries as written scanned the whole table. A user's range is their one id (an index range
-- scan of their rows); an admin's range is every id; no signed-in user gives null (no rows).
create function jobs_private.visible_user_id_bound(upper boolean)
returns uuid
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if jobs_private.is_admin() then
        return case when visible_user_id_bound.upper
            then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
            else '00000000-0000-0000-0000-000000000000'::uuid end;
    end if;
    return auth.uid();
end;
$$;
comment on function jobs_private.visible_user_id_bound(boolean) is
'Lower (upper = false) or upper bound of the owner ids the requesting user may read: their own id, or every id for an admin, null when not signed in. Used by the select policies of jobs, images_videos and videos.';
revoke all on function jobs_private.visible_user_id_bound(boolean)
from public, anon, authenticated, service_role;
grant execute on function jobs_private.visible_user_id_bound(boolean) to authenticated;
