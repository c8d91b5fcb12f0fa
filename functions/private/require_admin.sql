create function jobs_private.require_admin()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
begin
    if auth.role() = 'service_role' or current_user = 'service_role' then
        return v_uid;
    end if;
    if v_uid is null or not jobs_private.is_admin() then
        raise exception using
            errcode = '42501',
            message = 'only admins may do this',
            hint = 'Grant the user the admin role in public.user_roles.';
    end if;
    return v_uid;
end;
$$;
comment on function jobs_private.require_admin() is
'Raises 42501 unless the caller is an admin or the service role; returns the caller''s user id.';
revoke all on function jobs_private.require_admin() from public, anon, authenticated, service_role;
