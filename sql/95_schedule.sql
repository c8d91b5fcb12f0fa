-- With pg_cron (hosted Supabase), rescue expired leases every minute without any worker, and
-- purge one batch of old failed/cancelled jobs every five minutes. When pg_cron is enabled
-- after the migrations ran, the owner runs `select jobs_private.schedule_maintenance();`
-- (README, "Applying to a Supabase project"). Without it, workers call rescue_expired_jobs()
-- themselves (the worker client does).
do $$
begin
    if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform jobs_private.schedule_maintenance();
    end if;
end
$$;
