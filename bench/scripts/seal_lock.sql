-- For measurement only (bench/seal.py): the hot leaf and public.jobs locked in ACCESS
-- EXCLUSIVE mode for the rest of the transaction, waiting at most 20 ms a try. A waiting
-- ACCESS EXCLUSIVE request makes every later request on the table queue behind it, so a long
-- wait would stall the hot path as much as holding the lock: give up, let the queue behind
-- the try drain (up to 100 ms), and try again.
do $$
begin
    perform pg_catalog.set_config('lock_timeout', '20ms', true);
    for i in 1..200 loop
        begin
            lock table jobs_private.jobs_hot, public.jobs in access exclusive mode;
            raise notice 'tries: %%', i;
            return;
        exception when lock_not_available then
            perform pg_catalog.pg_sleep(0.1 * random());
        end;
    end loop;
    raise exception 'no lock on jobs_private.jobs_hot in 200 tries';
end
$$;
