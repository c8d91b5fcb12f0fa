-- With pg_cron (hosted Supabase), rescue expired leases every minute without any worker, and
-- purge one batch of old failed/cancelled jobs every five minutes.
-- Without it, workers call rescue_expired_jobs() themselves (the worker client does).
do $$
begin
    if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform cron.schedule(
            'jobsdb-rescue-expired-jobs', '* * * * *', 'select public.rescue_expired_jobs()'
        );
        perform cron.schedule(
            'jobsdb-purge-finished-jobs', '*/5 * * * *', 'select public.purge_finished_jobs()'
        );
    end if;
end
$$;
