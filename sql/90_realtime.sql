-- useJobStatus subscribes to postgres_changes on jobs: the table must be in the
-- supabase_realtime publication; RLS (the select policy) decides which rows each subscriber
-- receives. Old values are not needed, so the default replica identity (primary key) stays.
alter publication supabase_realtime add table public.jobs;
