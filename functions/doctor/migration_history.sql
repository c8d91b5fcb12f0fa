-- jobsdb doctor: the migration history (the Supabase CLI's table, which `jobsdb migrate`
-- shares), as version, name and a digest of the statements: enough to tell pending and changed
-- package migrations apart, without handing a monitoring role the SQL of every migration (the
-- app's own ones included). Security definer: the history belongs to the owner and is granted
-- to nobody. The digest is md5 of the statements joined by the character 30 (record
-- separator); null when the row holds none (`migrate repair`, older CLIs: not checked). No rows
-- when there is no history table.
create function jobs_private.migration_history()
returns table (version text, name text, statements_md5 text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
-- the columns come from return query execute, which plpgsql_check cannot follow
-- @plpgsql_check_options: extra_warnings = false
declare
    v_history regclass := pg_catalog.to_regclass('supabase_migrations.schema_migrations');
    v_name text := 'null::text';
    v_digest text := 'null::text';
begin
    if v_history is null then
        return;
    end if;
    -- older Supabase CLIs made the table with the version column only
    if exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = v_history and a.attname = 'name' and not a.attisdropped
    ) then
        v_name := 'h.name::text';
    end if;
    if exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = v_history and a.attname = 'statements' and not a.attisdropped
    ) then
        v_digest := 'case when cardinality(h.statements) > 0'
            ' then md5(array_to_string(h.statements, chr(30))) end';
    end if;
    return query execute format(
        'select h.version::text, %s, %s from %s as h order by h.version', v_name, v_digest,
        v_history);
end;
$$;
comment on function jobs_private.migration_history() is
'jobsdb doctor: each applied migration''s version, name and the md5 of its statements joined by chr(30) (null when not recorded); no rows without a history table.';
revoke all on function jobs_private.migration_history()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.migration_history() to jobs_doctor;
