"""Migration runner compatible with the Supabase CLI's history table.

Files: migrations/<YYYYMMDDHHMMSS>_<snake_name>.sql, applied in version order, one
transaction per file (with lock and statement timeouts) and the history row written in the
same transaction. History: supabase_migrations.schema_migrations(version, statements, name),
the CLI's own table, so `supabase db push` and `jobsdb migrate` read each other's history.

Safe when two runs race: a session advisory lock, polled (never blocking), then the history
is re-read under the lock. An applied file whose statements changed is refused.
A file whose first line is `-- jobsdb:no-transaction` runs statement by statement in
autocommit (e.g. `create index concurrently`); invalid indexes left behind fail the run.

A dry run executes the pending files in one transaction that is rolled back, with a short lock
timeout (a dry run on a busy database gives up rather than queue behind traffic, and so never
makes traffic queue behind its own waiting lock request); no-transaction files are listed as
not checked.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors

from jobsdb import releases, sqlsplit
from jobsdb.errors import MIGRATION, PRIVILEGE, MissingFileError, UsageError, UserError

FILE_RE = re.compile(r"^(\d{14})_([a-z0-9_]+)\.sql$")
NAME_RE = re.compile(r"^[a-z0-9_]+$")
NO_TX_MARK = "-- jobsdb:no-transaction"
# pg_try_advisory_lock key: "jobsdb migrate" (arbitrary constant, stable forever)
LOCK_KEY = 7_254_031_880_112_604_341
# Migrations after this one are tested under load and linted with squawk (the ones up to it
# are immutable history, written before those checks existed).
SAFE_SINCE = "20261128171404"
VERSION_RE = re.compile(r"^\d{14}$")
# PostgreSQL's time units for settings such as lock_timeout (a bare number is milliseconds)
DURATION_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(us|ms|s|min|h|d)?\s*$")
DRY_RUN_LOCK_TIMEOUT = "500ms"
# How often a file (not a no-transaction one) is run when it keeps losing deadlocks
DEADLOCK_TRIES = 3

HISTORY_DDL = [
    "create schema if not exists supabase_migrations",
    "create table if not exists supabase_migrations.schema_migrations"
    " (version text not null primary key)",
    "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
    "alter table supabase_migrations.schema_migrations add column if not exists name text",
]
INSERT_HISTORY = (
    "insert into supabase_migrations.schema_migrations (version, name, statements)"
    " values (%s, %s, %s)"
)

Out = Callable[[str], None]


class MigrateError(UserError):
    """A refusal or failure, with a message that tells the user what to do next."""

    exit_code = MIGRATION


def check_duration(value: str, source: str) -> str:
    if not DURATION_RE.match(value):
        raise UsageError(f"{source} {value!r} is not a PostgreSQL duration: use e.g. 500ms, 5s,"
                         " 2min, 1h (a bare number is milliseconds)")
    return value.strip()


@dataclass
class Migration:
    version: str
    name: str
    path: Path
    statements: list[str] = field(repr=False)
    no_transaction: bool = False

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass
class Applied:
    version: str
    name: str | None
    statements: list[str] | None


@dataclass
class Plan:
    migrations: list[Migration]
    applied: dict[str, Applied]
    pending: list[Migration]
    changed: list[Migration]
    unknown: list[Applied]
    out_of_order: list[Migration]


def load_file(path: Path) -> Migration:
    m = FILE_RE.match(path.name)
    if not m:
        raise MigrateError(
            f"{path.name}: migration files are named <YYYYMMDDHHMMSS>_<snake_name>.sql"
        )
    text = path.read_text()
    first = text.splitlines()[0].strip() if text else ""
    return Migration(
        version=m.group(1),
        name=m.group(2),
        path=path,
        statements=sqlsplit.split(text),
        no_transaction=first.lower() == NO_TX_MARK,
    )


def load_dir(directory: Path) -> list[Migration]:
    if not directory.is_dir():
        raise MissingFileError(f"migrations directory {directory} does not exist: pass --dir DIR")
    found: dict[str, Migration] = {}
    for p in sorted(directory.glob("*.sql")):
        if not FILE_RE.match(p.name):
            print(f"warning: skipping {p.name}: not <YYYYMMDDHHMMSS>_<name>.sql", file=sys.stderr)
            continue
        mig = load_file(p)
        if mig.version in found:
            raise MigrateError(
                f"two migrations share version {mig.version}: {found[mig.version].filename}"
                f" and {mig.filename}"
            )
        found[mig.version] = mig
    return [found[v] for v in sorted(found)]


def history_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select to_regclass('supabase_migrations.schema_migrations') is not null"
    ).fetchone()
    return bool(row and row[0])


def read_history(conn: psycopg.Connection) -> dict[str, Applied]:
    if not history_exists(conn):
        return {}
    has_cols = {
        r[0]
        for r in conn.execute(
            "select attname from pg_attribute where attrelid ="
            " 'supabase_migrations.schema_migrations'::regclass and attnum > 0"
            " and not attisdropped"
        )
    }
    name = "name" if "name" in has_cols else "null::text"
    stmts = "statements" if "statements" in has_cols else "null::text[]"
    rows = conn.execute(
        f"select version, {name}, {stmts} from supabase_migrations.schema_migrations"
        " order by version"
    ).fetchall()
    return {r[0]: Applied(r[0], r[1], list(r[2]) if r[2] is not None else None) for r in rows}


def ensure_history(conn: psycopg.Connection) -> None:
    with conn.transaction():
        for stmt in HISTORY_DDL:
            conn.execute(stmt)


def _is_jobsdbs(a: Applied) -> bool:
    """A history row of jobsdb's own (a release file, or one of its migrations before 1.0.0):
    `jobsdb migrate` without --dir manages those, so a project's directory need not hold them."""
    if releases.marker_of(a.statements[0] if a.statements else "") is not None:
        return True
    from jobsdb.paths import migrations_dir

    d = migrations_dir()
    return bool(a.name) and (d / f"{a.version}_{a.name}.sql").is_file()


def make_plan(migrations: list[Migration], applied: dict[str, Applied]) -> Plan:
    by_version = {m.version: m for m in migrations}
    changed = [
        m
        for m in migrations
        if m.version in applied
        and applied[m.version].statements  # NULL/empty (repair, old CLI) is not checked
        and applied[m.version].statements != m.statements
    ]
    unknown = [a for v, a in applied.items() if v not in by_version and not _is_jobsdbs(a)]
    pending = [m for m in migrations if m.version not in applied]
    newest = max(applied) if applied else ""
    out_of_order = [m for m in pending if m.version < newest]
    return Plan(migrations, applied, pending, changed, unknown, out_of_order)


def _check_plan(plan: Plan, allow_out_of_order: bool) -> None:
    if plan.changed:
        names = ", ".join(m.filename for m in plan.changed)
        raise MigrateError(
            f"applied migration(s) changed since they were applied: {names}. Applied "
            "migrations are immutable: restore the file and add a new migration instead "
            "(or `jobsdb migrate repair VERSION --status reverted` if you really mean it)."
        )
    if plan.unknown:
        vs = ", ".join(a.version + (f"_{a.name}" if a.name else "") for a in plan.unknown)
        raise MigrateError(
            f"the database has applied migration(s) with no file in the migrations directory:"
            f" {vs}. Fetch the missing files, or `jobsdb migrate repair VERSION --status"
            " reverted`."
        )
    if plan.out_of_order and not allow_out_of_order:
        names = ", ".join(m.filename for m in plan.out_of_order)
        raise MigrateError(
            f"pending migration(s) older than the newest applied one ({max(plan.applied)}):"
            f" {names}. Rename them with a newer timestamp, or pass --allow-out-of-order."
        )


def _acquire_lock(conn: psycopg.Connection, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        row = conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if row and row[0]:
            return
        if time.monotonic() >= deadline:
            raise MigrateError(
                f"another `jobsdb migrate` holds the migration lock (advisory lock {LOCK_KEY})"
                f" after waiting {wait:g}s; wait for it to finish or find it in pg_stat_activity"
                " (pg_locks.locktype = 'advisory')."
            )
        time.sleep(0.1)


def _run_statement(
    conn: psycopg.Connection, mig: Migration, i: int, stmt: str, what: str = ""
) -> None:
    if sqlsplit.is_comment_only(stmt):
        return
    try:
        conn.execute(stmt.encode())  # bytes: no placeholder processing of '%'
    except psycopg.Error as e:
        first = str(e).splitlines()[0] if str(e) else ""
        line = sqlsplit.line_of(mig.path.read_text(), stmt) if mig.path.is_file() else None
        at = f" (line {line})" if line else ""
        privilege = isinstance(e, pg_errors.InsufficientPrivilege)
        todo = _advice(e, mig)
        raise MigrateError(
            f"{what}{mig.filename}: statement {i + 1}{at} failed: [{e.sqlstate}] {first}: {todo}",
            exit_code=PRIVILEGE if privilege else None,
            detail=f"--- statement ---\n{stmt[:2000]}",
        ) from e


def _advice(e: psycopg.Error, mig: Migration) -> str:
    """What to do about a failed statement: the cause decides, not the file."""
    done = "nothing of this file was applied" if not mig.no_transaction else (
        "the statements before it stay applied (a no-transaction file)")
    if isinstance(e, pg_errors.InsufficientPrivilege):
        return "run migrations as the database's owner role (postgres on Supabase)"
    if isinstance(e, pg_errors.LockNotAvailable):
        return (f"{done}; a table it changes is busy (the lock timeout ran out): run it again"
                " later, or allow a longer wait with --lock-timeout (e.g. --lock-timeout 30s)")
    if isinstance(e, pg_errors.DeadlockDetected):
        tried = (f" (tried {DEADLOCK_TRIES} times)" if not mig.no_transaction else "")
        return (f"{done}{tried}; it deadlocked with another transaction, most likely the"
                " running queue's: run it again")
    if isinstance(e, pg_errors.QueryCanceled):
        return (f"{done}; a statement ran past the statement timeout: run it again when the"
                " database is quieter, or allow longer with --statement-timeout (e.g. 30min)")
    if e.sqlstate in ("3F000", "42P01", "42704") and "auth" in str(e):
        return ("this database is not a Supabase project (no auth schema): for a scratch"
                " database with a stand-in for it run `jobsdb db scratch`")
    if releases.marker_of(mig.statements[0] if mig.statements else "") is not None:
        return f"{done}; it is a file of jobsdb's own: the message says what the database lacks"
    return (f"{done}; fix it in a new migration or, if it is not applied anywhere yet, in this"
            " file")


def _invalid_indexes(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select indexrelid::regclass::text from pg_index where not indisvalid order by 1"
        )
    ]


def apply_one(
    conn: psycopg.Connection, mig: Migration, lock_timeout: str, statement_timeout: str
) -> None:
    if mig.no_transaction:
        conn.execute("select set_config('lock_timeout', %s, false)", (lock_timeout,))
        conn.execute("select set_config('statement_timeout', %s, false)", (statement_timeout,))
        try:
            for i, stmt in enumerate(mig.statements):
                _run_statement(conn, mig, i, stmt)
            conn.execute(INSERT_HISTORY, (mig.version, mig.name, mig.statements))
        finally:
            conn.execute("reset lock_timeout")
            conn.execute("reset statement_timeout")
        bad = _invalid_indexes(conn)
        if bad:
            raise MigrateError(
                f"{mig.filename}: invalid index(es) left behind: {', '.join(bad)}. Drop them"
                " and build them again (e.g. `drop index concurrently ...` then rerun)."
            )
        return
    # A file that loses a deadlock is tried again: nothing of it was applied, and the other
    # side is most likely the running queue, whose transactions last milliseconds. A step that
    # changes public.jobs locks the parent and then its partitions, while the queue's functions
    # lock the partition they write first and the parent after it (a key check through
    # public.jobs): under running workers that cycle closes now and then.
    for attempt in range(1, DEADLOCK_TRIES + 1):
        try:
            with conn.transaction():
                conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout,))
                conn.execute("select set_config('statement_timeout', %s, true)",
                             (statement_timeout,))
                for i, stmt in enumerate(mig.statements):
                    _run_statement(conn, mig, i, stmt)
                conn.execute(INSERT_HISTORY, (mig.version, mig.name, mig.statements))
            return
        except MigrateError as e:
            if attempt == DEADLOCK_TRIES or not isinstance(e.__cause__,
                                                           pg_errors.DeadlockDetected):
                raise
            time.sleep(0.2 * attempt)


def settings(lock_timeout: str | None, statement_timeout: str | None, wait: float | None,
             dry_run: bool) -> tuple[str, str, float]:
    """The lock and statement timeouts and the lock wait of a run: given, else from the
    environment (JOBSDB_LOCK_TIMEOUT, JOBSDB_STATEMENT_TIMEOUT, JOBSDB_MIGRATE_WAIT), else
    the defaults (5s, 500ms for a dry run; 5min; 60 s)."""
    default_lock = DRY_RUN_LOCK_TIMEOUT if dry_run else "5s"
    lock_timeout = check_duration(
        lock_timeout or os.environ.get("JOBSDB_LOCK_TIMEOUT", default_lock), "lock timeout")
    statement_timeout = check_duration(
        statement_timeout or os.environ.get("JOBSDB_STATEMENT_TIMEOUT", "5min"),
        "statement timeout")
    if wait is None:
        raw = os.environ.get("JOBSDB_MIGRATE_WAIT", "60")
        try:
            wait = float(raw)
        except ValueError:
            raise UsageError(f"JOBSDB_MIGRATE_WAIT={raw!r} is not a number of seconds") from None
    return lock_timeout, statement_timeout, wait


def _in_effect_already(conn: psycopg.Connection, mig: Migration, out: Out) -> bool:
    """A pending file of jobsdb's whose release the database holds already (its history row was
    removed with `repair --status reverted`, say) is recorded as applied, not run again."""
    marker = releases.marker_of(mig.statements[0]) if mig.statements else None
    if marker is None:
        return False
    holds = releases.installed(conn)
    if holds != marker.to or (marker.kind != "install" and marker.from_ == holds):
        return False
    conn.execute(INSERT_HISTORY, (mig.version, mig.name, mig.statements))
    out(f"recorded {mig.filename}: the database holds jobsdb {holds} already, so it is not run"
        " again")
    return True


def up(
    url: str,
    directory: Path,
    *,
    dry_run: bool = False,
    allow_out_of_order: bool = False,
    lock_timeout: str | None = None,
    statement_timeout: str | None = None,
    wait: float | None = None,
    out: Out = print,
) -> list[Migration]:
    """Apply pending migrations; return those applied (or that would be, with dry_run)."""
    lock_timeout, statement_timeout, wait = settings(lock_timeout, statement_timeout, wait,
                                                     dry_run)
    migrations = load_dir(directory)
    with psycopg.connect(url, autocommit=True) as conn:
        if dry_run:
            plan = make_plan(migrations, read_history(conn))
            _check_plan(plan, allow_out_of_order)
            dry_run_plan(conn, plan, lock_timeout, statement_timeout, out)
            return plan.pending
        _acquire_lock(conn, wait)
        try:
            ensure_history(conn)
            plan = make_plan(migrations, read_history(conn))  # re-read under the lock
            _check_plan(plan, allow_out_of_order)
            if not plan.pending:
                out("database is up to date")
            for m in plan.pending:
                if _in_effect_already(conn, m, out):
                    continue
                t0 = time.monotonic()
                apply_one(conn, m, lock_timeout, statement_timeout)
                out(f"applied {m.filename} ({time.monotonic() - t0:.2f}s)")
            return plan.pending
        finally:
            if not conn.closed:
                conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))


def dry_run_plan(
    conn: psycopg.Connection, plan: Plan, lock_timeout: str, statement_timeout: str, out: Out
) -> None:
    """Execute the pending files in one transaction and roll it back. A file that fails raises
    MigrateError (nothing stays); a no-transaction file is listed as not checked, and so is
    every file after it (they build on its changes)."""
    if not plan.pending:
        out("dry run: database is up to date")
        return
    with conn.transaction(force_rollback=True):
        conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout,))
        conn.execute("select set_config('statement_timeout', %s, true)", (statement_timeout,))
        # the history rows too, as the real run writes them (a later file may check for one)
        for stmt in HISTORY_DDL:
            conn.execute(stmt)
        blocked_by = None
        checked = 0
        for m in plan.pending:
            if m.no_transaction:
                out(f"dry run: NOT CHECKED {m.filename}: a `{NO_TX_MARK}` file cannot run inside"
                    " the dry run's transaction")
                blocked_by = blocked_by or m.filename
            elif blocked_by:
                # it builds on what the skipped file would have changed (a release step's
                # guard asks for the release that file makes): running it would report a
                # failure the real run never meets
                out(f"dry run: NOT CHECKED {m.filename}: it runs after {blocked_by}, whose"
                    " changes the dry run cannot make")
            else:
                t0 = time.monotonic()
                for i, stmt in enumerate(m.statements):
                    _run_statement(conn, m, i, stmt, what="dry run: ")
                out(f"dry run: ok {m.filename} ({len(m.statements)} statement(s),"
                    f" {time.monotonic() - t0:.2f}s, rolled back)")
                checked += 1
            conn.execute(INSERT_HISTORY, (m.version, m.name, m.statements))
    out(f"dry run: {checked} pending migration(s) checked and rolled back,"
        f" {len(plan.pending) - checked} not checked; nothing was applied")


def status(url: str, directory: Path, out: Out = print) -> int:
    """Print the state of each migration. 0 up to date, 1 pending, 2 changed/unknown applied."""
    migrations = load_dir(directory)
    with psycopg.connect(url, autocommit=True) as conn:
        plan = make_plan(migrations, read_history(conn))
    changed = {m.version for m in plan.changed}
    for m in migrations:
        if m.version in changed:
            state = "CHANGED"
        elif m.version in plan.applied:
            state = "applied"
        else:
            state = "pending"
        out(f"{state:8} {m.filename}")
    for a in plan.unknown:
        out(f"{'UNKNOWN':8} {a.version}_{a.name or '?'} (applied, no file)")
    if plan.changed or plan.unknown:
        out(f"{len(plan.changed)} changed, {len(plan.unknown)} unknown applied migration(s)")
        return 2
    if plan.pending:
        out(f"{len(plan.pending)} pending migration(s)")
        return 1
    out("up to date")
    return 0


def new(directory: Path, name: str, now: datetime | None = None) -> Path:
    if not NAME_RE.match(name):
        raise MigrateError(f"migration name {name!r} must be snake_case: [a-z0-9_]+")
    directory.mkdir(parents=True, exist_ok=True)
    version = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    path = directory / f"{version}_{name}.sql"
    if path.exists() or any(directory.glob(f"{version}_*.sql")):
        raise MigrateError(f"a migration with version {version} already exists; retry in 1s")
    path.write_text(
        f"-- {name.replace('_', ' ')}\n--\n-- Why: (explain the change for the next reader)\n\n"
    )
    return path


def repair(url: str, directory: Path, version: str, status_: str, out: Out = print) -> None:
    """Mark a version applied (history row, statements NULL: not checked) or reverted (row
    deleted), without running anything."""
    if status_ not in ("applied", "reverted"):
        raise UsageError("--status must be applied or reverted")
    if not VERSION_RE.match(version):
        raise UsageError(f"{version!r} is not a migration version: give the 14-digit timestamp"
                         " a file name starts with (see `jobsdb migrate status`)")
    files = {m.version: m for m in load_dir(directory)} if directory.is_dir() else {}
    name = files[version].name if version in files else None
    with psycopg.connect(url, autocommit=True) as conn:
        _acquire_lock(conn, 60)
        try:
            applied = read_history(conn)
            if version not in files and version not in applied:
                raise UsageError(
                    f"version {version} is neither a file in {directory} nor in the database's"
                    " migration history: check the number with `jobsdb migrate status`")
            ensure_history(conn)
            if status_ == "applied":
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name)"
                    " values (%s, %s) on conflict (version) do nothing",
                    (version, name),
                )
            else:
                conn.execute(
                    "delete from supabase_migrations.schema_migrations where version = %s",
                    (version,),
                )
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    out(f"marked {version} {status_}")


def baseline(
    url: str, directory: Path, version: str | None = None, out: Out = print
) -> list[Migration]:
    """Record migrations up to `version` (default: all) as applied without running them, for a
    database that already has their objects. Rows carry the statements, so later edits are
    detected."""
    migrations = [m for m in load_dir(directory) if version is None or m.version <= version]
    with psycopg.connect(url, autocommit=True) as conn:
        _acquire_lock(conn, 60)
        try:
            ensure_history(conn)
            done = []
            with conn.transaction():
                for m in migrations:
                    cur = conn.execute(
                        "insert into supabase_migrations.schema_migrations"
                        " (version, name, statements) values (%s, %s, %s)"
                        " on conflict (version) do nothing",
                        (m.version, m.name, m.statements),
                    )
                    if cur.rowcount:
                        done.append(m)
                        out(f"baselined {m.filename}")
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    return done
