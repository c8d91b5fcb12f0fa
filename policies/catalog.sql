-- projects (owned by users), job_types and api_models (catalogues every user may read),
-- prompt_tests (admins only).

-- jobsdb:unless-app-table public.projects
alter table public.projects enable row level security;
revoke all on table public.projects from public, anon, authenticated, service_role, jobs_worker;
grant select, delete on table public.projects to authenticated;
grant insert (user_id, name), update (name) on table public.projects to authenticated;
grant select, insert, update, delete on table public.projects to service_role;

create policy "Users can view their own projects"
on public.projects for select to authenticated
using ((select auth.uid()) = user_id);

create policy "Users can create their own projects"
on public.projects for insert to authenticated
with check ((select auth.uid()) = user_id);

create policy "Users can rename their own projects"
on public.projects for update to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

create policy "Users can delete their own projects"
on public.projects for delete to authenticated
using ((select auth.uid()) = user_id);
-- jobsdb:end

alter table public.job_types enable row level security;
revoke all on table public.job_types from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.job_types to authenticated;
grant select, insert, update, delete on table public.job_types to service_role;

create policy "Signed-in users can view job types"
on public.job_types for select to authenticated
using (true);

-- jobsdb:unless-app-table public.api_models
alter table public.api_models enable row level security;
revoke all on table public.api_models from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.api_models to authenticated;
grant select, insert, update, delete on table public.api_models to service_role;

create policy "Signed-in users can view api models"
on public.api_models for select to authenticated
using (true);
-- jobsdb:end

-- jobsdb:unless-app-table public.prompt_tests
alter table public.prompt_tests enable row level security;
revoke all on table public.prompt_tests from public, anon, authenticated, service_role, jobs_worker;
grant select, insert, update, delete on table public.prompt_tests to authenticated;
grant select, insert, update, delete on table public.prompt_tests to service_role;

create policy "Admins can view prompt tests"
on public.prompt_tests for select to authenticated
using ((select jobs_private.is_admin()));

create policy "Admins can create prompt tests"
on public.prompt_tests for insert to authenticated
with check ((select jobs_private.is_admin()));

create policy "Admins can update prompt tests"
on public.prompt_tests for update to authenticated
using ((select jobs_private.is_admin()))
with check ((select jobs_private.is_admin()));

create policy "Admins can delete prompt tests"
on public.prompt_tests for delete to authenticated
using ((select jobs_private.is_admin()));
-- jobsdb:end
