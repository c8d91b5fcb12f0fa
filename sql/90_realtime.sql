-- Realtime, two ways (README, "Using it from an app"):
-- Postgres Changes: jobs is in the supabase_realtime publication; the SELECT policy decides
-- which rows each subscriber receives (filter on user_id). Old values are not needed, so the
-- default replica identity (primary key) stays.
alter publication supabase_realtime add table public.jobs;
-- Broadcast: status changes to the private topic jobs:<user id>, where Supabase Realtime's
-- objects exist (otherwise a notice; the owner runs this again once they do).
select jobs_private.enable_realtime_broadcast();
