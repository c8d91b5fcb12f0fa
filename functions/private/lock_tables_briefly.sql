-- Locks on the given tables in `mode` (access exclusive, or share row exclusive: what adding a
-- foreign key takes on the table it references) for the rest of the transaction, for DDL on
-- tables the hot path uses (the seal of job history). A waiting request makes every later
-- conflicting request on its table queue behind it, so a long wait would stall the queue as
-- much as holding the lock: a try waits at most 20 ms for the first table (list the busiest
-- first) and 5 ms for each other one, while it holds those it got (a transaction holding a
-- later table may be waiting behind the first one: waiting long for it is waiting for
-- nothing), then gives up and lets the queue behind it drain (up to 100 ms) before the next
-- try. Answers the number of tries it took; 55P03 when every try failed. Runs as the caller
-- (the owner role): not for API roles.
create function jobs_private.lock_tables_briefly(tables regclass[], mode text, tries integer)
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_timeout text := pg_catalog.current_setting('lock_timeout');
    v_table regclass;
begin
    if mode is null or mode not in ('access exclusive', 'share row exclusive') then
        raise exception using
            errcode = '22023', message = 'mode must be access exclusive or share row exclusive';
    end if;
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
'Locks on the tables in the mode (access exclusive or share row exclusive), in tries of at most 20 ms for the first table and 5 ms for each other one, with up to 100 ms between them, so that no waiting lock request stalls the queue; answers the tries taken, 55P03 when all failed. For the owner role.';
revoke all on function jobs_private.lock_tables_briefly(regclass[], text, integer)
from public, anon, authenticated, service_role;
