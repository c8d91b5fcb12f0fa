-- A --variant for measurement only (bench/README.md, "A hot leaf"): jobs_row_check written
-- with a row constructor of the table's columns instead of the whole-row reference, the form
-- a partitioned jobs needs (a whole-row reference in a parent's CHECK cannot be cloned to its
-- partitions). Same function, same rules; what it costs the lifecycle is the row built for
-- every check.
do $$
declare
    v_cols text;
begin
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into v_cols
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'public.jobs'::regclass and a.attnum > 0 and not a.attisdropped;
    alter table public.jobs drop constraint jobs_row_check;
    execute format(
        'alter table public.jobs add constraint jobs_row_check'
        ' check (jobs_private.jobs_row_is_valid(row(%s)::public.jobs))', v_cols);
end
$$;
