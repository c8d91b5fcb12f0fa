-- The JSON rule: what a client may store as JSON (queue_job's metadata, a report's metadata,
-- each asset's metadata), so that every consumer can read it back. PostgreSQL accepts JSON
-- that common readers cannot: a document nested 2,000 deep makes Python's json raise
-- RecursionError (JavaScript engines and other parsers have limits too), and jsonb keeps any
-- numeric, so {"n": 1e5000} comes back as a 5,001-digit integer that Python's json refuses
-- (int-string limit: 4,300 digits) and JSON.parse reads as Infinity. The rule:
--   * nested at most 32 levels (each array or object is a level: {"a": [1]} has 2);
--   * every number has an absolute value below 1e308, so it is finite as an IEEE double
--     (JSON.parse, Python's float) and, written out by PostgreSQL (never with an exponent),
--     an integer of at most 308 digits (Python's int-string limit is 4,300).
-- Null when doc follows the rule (or is null), else what is wrong, to follow the name of the
-- document in a 22023 message. Both checks read at most 33 levels, so a document nested
-- deeper than PostgreSQL's stack allows elsewhere is refused here without running out of it.
create function jobs_private.json_violation(doc jsonb)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    -- the common case in one expression: a container at level 32 means 33 levels, and a
    -- number inside 32 levels is at level 32
    if json_violation.doc is null or not pg_catalog.jsonb_path_match(
        json_violation.doc,
        'strict exists($.**{32} ? (@.type() == "object" || @.type() == "array"))'
        ' || exists($.**{0 to 32} ? (@.type() == "number" && (@ >= 1e308 || @ <= -1e308)))'
    ) then
        return null;
    end if;
    if pg_catalog.jsonb_path_exists(
        json_violation.doc, 'strict $.**{32} ? (@.type() == "object" || @.type() == "array")'
    ) then
        return 'is nested deeper than 32 levels of arrays and objects';
    end if;
    return 'holds a number whose absolute value is 1e308 or more: JSON readers (JSON.parse, '
        'Python''s json) cannot read it as a finite number';
end;
$$;
comment on function jobs_private.json_violation(jsonb) is
'The JSON rule for what clients store: nested at most 32 levels, every number of absolute value below 1e308 (finite as a double, an integer of at most 308 digits). Null when doc follows it, else what is wrong.';
revoke all on function jobs_private.json_violation(jsonb)
from public, anon, authenticated, service_role;
