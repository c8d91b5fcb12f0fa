create function jobs_private.json_number(doc jsonb, key text)
returns numeric
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if doc is null or jsonb_typeof(doc -> key) is null or jsonb_typeof(doc -> key) = 'null' then
        return null;
    end if;
    if jsonb_typeof(doc -> key) <> 'number' then
        raise exception using errcode = '22023', message = format('metadata.%s must be a number', key);
    end if;
    return (doc ->> key)::numeric;
end;
$$;
comment on function jobs_private.json_number(jsonb, text) is
'doc->key as numeric; null when absent; 22023 naming the key when it is not a JSON number.';
revoke all on function jobs_private.json_number(jsonb, text)
from public, anon, authenticated, service_role;
