create function jobs_private.require_admin()
returns uuid
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_uid uuid := auth.uid();
begin
    if jobs_private.is_trusted_caller() then
        return v_uid;
    end if;
    if v_uid is null or not jobs_private.is_admin() then
        raise exception using
            errcode = '42501',
            message = 'only admins may do this',
            hint = 'An admin is a user with the admin role in public.user_roles.';
    end if;
    return v_uid;
end;
$$;
comment on function jobs_private.require_admin() is
'Raises 42501 unless the caller is an admin or a trusted caller (service role, owner, pg_cron); returns the caller''s user id.';
revoke all on function jobs_private.require_admin() from public, anon, authenticated, service_role;
grant execute on function jobs_private.require_admin() to authenticated, service_role;
