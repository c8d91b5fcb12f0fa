-- Statement trigger (after delete on auth.users, transition table): the deleted users' ids into
-- jobs_private.forgotten_users. Security definer: it runs as whoever deletes the user (the Auth
-- service's supabase_auth_admin, the dashboard), who has no rights in jobs_private. It must
-- never fail a deletion: one insert, a repeated id ignored.
create function jobs_private.record_forgotten_users()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
-- @plpgsql_check_options: oldtable = gone
begin
    insert into jobs_private.forgotten_users (user_id)
    select g.id from gone as g
    on conflict (user_id) do nothing;
    return null;
end;
$$;
comment on function jobs_private.record_forgotten_users() is
'Trigger (after delete on auth.users, per statement): records the deleted users in jobs_private.forgotten_users, for `jobsdb history forget`.';
revoke all on function jobs_private.record_forgotten_users()
from public, anon, authenticated, service_role;
