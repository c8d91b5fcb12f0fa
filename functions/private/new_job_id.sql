-- Job ids that order by creation: 48 bits of a sequence, then 80 random bits. The claim breaks
-- ties of (priority, fair_rank) by id, so with these ids no claim order depends on a random
-- value (a 1x3 set is claimed in image_index order, equal ranks first come, first served), and
-- ids stay unguessable. A job id reveals how many jobs were created before it. queue_job inlines
-- the same expression; this is the default of jobs.id for direct inserts (service role).
create function jobs_private.new_job_id()
returns uuid
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return (
        pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.nextval('jobs_private.job_id_seq')), 12, '0')
        || pg_catalog.right(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20)
    )::uuid;
end;
$$;
comment on function jobs_private.new_job_id() is
'A new job id: a sequence number (12 hex digits) then 20 random hex digits, so ids order by creation.';
revoke all on function jobs_private.new_job_id() from public, anon, authenticated, service_role;
-- the default of jobs.id runs as the inserting role: the service role inserts jobs directly
grant execute on function jobs_private.new_job_id() to service_role;
