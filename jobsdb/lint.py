"""plpgsql_check over every plpgsql function the package creates, in a freshly built database.

Trigger functions are checked against a table that uses them (pg_trigger). Error-level
findings fail; warnings are printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

from jobsdb.testdb import build_template
from jobsdb.urls import url_for_db

SKIP_SCHEMAS = ["pg_catalog", "information_schema", "extensions", "auth", "tests"]

FUNCTIONS = """
select p.oid, p.oid::regprocedure::text, p.prorettype = 'pg_catalog.trigger'::regtype,
       (select t.tgrelid from pg_catalog.pg_trigger t where t.tgfoid = p.oid
        order by t.tgrelid limit 1)
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_language l on l.oid = p.prolang
where l.lanname = 'plpgsql'
  and n.nspname <> all(%s) and n.nspname not like 'pg\\_%%'
  and not exists (select from pg_catalog.pg_depend d
                  where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                    and d.deptype = 'e')
order by 2
"""


def check(url: str, out=print) -> tuple[int, int]:
    """Run plpgsql_check in database `url` (superuser); return (errors, warnings)."""
    errors = warnings = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create extension if not exists plpgsql_check with schema extensions")
        funcs = conn.execute(FUNCTIONS, (SKIP_SCHEMAS,)).fetchall()
        for oid, sig, is_trigger, relid in funcs:
            if is_trigger and relid is None:
                out(f"skip   {sig}: trigger function not attached to any table")
                continue
            rows = conn.execute(
                "select level, lineno, sqlstate, message, detail, hint"
                " from extensions.plpgsql_check_function_tb(%s::oid, %s::oid)",
                (oid, relid or 0),
            ).fetchall()
            for level, lineno, sqlstate, message, detail, hint in rows:
                is_error = level == "error"
                errors += is_error
                warnings += not is_error
                line = f"{'ERROR ' if is_error else 'warn  '} {sig} line {lineno}: "
                line += f"[{sqlstate}] {message}"
                if detail:
                    line += f" ({detail})"
                if hint:
                    line += f" hint: {hint}"
                out(line)
        out(f"plpgsql_check: {len(funcs)} function(s), {errors} error(s), {warnings} warning(s)")
    return errors, warnings


def main(owner_url: str, superuser_url: str | None, root: Path) -> int:
    if not superuser_url:
        print(
            "note: plpgsql_check needs a superuser (set SUPERUSER_DATABASE_URL); skipped",
            file=sys.stderr,
        )
        return 0
    tpl = build_template(owner_url, superuser_url, root, pgtap=True)
    try:
        errors, _ = check(url_for_db(superuser_url, tpl.name))
    finally:
        tpl.drop()
    return 1 if errors else 0
