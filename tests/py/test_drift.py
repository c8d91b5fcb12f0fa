"""migrations/ and the current-state tree (sql/load.txt) build the same database.

Both sides start from the Supabase shim's database part; the comparison is the normalised
schema dump of jobsdb.schema.dump (tables, columns, defaults, constraints, indexes, triggers,
function bodies, owners, privileges, policies, comments, publication membership, default
privileges). The second half proves the comparison fails when either side changes alone.
"""

from __future__ import annotations

import difflib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobsdb import embedded, migrate, schema
from jobsdb.shim import apply_shim
from jobsdb.testdb import _janitor

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (ROOT / "sql" / "load.txt").is_file(),
    reason="sql/load.txt does not exist yet (it declares the current-state load order)",
)


def dump_url(url: str, superuser_url: str | None) -> str:
    return embedded.url_for_db(superuser_url, url.rsplit("/", 1)[1]) if superuser_url else url


def assert_same(a: str, b: str) -> None:
    if a != b:
        diff = "".join(difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True),
            fromfile="from migrations/", tofile="from sql/load.txt", n=3,
        ))
        pytest.fail(f"schema drift between migrations/ and the current-state tree:\n{diff}")


def _new_db(owner_url: str, superuser_url: str | None, template: str | None = None):
    name = f"jobsdb_drift_{os.getpid()}_{secrets.token_hex(4)}"
    j = _janitor(owner_url, name, template=template)
    j.init()
    if template is None:
        apply_shim(superuser_url or owner_url, name, quiet=True)
    return embedded.url_for_db(owner_url, name), j


@pytest.fixture(scope="module")
def built(owner_url: str, superuser_url: str | None) -> Iterator[dict[str, str]]:
    """Databases built from migrations/ and from sql/load.txt, with their dumps."""
    janitors = []
    try:
        a, ja = _new_db(owner_url, superuser_url)
        janitors.append(ja)
        if (ROOT / "migrations").is_dir():
            migrate.up(a, ROOT / "migrations", out=lambda s: None)
        b, jb = _new_db(owner_url, superuser_url)
        janitors.append(jb)
        schema.apply(b, ROOT, out=lambda s: None)
        yield {
            "migrations": a,
            "current_state": b,
            "dump:migrations": schema.dump(dump_url(a, superuser_url)),
            "dump:current_state": schema.dump(dump_url(b, superuser_url)),
        }
    finally:
        for j in janitors:
            j.drop()


def test_migrations_equal_current_state(built) -> None:
    assert_same(built["dump:migrations"], built["dump:current_state"])


def _first_table(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select format('%%I.%%I', n.nspname, c.relname) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'"
            " and n.nspname = any(%s) order by 1 limit 1",
            (schema.dumped_schemas(conn),),
        ).fetchone()
    return row[0] if row else None


INJECTIONS = {
    "new table": "create table public.drift_probe (id int)",
    "comment": "comment on table {t} is 'drift probe'",
    "privilege": "grant select on table {t} to anon",
    "index": "create index drift_probe_idx on {t} ((1))",
    "publication": "alter publication supabase_realtime add table {t}",
    "default privilege": "alter default privileges grant select on tables to authenticated",
}


@pytest.mark.parametrize("side", ["migrations", "current_state"])
@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_drift_is_detected(built, owner_url, superuser_url, side: str, kind: str) -> None:
    """Change one side alone (on a clone of it): the dumps must differ."""
    other = "current_state" if side == "migrations" else "migrations"
    source = built[side].rsplit("/", 1)[1]
    clone, j = _new_db(owner_url, superuser_url, template=source)
    try:
        table = _first_table(clone)
        stmt = INJECTIONS[kind]
        if "{t}" in stmt:
            if table is None:
                pytest.skip("no table to change yet")
            stmt = stmt.format(t=table)
        with psycopg.connect(clone, autocommit=True) as conn:
            if kind == "publication" and _in_pub(conn, table):
                stmt = f"alter publication supabase_realtime drop table {table}"
            conn.execute(stmt)
        changed = schema.dump(dump_url(clone, superuser_url))
    finally:
        j.drop()
    assert changed != built[f"dump:{other}"], f"injected {kind!r} on the {side} side not detected"
    assert changed != built[f"dump:{side}"]


def _in_pub(conn: psycopg.Connection, table: str | None) -> bool:
    row = conn.execute(
        "select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
        " and format('%%I.%%I', schemaname, tablename) = %s", (table,)
    ).fetchone()
    return bool(row and row[0])
