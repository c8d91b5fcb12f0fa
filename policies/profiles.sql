-- profiles and user_roles. A user creates and edits their own profile (display columns only);
-- roles are server-set: users may read their own, only the service role writes them.

-- jobsdb:unless-app-table public.profiles
alter table public.profiles enable row level security;
revoke all on table public.profiles from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.profiles to authenticated;
grant insert (id, username, display_name, avatar_url) on table public.profiles to authenticated;
grant update (username, display_name, avatar_url) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

create policy "Users can view their own profile and admins all profiles"
on public.profiles for select to authenticated
using ((select auth.uid()) = id or (select jobs_private.is_admin()));

create policy "Users can create their own profile"
on public.profiles for insert to authenticated
with check ((select auth.uid()) = id);

create policy "Users can update their own profile"
on public.profiles for update to authenticated
using ((select auth.uid()) = id)
with check ((select auth.uid()) = id);
-- jobsdb:end

-- jobsdb:unless-app-table public.user_roles
alter table public.user_roles enable row level security;
revoke all on table public.user_roles from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.user_roles to authenticated;
grant select, insert, update, delete on table public.user_roles to service_role;

create policy "Users can view their own roles"
on public.user_roles for select to authenticated
using ((select auth.uid()) = user_id);
-- jobsdb:end
