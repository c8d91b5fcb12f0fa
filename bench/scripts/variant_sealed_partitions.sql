-- Variant for "The hot path beside sealed history" (bench/README.md): public.jobs as a seal
-- leaves it, with 24 sealed partitions below the hot leaf instead of none. Only their number can
-- reach the hot path (the queue's functions name the leaf; the keys into jobs, checked on every
-- output row, and every read of the parent plan over all partitions), so they are empty, in the
-- id space no job id takes (below sequence number 1: ids are a 12-hex-digit sequence number
-- then random digits), and the bench's jobs stay in the leaf. Made by DDL as the owner: the
-- seal's own move needs replica mode, which the bench's owner role lacks.
do $$
declare
    v_bound text;
    v_keys text [] := '{}'::text [];
    r record;
begin
    -- PostgreSQL refuses to detach a partition whose rows another table references
    for r in
        select c.conname, c.conrelid::regclass::text as tab, pg_get_constraintdef(c.oid) as def
        from pg_constraint as c
        where c.confrelid = 'public.jobs'::regclass and c.contype = 'f' and c.conparentid = 0
    loop
        execute format('alter table %s drop constraint %I', r.tab, r.conname);
        v_keys := v_keys || format('alter table %s add constraint %I %s', r.tab, r.conname, r.def);
    end loop;
    alter table public.jobs detach partition jobs_private.jobs_hot;
    execute format(
        'alter table public.jobs attach partition jobs_private.jobs_hot'
        ' for values from (%L) to (maxvalue)', '00000000-0000-0018-0000-000000000000'
    );
    for i in 1..24 loop
        v_bound := format('00000000-0000-%s-0000-000000000000', lpad(to_hex(i), 4, '0'));
        execute format(
            'create table jobs_private.jobs_upto_%s partition of public.jobs'
            ' for values from (%s) to (%L)',
            lpad(i::text, 2, '0'),
            case when i = 1 then 'minvalue' else quote_literal(
                format('00000000-0000-%s-0000-000000000000', lpad(to_hex(i - 1), 4, '0'))
            ) end,
            v_bound
        );
        execute format('revoke all on jobs_private.jobs_upto_%s from public, anon, authenticated,'
            ' service_role', lpad(i::text, 2, '0'));
    end loop;
    for i in 1..coalesce(array_length(v_keys, 1), 0) loop
        execute v_keys[i];
    end loop;
end
$$;
analyze public.jobs;
