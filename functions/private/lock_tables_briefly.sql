-- Locks on the given tables in `mode` (access exclusive, or share row exclusive: what adding a
-- foreign key takes on the table it references) for the rest of the transaction, for DDL on
-- tables the hot path uses (the seal of job history; the detach and drop of a retired partition).
-- First every table in SHARE UPDATE EXCLUSIVE mode, waiting up to deadlock_timeout + 2 s: that
-- mode conflicts with no lock the queue takes (reading, writing, locking rows), only with
-- vacuum, analyze, index builds and DDL, so waiting for it stalls nobody; and a wait past
-- deadlock_timeout makes PostgreSQL cancel an autovacuum holding the table (one runs on the hot
-- leaf after every seal's delete, for minutes at scale, and brief tries alone never outwait
-- it). Held to the end, it keeps autovacuum from starting again meanwhile. Then `mode`, in
-- brief tries: a waiting request makes every later conflicting request on its table queue
-- behind it, so a long wait would stall the queue as much as holding the lock: a try waits at
-- most 20 ms for the first table (list the busiest first) and 5 ms for each other one, while it
-- holds those it got (a transaction holding a later table may be waiting behind the first one:
-- waiting long for it is waiting for nothing), then gives up and lets the queue behind it drain
-- (up to 100 ms) before the next try. Answers the number of tries it took; 55P03 when the first
-- step's wait or every try failed. Runs as the caller (the owner role): not for API roles.
create function jobs_private.lock_tables_briefly(tables regclass[], mode text, tries integer)
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_timeout text := pg_catalog.current_setting('lock_timeout');
    v_wait text := pg_catalog.format(
        '%sms', (
            pg_catalog.date_part(
                'epoch', pg_catalog.current_setting('deadlock_timeout')::interval
            ) * 1000 + 2000
        )::integer
    );
    v_table regclass;
begin
    if mode is null or mode not in ('access exclusive', 'share row exclusive') then
        raise exception using
            errcode = '22023', message = 'mode must be access exclusive or share row exclusive';
    end if;
    begin
        perform pg_catalog.set_config('lock_timeout', v_wait, true);
        foreach v_table in array tables loop
            execute pg_catalog.format('lock table %s in share update exclusive mode', v_table);
        end loop;
        perform pg_catalog.set_config('lock_timeout', v_timeout, true);
    exception when lock_not_available then
        raise exception using
            errcode = '55P03',
            message = pg_catalog.format(
                'could not lock %s in share update exclusive mode within %s', v_table, v_wait
            ),
            hint = 'A VACUUM, ANALYZE, index build or schema change holds it (an autovacuum is '
            'cancelled, unless it prevents wraparound); run it again when that is done.';
    end;
    for i in 1..tries loop
        begin
            perform pg_catalog.set_config('lock_timeout', '20ms', true);
            foreach v_table in array tables loop
                execute pg_catalog.format('lock table %s in %s mode', v_table, mode);
                perform pg_catalog.set_config('lock_timeout', '5ms', true);
            end loop;
            perform pg_catalog.set_config('lock_timeout', v_timeout, true);
            return i;
        exception when lock_not_available then
            perform pg_catalog.set_config('lock_timeout', v_timeout, true);
            perform pg_catalog.pg_sleep(0.1 * pg_catalog.random());
        end;
    end loop;
    raise exception using
        errcode = '55P03',
        message = pg_catalog.format(
            'could not lock %s in %s mode in %s brief tries', tables, mode, tries
        ),
        hint = 'Something holds these tables for long (a long query or transaction through '
        'public.jobs); run it again when that is done.';
end;
$$;
comment on function jobs_private.lock_tables_briefly(regclass[], text, integer) is
'Locks on the tables in share update exclusive mode (waiting up to deadlock_timeout + 2 s, which cancels an autovacuum and stalls no query), then in the mode (access exclusive or share row exclusive), in tries of at most 20 ms for the first table and 5 ms for each other one, with up to 100 ms between them, so that no waiting lock request stalls the queue; answers the tries taken, 55P03 when the first wait or all tries failed. For the owner role.';
revoke all on function jobs_private.lock_tables_briefly(regclass[], text, integer)
from public, anon, authenticated, service_role;
