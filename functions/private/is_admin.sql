-- Security definer: it reads public.user_roles whatever the caller's own rows there say, and is
-- called from RLS policies, where the caller cannot read other rows.
create function jobs_private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return (
        select exists (
            select
            from public.user_roles as r
            where r.user_id = (select auth.uid()) and r.role = 'admin'
        )
    );
end;
$$;
comment on function jobs_private.is_admin() is
'True when the requesting user (auth.uid()) has the admin role in public.user_roles.';
revoke all on function jobs_private.is_admin() from public, anon, authenticated, service_role;
grant usage on schema jobs_private to authenticated, service_role;
grant execute on function jobs_private.is_admin() to authenticated, service_role;
