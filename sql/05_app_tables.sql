-- Tables of the spec that a project may already have. Most Supabase apps have their own
-- public.profiles (often filled by a handle_new_user trigger on auth.users) and many their own
-- projects. jobsdb creates each of profiles, user_roles, projects, api_models, prompt_tests,
-- images_videos and videos only where the project has none; a table the project had is listed
-- here when jobsdb is installed, and jobsdb then leaves its columns, comments, triggers, row
-- level security, grants and policies to the project: it only references it (and writes its
-- outputs into images_videos and videos). jobs_private.app_table_problems says what such a
-- table needs; sql/06_app_tables_check.sql checks it at install time.
create table jobs_private.app_tables (
    table_name text primary key
    constraint app_tables_table_name_check check (
        table_name in (
            'public.profiles', 'public.user_roles', 'public.projects', 'public.api_models',
            'public.prompt_tests', 'public.images_videos', 'public.videos'
        )
    ),
    adopted_at timestamptz not null default now()
);
comment on table jobs_private.app_tables is
'Tables of the spec the project had before jobsdb was installed: jobsdb references them and writes its outputs there, and leaves their columns, triggers, row level security, grants and policies to the project.';
revoke all on table jobs_private.app_tables from public, anon, authenticated, service_role;
-- jobsdb doctor judges jobsdb's tables, not these (names only, no job content)
grant select on table jobs_private.app_tables to jobs_doctor;
