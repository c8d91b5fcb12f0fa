-- The role the request runs as, before any security definer function: PostgREST's SET ROLE
-- (anon, authenticated, service_role, jobs_worker), or the login role of a direct connection
-- (the owner running migrations or pg_cron). Trusted = has the service role's privileges.
create function jobs_private.is_trusted_caller()
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return (
        select pg_has_role(
            coalesce(nullif(current_setting('role'), 'none'), session_user), 'service_role', 'member'
        )
    );
end;
$$;
comment on function jobs_private.is_trusted_caller() is
'True for the service role and roles that have its privileges (the owner, pg_cron jobs it schedules), as the request''s role, not the security definer''s.';
revoke all on function jobs_private.is_trusted_caller()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.is_trusted_caller() to authenticated, service_role;
