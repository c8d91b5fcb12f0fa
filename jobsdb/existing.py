"""`jobsdb test --url URL`: the pgTAP suite against an existing Supabase database.

For a project's own database (`supabase start`'s, a branch, a staging project) where the
project installed jobsdb. Nothing is created or applied: the target must already hold
jobsdb's newest release (the one the checkout's tests are for) and the pgtap extension, or the
run refuses with one line and its own exit code. Each file runs in a transaction that is
rolled back, with the test helpers (tests/helpers.sql) loaded inside that same transaction;
"no trace" is then checked: the schema, the row count of every table and every sequence's
value are the same before and after the run.

Only the pgTAP files can run there. The Python suites (concurrency, faults with killed
connections and restarted servers, Realtime, retention under load, fuzzing) commit, kill
backends or restart the server, so they need the embedded cluster (`make test`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from jobsdb import errors, package_migrate, queries, releases
from jobsdb.embedded import find_bin
from jobsdb.pgtap import FileResult, _rel, discover, parse_tap, write_junit
from jobsdb.shim import MARK

# exit codes (0 passed, 1 a test failed)
EXIT_NOT_SUPABASE = errors.NOT_SUPABASE
EXIT_PENDING = errors.PENDING
EXIT_NO_PGTAP = errors.SETUP  # something to install
EXIT_TRACE = errors.TRACE_LEFT


class Refusal(Exception):
    """The target cannot be tested as it is; nothing was changed."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def platform(conn: psycopg.Connection) -> str:
    """'supabase' (auth.users without the shim's marker), 'shim', or refuse."""
    has_users, comment = conn.execute(
        "select to_regclass('auth.users') is not null,"
        " coalesce(obj_description(to_regnamespace('auth'), 'pg_namespace'), '')"
    ).fetchone()
    if comment == MARK:
        return "shim"
    if not has_users:
        raise Refusal(
            EXIT_NOT_SUPABASE, "refusing: this is not a Supabase database (no auth.users); for"
            " a scratch database with a stand-in for Supabase run `jobsdb db scratch`"
        )
    return "supabase"


def check_release(conn: psycopg.Connection, root: Path) -> str:
    """The release the database holds, which must be the newest of the checkout's releases/
    (the tests are that release's)."""
    newest = releases.latest(root / "releases")
    try:
        return package_migrate.require_newest(conn, newest)
    except errors.UserError as e:
        raise Refusal(EXIT_PENDING, str(e)) from None


def check_pgtap(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "select n.nspname, n.nspname = any(current_schemas(false)) from pg_extension e"
        " join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pgtap'"
    ).fetchone()
    if row is None:
        raise Refusal(
            EXIT_NO_PGTAP,
            "refusing: the pgtap extension is not installed in this database (as its owner: "
            "create extension pgtap with schema extensions)",
        )
    if not row[1]:
        raise Refusal(
            EXIT_NO_PGTAP,
            f"refusing: pgtap is installed in schema {row[0]}, which is not on the search_path"
            f" of role {conn.info.user}",
        )
    return row[0]


# ---- "no trace" -----------------------------------------------------------------------------

@dataclass
class Snapshot:
    catalog: list[str]
    schema_dump: str
    rows: dict[str, int]

    def differences(self, after: Snapshot) -> list[str]:
        out = []
        before_c, after_c = set(self.catalog), set(after.catalog)
        out += [f"gone:  {x}" for x in sorted(before_c - after_c)]
        out += [f"new:   {x}" for x in sorted(after_c - before_c)]
        if self.schema_dump != after.schema_dump and not out:
            out.append("the schema dump (pg_dump --schema-only) changed")
        for t in sorted(self.rows.keys() | after.rows.keys()):
            if self.rows.get(t) != after.rows.get(t):
                out.append(f"rows:  {t}: {self.rows.get(t)} before, {after.rows.get(t)} after")
        return out


def _schema_dump(url: str, conn: psycopg.Connection) -> str:
    """pg_dump --schema-only of every schema the role may use (what it can see of the rest is
    in the catalog lines)."""
    schemas = [
        r[0]
        for r in conn.execute(
            "select nspname from pg_namespace where nspname !~ '^pg_'"
            " and nspname <> 'information_schema' and has_schema_privilege(oid, 'usage')"
            " order by 1"
        )
    ]
    args = [find_bin("pg_dump"), "--schema-only", "--no-publications", "-d", url]
    for s in schemas:
        args += ["--schema", s]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return f"pg_dump failed: {r.stderr.strip()}"
    return "\n".join(ln for ln in r.stdout.splitlines() if not ln.startswith(("--", "\\")))


def snapshot(url: str) -> Snapshot:
    with psycopg.connect(url, autocommit=True) as conn:
        q = queries.load("existing.sql")
        catalog = [r[0] for r in conn.execute(q["catalog"])]
        rows = {}
        for (t,) in conn.execute(q["tables"]).fetchall():
            rows[t] = conn.execute(f"select count(*) from {t}").fetchone()[0]
        return Snapshot(catalog, _schema_dump(url, conn), rows)


# ---- running the files ----------------------------------------------------------------------

_EXPECTED_WARNINGS = (
    "WARNING:  there is already a transaction in progress",
    "WARNING:  there is no transaction in progress",
)


def file_prelude() -> str:
    """What each file's transaction runs first (jobsdb/sql/existing.sql): the role's sequences
    made to roll back, the project's own profiles and jobs set aside."""
    q = queries.load("existing.sql")
    return f"{q['sequences_roll_back']}\n{q['set_aside_existing_jobs']}\n"


# Files run BATCH to a psql session: a login per file cost about 50 ms of 85 here (more over
# the Internet, where a project's database is). Between two files the session is set back to
# a fresh login's state (`discard all`: settings, role, prepared statements, temp tables,
# advisory locks), and markers on stdout (with the server's clock) and stderr cut the output.
BATCH = 16
_MARK = "jobsdb-test-file"


def _batch_script(files: list[Path], helpers: Path, prelude: str) -> str:
    """Each file inside one transaction that also loads the helpers; always rolled back (the
    file's own `begin` is then a no-op and its `rollback` ends it). Without ON_ERROR_STOP: an
    error fails the rest of its file's transaction, which the rollback after it ends."""
    parts = []
    for i, f in enumerate(files):
        parts.append(
            f"\\warn {_MARK} {i}\n"
            f"select '{_MARK} {i} ' || extract(epoch from clock_timestamp());\n"
            "begin;\n"
            f"{prelude}"
            f"\\i '{helpers}'\n"
            f"\\i '{f}'\n"
            "rollback;\n"
            "discard all;\n"
        )
    parts.append(f"select '{_MARK} end ' || extract(epoch from clock_timestamp());\n")
    return "".join(parts)


def _sections(text: str, marker: re.Pattern[str]) -> dict[str, list[str]]:
    """Lines of text under each marker line, by the marker's file number (or 'end')."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        m = marker.match(line)
        if m:
            current = out.setdefault(m.group(1), [])
            current.append(m.group(2) or "")
        else:
            current.append(line)
    return out


_OUT_MARK = re.compile(rf"^{_MARK} (\d+|end) (\S+)$")
_ERR_MARK = re.compile(rf"^{_MARK} (\d+)()$")


def run_batch(url: str, files: list[tuple[Path, str]], helpers: Path,
              prelude: str) -> list[FileResult]:
    """Run (path, display) files in one psql session; one FileResult each. A file whose section
    holds an ERROR fails even if its plan ran (ON_ERROR_STOP would have stopped it); a file
    the session never reached (it died) fails with what psql said last."""
    r = subprocess.run(
        [find_bin("psql"), "-X", "-q", "-t", "-A", "-d", url],
        input=_batch_script([f for f, _ in files], helpers, prelude),
        capture_output=True, text=True,
        env={**os.environ, "PGOPTIONS": os.environ.get("PGOPTIONS", "")},
    )
    out, err = _sections(r.stdout, _OUT_MARK), _sections(r.stderr, _ERR_MARK)
    starts = {k: float(v[0]) for k, v in out.items()}
    results = []
    for i, (_, display) in enumerate(files):
        key = str(i)
        stderr = "\n".join(ln for ln in err.get(key, [""])[1:]
                           if not ln.strip().startswith(_EXPECTED_WARNINGS))
        if key not in out:
            said = r.stderr.strip().splitlines()[-1:] or [f"psql exited with {r.returncode}"]
            res = FileResult(display, False, stderr=r.stderr,
                             problems=[f"the session ended before this file: {said[0]}"])
            results.append(res)
            continue
        following = [starts[k] for k in (str(i + 1), "end") if k in starts]
        seconds = (following[0] - starts[key]) if following else 0.0
        res = parse_tap(display, "\n".join(out[key][1:]), stderr, 0, seconds)
        died = [ln for ln in stderr.splitlines() if re.search(r"\b(ERROR|FATAL|PANIC):", ln)]
        if died:
            res.problems.append(f"an error ended the file: {died[0].strip()}")
            res.passed = False
        results.append(res)
    return results


UNLESS_APP_TABLE = re.compile(r"^-- jobsdb:unless-app-table (public\.[a-z_]+)\s*$")


def app_tables(url: str) -> set[str]:
    """The spec's tables that are the project's own (jobs_private.app_tables)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {r[0] for r in conn.execute("select table_name from jobs_private.app_tables")}


def skip_reason(path: Path, own: set[str]) -> str:
    """Why a file does not run here: its header names, with `-- jobsdb:unless-app-table T`, a
    table that is the project's own (the file checks jobsdb's rules for that table)."""
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        m = UNLESS_APP_TABLE.match(line)
        if m and m.group(1) in own:
            return f"{m.group(1)} is the project's own table"
    return ""


def run_files(url: str, files: list[Path], root: Path, out=print) -> list[FileResult]:
    """One file at a time (each file's transaction creates the helpers' schema, so files
    running at once would only wait for each other), BATCH of them per psql session."""
    helpers = root / "tests" / "helpers.sql"
    prelude = file_prelude()
    own = app_tables(url)
    results: list[FileResult] = []
    batch: list[tuple[Path, str]] = []

    def flush() -> None:
        if not batch:
            return
        for res in run_batch(url, batch, helpers, prelude):
            results.append(res)
            out(res.summary())
            if not res.passed:
                out(res.details())
        batch.clear()

    for f in files:
        why = skip_reason(f, own)
        if why:
            flush()
            results.append(FileResult(_rel(f, root), True, skipped=why))
            out(results[-1].summary())
            continue
        batch.append((f, _rel(f, root)))
        if len(batch) == BATCH:
            flush()
    flush()
    return results


def main(url: str, root: Path, paths: list[str], junit: str | None = None,
         out=print, err=None) -> int:
    err = err or (lambda s: print(s, file=sys.stderr))
    files = discover(root, paths)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            kind = platform(conn)
            release = check_release(conn, root)
            pgtap_schema = check_pgtap(conn)
            who = conn.execute("select current_user, current_database()").fetchone()
    except Refusal as r:
        err(str(r))
        return r.code
    label = {"supabase": "a real Supabase database",
             "shim": "a database set up by the jobsdb shim"}[kind]
    err(f"target: {who[1]} as {who[0]}, {label}; jobsdb {release}, "
        f"pgtap in {pgtap_schema}; {len(files)} file(s), each rolled back")
    before = snapshot(url)
    if before.schema_dump.startswith("pg_dump failed"):
        err(f"note: {before.schema_dump.splitlines()[0]}; the catalog lines are compared instead")
    t0 = time.monotonic()
    results = run_files(url, files, root, out)
    after = snapshot(url)
    if junit:
        write_junit(results, Path(junit))
    skipped = sum(bool(r.skipped) for r in results)
    passed = sum(r.passed for r in results) - skipped
    failed = len(results) - passed - skipped
    out(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
        + f" in {time.monotonic() - t0:.1f}s")
    trace = before.differences(after)
    if trace:
        err(f"trace left in the database ({len(trace)} difference(s)):")
        for line in trace[:50]:
            err(f"  {line}")
        return EXIT_TRACE
    err(f"no trace: schema, row counts of {len(after.rows)} tables and "
        f"{sum(x.startswith('sequence ') for x in after.catalog)} sequence values unchanged")
    return 1 if failed else 0
