-- Keyset pages: one row more than asked is read, so the last page is known when it is served:
-- its `next` is null (and an empty page's too). `next` is the created_at and id of the page's
-- last item; following it never starts over.
-- Sealed history first left out, as in list_jobs: the page is read from the hot leaf's ids
-- (jobs_api.history_split) and is the answer when all v_n + 1 rows were there and the last was
-- made after every sealed job; otherwise it is read again from every partition.
create function public.library_items(
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    c_every constant uuid := '00000000-0000-0000-0000-000000000000'::uuid;
    v_n integer := least(greatest(coalesce(library_items.max_rows, 50), 1), 200);
    v_below uuid;
    v_upto timestamptz;
    v_from uuid;
    v_doc jsonb;
    v_whole boolean;
begin
    select s.below, s.created_upto into v_below, v_upto from jobs_api.history_split() as s;
    v_from := case when v_upto is not null then coalesce(v_below, c_every) else c_every end;
    loop
        with page as (
            -- each job's assets are read once, here: a job without any is not an item
            select j, a.assets, row_number() over (order by j.created_at desc, j.id desc) as pos
            from public.jobs as j
            cross join lateral (
                -- jobs_private.asset_json's object, written out: a call of it per asset ran an
                -- expression of its own per asset (a page of 50 has 50 or more); keys, order and
                -- values stay asset_json's (tests/py/test_reads_unchanged.py compares them).
                -- An array of jsonb, not jsonb_agg: jsonb_agg rebuilds each element it takes
                -- (three passes over it) and the item's jsonb_build_object would read the
                -- result once more; the array's elements are read once, into the item.
                select array_agg(jsonb_build_object(
                    'asset_id', iv.id, 'job_id', j.id, 'asset_index', iv.asset_index,
                    'type', iv.asset_type, 'bucket', iv.bucket, 'file_path', iv.file_path,
                    'file_name', iv.file_name, 'thumbnail_path', iv.thumbnail_path,
                    'job_type', j.job_type, 'model_type', j.model_type, 'quality', j.quality,
                    'format', j.format, 'created_at', iv.created_at,
                    'metadata', (j.metadata - 'job_id') || iv.metadata || jsonb_strip_nulls(jsonb_build_object(
                        'job_id', j.metadata -> 'job_id', 'model_type', j.model_type,
                        'quality', j.quality, 'enhancement_strategy', j.enhancement_strategy,
                        'enhanced_prompt', j.enhanced_prompt, 'original_prompt', j.original_prompt,
                        'template_name', j.template_name
                    ))
                ) order by iv.asset_index) as assets
                from public.images_videos as iv
                where iv.job_id = j.id
            ) as a
            where j.user_id = (select auth.uid())
                and j.id >= v_from
                and j.status = 'completed'
                and (
                    library_items.before is null
                    or j.created_at <= library_items.before
                    and (j.created_at < library_items.before or j.id < library_items.before_id)
                )
                and a.assets is not null
            order by j.created_at desc, j.id desc
            limit v_n + 1
        )
        -- The items as an array of jsonb too (the reason above): the answer's ~100 kB are
        -- written into the final object once, not through an aggregate that copies them
        -- first. Measured at 1,000,000 jobs (bench/README.md): about a quarter less time.
        -- No item: '{}', the empty array of jsonb, written [] as before.
        select jsonb_build_object(
            'items', coalesce(array_agg(jsonb_build_object(
                'job_id', (p.j).id, 'job_type', (p.j).job_type, 'created_at', (p.j).created_at,
                'completed_at', (p.j).completed_at, 'prompt', (p.j).metadata -> 'prompt',
                'assets', p.assets
            ) order by p.pos) filter (where p.pos <= v_n), '{}'),
            'next', case when max(p.pos) > v_n then jsonb_build_object(
                'before', (array_agg((p.j).created_at) filter (where p.pos = v_n))[1],
                'before_id', (array_agg((p.j).id) filter (where p.pos = v_n))[1]
            ) end
        ),
        -- all v_n + 1 rows, the last made after every sealed job
        pg_catalog.count(*) > v_n and pg_catalog.min((p.j).created_at) > v_upto
        into v_doc, v_whole
        from page as p;
        exit when v_from = c_every or v_whole;
        v_from := c_every;
    end loop;
    return v_doc;
end;
$$;
comment on function public.library_items(timestamptz, integer, uuid) is
'The Library page: the signed-in user''s completed jobs that have outputs, newest first, with their assets. Keyset pagination: pass next.before and next.before_id of the previous page; next is null on the last page.';
revoke all on function public.library_items(timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.library_items(timestamptz, integer, uuid) to authenticated;
