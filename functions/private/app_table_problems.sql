-- What jobsdb needs of a table of the spec that the project had before jobsdb was installed
-- (jobs_private.app_tables): the few columns its functions and foreign keys use, the key its
-- foreign keys reference, and, where jobsdb writes rows, no other NOT NULL column without a
-- default. One line per problem, empty when the tables will do. The install stops on the first
-- problem it finds this way (sql/05_app_tables.sql); `jobsdb doctor` can call it any time, e.g.
-- after the project changed one of its tables. Read-only, and reads only the catalog.
create function jobs_private.app_table_problems()
returns setof text
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    with needed (table_name, column_name, type_name, is_key) as (
        values
        ('public.profiles', 'id', 'uuid', true),
        ('public.user_roles', 'user_id', 'uuid', false),
        ('public.user_roles', 'role', 'text', false),
        ('public.projects', 'id', 'uuid', true),
        ('public.projects', 'user_id', 'uuid', false),
        ('public.api_models', 'id', 'uuid', true),
        ('public.api_models', 'is_active', 'boolean', false),
        ('public.prompt_tests', 'id', 'uuid', true),
        ('public.images_videos', 'id', 'uuid', true),
        ('public.images_videos', 'user_id', 'uuid', false),
        ('public.images_videos', 'job_id', 'uuid', false),
        ('public.images_videos', 'asset_index', 'integer', false),
        ('public.images_videos', 'asset_type', 'text', false),
        ('public.images_videos', 'bucket', 'text', false),
        ('public.images_videos', 'file_path', 'text', false),
        ('public.images_videos', 'file_name', 'text', false),
        ('public.images_videos', 'thumbnail_path', 'text', false),
        ('public.images_videos', 'metadata', 'jsonb', false),
        ('public.images_videos', 'created_at', 'timestamp with time zone', false),
        ('public.videos', 'id', 'uuid', true),
        ('public.videos', 'user_id', 'uuid', false),
        ('public.videos', 'asset_id', 'uuid', false),
        ('public.videos', 'file_path', 'text', false),
        ('public.videos', 'thumbnail_path', 'text', false)
    ),

    -- the tables jobsdb writes rows into, with the columns it fills
    written (table_name) as (
        values ('public.images_videos'), ('public.videos')
    ),

    adopted as (
        select a.table_name, pg_catalog.to_regclass(a.table_name) as rel
        from jobs_private.app_tables as a
    ),

    problems (table_name, ord, problem) as (
        -- a column missing, or of another type (user_roles.role may be text, varchar or an enum
        -- with the label admin: is_admin compares it with 'admin')
        select n.table_name, 1, pg_catalog.format('has no column %s %s', n.column_name, n.type_name)
        from needed as n
        inner join adopted as a on a.table_name = n.table_name
        left join pg_catalog.pg_attribute as c
            on c.attrelid = a.rel and c.attname = n.column_name and c.attnum > 0
            and not c.attisdropped
        where a.rel is not null and (
            c.attname is null
            or (
                pg_catalog.format_type(c.atttypid, null) <> n.type_name
                and not (
                    n.table_name = 'public.user_roles' and n.column_name = 'role'
                    and (
                        pg_catalog.format_type(c.atttypid, null) = 'character varying'
                        or exists (
                            select from pg_catalog.pg_enum as e
                            where e.enumtypid = c.atttypid and e.enumlabel = 'admin'
                        )
                    )
                )
            )
        )
        union all
        -- a foreign key of jobsdb's references it: one column, unique on its own
        select n.table_name, 2, pg_catalog.format('needs a primary key or unique constraint on (%s)',
            n.column_name)
        from needed as n
        inner join adopted as a on a.table_name = n.table_name
        inner join pg_catalog.pg_attribute as c
            on c.attrelid = a.rel and c.attname = n.column_name and not c.attisdropped
        where n.is_key and not exists (
            select from pg_catalog.pg_constraint as k
            where k.conrelid = a.rel and k.contype in ('p', 'u') and k.conkey = array[c.attnum]
        )
        union all
        -- job_callback writes one output per (job, asset index) and skips a repeated delivery
        select a.table_name, 3,
            'needs the unique constraint images_videos_job_asset_key on (job_id, asset_index)'
        from adopted as a
        where a.table_name = 'public.images_videos' and a.rel is not null and not exists (
            select from pg_catalog.pg_constraint as k
            where k.conrelid = a.rel and k.conname = 'images_videos_job_asset_key'
                and k.contype = 'u'
                and (
                    select pg_catalog.array_agg(c.attname::text order by u.ord)
                    from pg_catalog.unnest(k.conkey) with ordinality as u (attnum, ord)
                    inner join pg_catalog.pg_attribute as c
                        on c.attrelid = k.conrelid and c.attnum = u.attnum
                ) = array['job_id', 'asset_index']
        )
        union all
        -- a row jobsdb inserts must be complete with the columns it fills
        select a.table_name, 4,
            pg_catalog.format('has NOT NULL column %s without a default, which jobsdb does not fill',
                c.attname)
        from adopted as a
        inner join written as w on w.table_name = a.table_name
        inner join pg_catalog.pg_attribute as c
            on c.attrelid = a.rel and c.attnum > 0 and not c.attisdropped
        where c.attnotnull and not c.atthasdef and c.attidentity = '' and c.attgenerated = ''
            and not exists (
                select from needed as n
                where n.table_name = a.table_name and n.column_name = c.attname
            )
        union all
        select a.table_name, 5, 'is gone (it was the project''s own table when jobsdb was installed)'
        from adopted as a
        where a.rel is null
    )

    select p.table_name || ' ' || p.problem
    from problems as p
    order by p.table_name, p.ord, p.problem
$$;
comment on function jobs_private.app_table_problems() is
'What a table the project had before jobsdb (jobs_private.app_tables) lacks for jobsdb: one line per missing column, key or constraint; no rows when it will do.';
revoke all on function jobs_private.app_table_problems()
from public, anon, authenticated, service_role;
