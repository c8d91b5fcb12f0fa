-- What rollup_job_metrics deletes, as spans [since, upto) of periods: for each stale hour, the
-- block of block_minutes (an hour, six hours, a day) that holds it, or the hour itself for
-- blocks shorter than an hour (minutes, ten minutes: all of the hour's go); and everything before
-- drop_before. A span per row, so that each delete is an index range per span.
create function jobs_private.job_metrics_spans(
    stale_hours timestamptz[], drop_before timestamptz, block_minutes smallint
)
returns table (since timestamptz, upto timestamptz)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select b.since, b.since + pg_catalog.make_interval(mins => greatest(block_minutes, 60))
    from (
        select distinct pg_catalog.date_bin(
            pg_catalog.make_interval(mins => greatest(block_minutes, 60)), s.hour,
            timestamptz '2000-01-01 00:00:00+00'
        ) as since
        from pg_catalog.unnest(stale_hours) as s (hour)
    ) as b
    union all
    select '-infinity'::timestamptz, drop_before
$$;
comment on function jobs_private.job_metrics_spans(timestamptz[], timestamptz, smallint) is
'system_metrics roll-up (called by rollup_job_metrics): the spans of periods a run deletes: the blocks of block_minutes holding the stale hours, and all before drop_before.';
revoke all on function jobs_private.job_metrics_spans(timestamptz[], timestamptz, smallint)
from public, anon, authenticated, service_role;
