"""Current-state loader (sql/load.txt) and the normalised schema dump used by the drift test."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg

from jobsdb import sqlsplit
from jobsdb.embedded import find_bin

EXCLUDED_SCHEMAS = ("supabase_migrations", "auth", "extensions", "tests", "information_schema")


class SchemaError(RuntimeError):
    pass


def load_order(root: Path) -> list[Path]:
    """Files named by sql/load.txt, in order (repo-relative paths, # comments, blanks ignored)."""
    listing = root / "sql" / "load.txt"
    if not listing.is_file():
        raise SchemaError(f"{listing} does not exist: it declares the current-state load order")
    files = []
    for n, raw in enumerate(listing.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        p = root / line
        if not p.is_file():
            raise SchemaError(f"sql/load.txt line {n}: {line} does not exist")
        files.append(p)
    return files


def apply(url: str, root: Path, out=print) -> list[Path]:
    """Apply the current-state tree in one transaction, as the newest release's install does
    (`jobsdb release build` makes it from these files: their app-table sections wrapped)."""
    from jobsdb import release_build

    files = load_order(root)
    tree = release_build.load_tree(root)
    text = release_build.install_text(root, tree.newest)
    with psycopg.connect(url) as conn:
        for i, stmt in enumerate(sqlsplit.split(text)):
            if sqlsplit.is_comment_only(stmt):
                continue
            try:
                conn.execute(stmt.encode())
            except psycopg.Error as e:
                raise SchemaError(
                    f"statement {i + 1} failed: {e}\n--- statement ---\n{stmt[:2000]}"
                ) from e
        conn.commit()
    out(f"applied {len(files)} current-state file(s) from sql/load.txt")
    return files


def dumped_schemas(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select nspname from pg_namespace where nspname <> all(%s)"
        " and nspname not like 'pg\\_%%' order by 1",
        (list(EXCLUDED_SCHEMAS),),
    ).fetchall()
    return [r[0] for r in rows]


_NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict|\\unrestrict)")

EXTRA_QUERIES = {
    "publication tables": """
        select pubname || ' ' || schemaname || '.' || tablename
        from pg_publication_tables order by 1""",
    "default privileges": """
        select coalesce(pg_get_userbyid(d.defaclrole), '?') || ' '
            || coalesce(n.nspname, '<global>') || ' ' || d.defaclobjtype::text || ' '
            || array_to_string(array(select unnest(d.defaclacl)::text order by 1), ',')
        from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace
        order by 1""",
    # auth is not dumped (the platform's), but the package's triggers on its tables are
    "triggers on auth tables": """
        select c.oid::regclass::text || ' ' || pg_get_triggerdef(t.oid) from pg_trigger t
        join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'auth' and not t.tgisinternal order by 1""",
    "extensions": """
        select e.extname || ' ' || n.nspname from pg_extension e
        join pg_namespace n on n.oid = e.extnamespace order by 1""",
}


# Rows compared by part: a transaction id is the database's own history, not its state. The
# upgrade to 1.4.0 moves the tombstone horizon to its own transaction (older cursors reset).
ROW_TEXT = {"jobs_private.job_tombstone_horizon": "t.singleton::text"}

TABLES = """
    select format('%%I.%%I', n.nspname, c.relname) from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname = any(%s) order by 1"""


def dump(url: str, data: bool = False) -> str:
    """A normalised schema-only dump (owners, privileges, policies, comments, triggers, function
    bodies) of the package's schemas, plus publication membership, default privileges and
    extensions; with `data`, every row of their tables too (for databases holding only what
    jobsdb seeds: job types, the state machine, settings). Equal databases give identical
    text."""
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = dumped_schemas(conn)
        extras = {
            title: [r[0] for r in conn.execute(q).fetchall()] for title, q in EXTRA_QUERIES.items()
        }
        if data:
            for (table,) in conn.execute(TABLES, (schemas,)).fetchall():
                text = ROW_TEXT.get(table, "t::text")
                rows = conn.execute(f"select {text} from {table} as t order by 1").fetchall()
                extras[f"rows of {table}"] = [r[0] for r in rows]
    args = [find_bin("pg_dump"), "--schema-only", "--no-publications", "-d", url]
    for s in schemas:
        args += ["--schema", s]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SchemaError(f"pg_dump failed: {r.stderr}")
    lines = [ln.rstrip() for ln in r.stdout.splitlines() if not _NOISE.match(ln)]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    for title, rows in extras.items():
        text += f"\n-- {title}\n" + "".join(f"{row}\n" for row in rows)
    return text
