-- For measurement only (bench/seal.py): history in the bench's jobs table before it is
-- partitioned, %(copies)s clones of each completed job with new ids whose counter is 0 (below
-- every id the package has made, so the history sits below the queue as a day's history
-- would), loaded the fast way as the superuser: no triggers or foreign-key checks (the clones
-- keep their originals' valid columns), the plain indexes dropped and rebuilt around the load.
set session_replication_role = replica;
set maintenance_work_mem = '512MB';
create temp table rebuild as
select i.indexdef from pg_catalog.pg_indexes as i
where
    i.schemaname = 'public' and i.tablename = 'jobs'
    and not exists (select from pg_catalog.pg_constraint as c where c.conname = i.indexname);
do $$
declare
    r record;
    v_cols text;
begin
    for r in
        select i.indexname from pg_catalog.pg_indexes as i
        where i.schemaname = 'public' and i.tablename = 'jobs'
            and not exists (select from pg_catalog.pg_constraint as c where c.conname = i.indexname)
    loop
        execute format('drop index public.%%I', r.indexname);
    end loop;
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into v_cols
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'public.jobs'::regclass and a.attnum > 0 and not a.attisdropped
        and a.attname <> 'id' and a.attgenerated = '';
    execute format(
        'insert into public.jobs (id, %%1$s) '
        'select (''000000000000'' || right(md5(g::text || j.id::text), 20))::uuid, %%2$s '
        'from public.jobs as j cross join generate_series(1, %(copies)s) as g '
        'where j.status = ''completed''',
        v_cols, (select string_agg('j.' || c, ', ') from unnest(string_to_array(v_cols, ', ')) as c)
    );
    for r in select b.indexdef from rebuild as b loop
        -- a partitioned table's index reads ON ONLY: built on its partitions too
        execute replace(r.indexdef, ' ON ONLY ', ' ON ');
    end loop;
end
$$;
analyze public.jobs;
