-- Realtime: status changes are broadcast to the private topic jobs:<user id>, where Supabase
-- Realtime's objects exist (otherwise a notice; the owner runs this again once they do).
-- jobs is not in the supabase_realtime publication: Postgres Changes reads each change under
-- the name of the partition that holds the row (jobs_private.jobs_hot), never under
-- public.jobs, so a subscription to public.jobs would receive nothing (docs/app.md).
select jobs_private.enable_realtime_broadcast();
