-- For measurement only (bench/seal.py), step 1 of sealing a period of history out of the hot
-- leaf (variant_partitioned.sql): a copy of the leaf's ids [%(low)s, %(cut)s) in a table of
-- its own, not yet a partition (nothing sees it), with the primary key and every index of
-- the leaf (the reads' indexes; the queue's partial ones come out empty: no finished job is in
-- them) and its range as a CHECK, so that attaching it reads nothing. Takes no lock the hot path
-- waits for.
create table jobs_private.jobs_sealed (like jobs_private.jobs_hot including defaults);
insert into jobs_private.jobs_sealed
select * from jobs_private.jobs_hot as h
where h.id >= '%(low)s' and h.id < '%(cut)s';
alter table jobs_private.jobs_sealed add primary key (id);
do $$
declare
    r record;
begin
    for r in
        select pg_catalog.pg_get_indexdef(i.indexrelid) as def, c.relname
        from pg_catalog.pg_index as i
        join pg_catalog.pg_class as c on c.oid = i.indexrelid
        where i.indrelid = 'jobs_private.jobs_hot'::regclass and not i.indisprimary
    loop
        execute replace(
            replace(r.def, 'ON jobs_private.jobs_hot', 'ON jobs_private.jobs_sealed'),
            'INDEX ' || r.relname, 'INDEX ' || r.relname || '_sealed'
        );
    end loop;
end
$$;
alter table jobs_private.jobs_sealed add constraint jobs_sealed_range
check (id >= '%(low)s' and id < '%(cut)s');
-- vacuumed now, so that no autovacuum of the fresh table holds a lock on it when it is attached
vacuum (analyze) jobs_private.jobs_sealed;
