"""`jobsdb migrate` (without --dir): jobsdb's own releases in a database whose migration history
may hold a project's own migrations too.

What the database holds is read from the database (jobsdb.releases.installed): a release,
`pre-1.0` (built from migrations/, the history before 1.0.0), or nothing. The files that take it
to the target (the newest release the toolkit carries, or --release) are applied like any
migration: one transaction per file, its history row in supabase_migrations.schema_migrations,
under the migration lock and the lock and statement timeouts of `jobsdb migrate --dir`. Their
versions are fresh timestamps, later than every row already there, as `jobsdb install` names
them in a project.

The history rows are sorted out by content: jobsdb's release files (their first statement is
the release marker) and migrations/ files are checked against the files the toolkit carries
(an edited one is refused); every other row is the project's own and left alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from jobsdb import migrate, releases
from jobsdb.errors import NOT_SUPABASE, PENDING, UserError
from jobsdb.migrate import Applied, MigrateError, Migration
from jobsdb.paths import migrations_dir, releases_dir
from jobsdb.releases import PRE, ReleaseFile

Out = migrate.Out
TS = "%Y%m%d%H%M%S"


class NotSupabaseError(UserError):
    exit_code = NOT_SUPABASE


NOT_SUPABASE_MESSAGE = (
    "this database is not a Supabase project (no auth.users): jobsdb needs Supabase's auth"
    " schema and roles; for a scratch database with a stand-in for them run `jobsdb db scratch`"
    " (it prints the URL to migrate)"
)


@dataclass
class State:
    holds: str | None  # releases.installed()
    history: dict[str, Applied]
    package: list[tuple[Applied, releases.Marker]] = field(default_factory=list)
    pre: list[Applied] = field(default_factory=list)  # rows of migrations/ files
    app: list[Applied] = field(default_factory=list)  # the project's own
    changed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    pending_history: list[Migration] = field(default_factory=list)


def release_migration(f: ReleaseFile, version: str) -> Migration:
    from jobsdb import sqlsplit

    return Migration(version=version, name=f.marker.migration_name, path=f.path,
                     statements=sqlsplit.split(f.text),
                     no_transaction=f.text.startswith(releases.NO_TX_MARK))


def read_state(conn: psycopg.Connection, rdir: Path, mdir: Path) -> State:
    state = State(releases.installed(conn), migrate.read_history(conn))
    history_files = {m.version: m for m in migrate.load_dir(mdir)} if mdir.is_dir() else {}
    carried = {f.marker: f for f in releases.carried(rdir)}
    for a in state.history.values():
        marker = releases.marker_of_statements(a.statements)
        if marker is not None:
            state.package.append((a, marker))
            f = carried.get(marker)
            name = f"{a.version}_{a.name or '?'}"
            if f is None:
                state.unknown.append(f"{name} ({marker.describe()})")
            elif a.statements != release_migration(f, a.version).statements:
                state.changed.append(f"{name} ({marker.describe()})")
        elif a.version in history_files and (a.name in (None, history_files[a.version].name)):
            state.pre.append(a)
            if a.statements and a.statements != history_files[a.version].statements:
                state.changed.append(f"{history_files[a.version].filename} (jobsdb before 1.0.0)")
        else:
            state.app.append(a)
    if state.holds == PRE:
        state.pending_history = [m for v, m in sorted(history_files.items())
                                 if v not in state.history]
    return state


def _refuse_changed(state: State) -> None:
    if state.changed:
        raise MigrateError(
            f"jobsdb's applied migration(s) differ from the files this toolkit carries:"
            f" {', '.join(state.changed)}. jobsdb's files are never edited: restore them (the"
            " history row keeps what ran), and make changes in a migration of the project's own")
    if state.unknown:
        raise MigrateError(
            f"the database's history has jobsdb file(s) this toolkit does not carry:"
            f" {', '.join(state.unknown)}: use the jobsdb that wrote them (or a newer one)")


def plan(state: State, target: str, files: list[ReleaseFile]) -> list[ReleaseFile]:
    way = releases.path(state.holds, target, files)
    if way is None:
        holds = "no jobsdb" if state.holds is None else f"jobsdb {state.holds}"
        raise MigrateError(
            f"this toolkit has no way from {holds} to jobsdb {target}"
            + (": going back needs a way-back step, which it does not carry"
               if state.holds and state.holds != PRE
               and releases.key(target) < releases.key(state.holds) else "")
            + " (docs/operators.md, \"Going back\")")
    return way


def next_versions(taken: list[str], n: int, now: datetime | None = None) -> list[str]:
    """n migration versions (UTC timestamps), each later than every version in `taken` and not
    before now: what `jobsdb install` writes and `jobsdb migrate` records."""
    start = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    newest = max((datetime.strptime(v, TS) for v in taken if migrate.VERSION_RE.match(v)),
                 default=None)
    if newest is not None and newest >= start:
        start = newest + timedelta(seconds=1)
    return [(start + timedelta(seconds=i)).strftime(TS) for i in range(n)]


def _check_supabase(conn: psycopg.Connection) -> None:
    row = conn.execute("select pg_catalog.to_regclass('auth.users') is not null").fetchone()
    if not (row and row[0]):
        raise NotSupabaseError(NOT_SUPABASE_MESSAGE)


def up(
    url: str,
    *,
    target: str | None = None,
    dry_run: bool = False,
    lock_timeout: str | None = None,
    statement_timeout: str | None = None,
    wait: float | None = None,
    rdir: Path | None = None,
    mdir: Path | None = None,
    out: Out = print,
) -> list[Migration]:
    """Bring jobsdb in the database to `target` (default: the newest release carried)."""
    rdir, mdir = rdir or releases_dir(), mdir or migrations_dir()
    lock_timeout, statement_timeout, wait = migrate.settings(
        lock_timeout, statement_timeout, wait, dry_run)
    files = releases.carried(rdir)
    target = target or releases.latest(rdir)
    if not any(f.to == target for f in files):
        raise MigrateError(f"this toolkit does not carry jobsdb {target} (it carries"
                           f" {', '.join(sorted({f.to for f in files}, key=releases.key))})")
    with psycopg.connect(url, autocommit=True) as conn:
        if not dry_run:
            migrate._acquire_lock(conn, wait)
        try:
            state = read_state(conn, rdir, mdir)
            if state.holds is None:
                _check_supabase(conn)
            _refuse_changed(state)
            todo = list(state.pending_history)
            way = plan(state, target, files)
            versions = next_versions(list(state.history), len(way))
            todo += [release_migration(f, v) for f, v in zip(way, versions, strict=True)]
            if dry_run:
                p = migrate.Plan(todo, state.history, todo, [], [], [])
                migrate.dry_run_plan(conn, p, lock_timeout, statement_timeout, out)
                return todo
            if state.holds not in (None, PRE) and not any(
                    m.to == state.holds for _, m in state.package):
                out(f"note: the database holds jobsdb {state.holds}, but its migration history"
                    " has no row for it (removed with `jobsdb migrate repair`?); nothing is run"
                    " again for it")
            if not todo:
                out(f"jobsdb {target} is installed: up to date")
            migrate.ensure_history(conn)
            for m in todo:
                t0 = time.monotonic()
                migrate.apply_one(conn, m, lock_timeout, statement_timeout)
                out(f"applied {m.version}_{m.name} ({time.monotonic() - t0:.2f}s)")
            if todo:
                holds = releases.installed(conn)
                if holds != target:
                    raise MigrateError(f"after the migration the database holds jobsdb {holds},"
                                       f" not {target}: the release files are broken")
            return todo
        finally:
            if not dry_run and not conn.closed:
                conn.execute("select pg_advisory_unlock(%s)", (migrate.LOCK_KEY,))


def status(url: str, *, target: str | None = None, rdir: Path | None = None,
           mdir: Path | None = None, out: Out = print) -> int:
    """jobsdb's state in the database, against `target` (default: the newest release carried).
    0 there, 1 something to apply, 2 edited or unknown jobsdb files in the history."""
    rdir, mdir = rdir or releases_dir(), mdir or migrations_dir()
    files = releases.carried(rdir)
    newest = target or releases.latest(rdir)
    with psycopg.connect(url, autocommit=True) as conn:
        state = read_state(conn, rdir, mdir)
    holds = {None: "no jobsdb", PRE: "jobsdb from before 1.0.0 (pre-1.0)"}.get(
        state.holds, f"jobsdb {state.holds}")
    out(f"the database holds {holds}; "
        + (f"wanted: jobsdb {newest}" if target else f"this toolkit's newest release is {newest}"))
    if state.pre:
        vs = sorted(a.version for a in state.pre)
        out(f"{'applied':8} {len(vs)} migration(s) of jobsdb before 1.0.0 ({vs[0]} .. {vs[-1]})")
    for a, marker in sorted(state.package, key=lambda x: x[0].version):
        tag = "CHANGED" if any(c.startswith(f"{a.version}_") for c in state.changed) else (
            "UNKNOWN" if any(u.startswith(f"{a.version}_") for u in state.unknown) else "applied")
        out(f"{tag:8} {a.version}_{a.name or '?'}: {marker.describe()}")
    for c in state.changed:
        if "(jobsdb before 1.0.0)" in c:
            out(f"{'CHANGED':8} {c}")
    if state.app:
        out(f"{len(state.app)} migration(s) of the project's own in the history: not jobsdb's,"
            " left alone")
    if state.changed or state.unknown:
        out(f"{len(state.changed)} changed, {len(state.unknown)} unknown jobsdb file(s)")
        return 2
    pending = [m.filename for m in state.pending_history]
    way = releases.path(state.holds, newest, files)
    if way is None:
        out(f"no way from {holds} to jobsdb {newest} is shipped")
        return 1
    for m in pending:
        out(f"{'pending':8} {m} (jobsdb before 1.0.0)")
    for f in way:
        out(f"{'pending':8} {f.marker.describe()}")
    if pending or way:
        out(f"{len(pending) + len(way)} pending: `jobsdb migrate` applies them")
        return 1
    out("up to date")
    return 0


def require_newest(conn: psycopg.Connection, newest: str) -> str:
    """For `jobsdb test --url`: the release the database holds, which must be `newest`."""
    holds = releases.installed(conn)
    if holds != newest:
        what = {None: "no jobsdb", PRE: "jobsdb from before 1.0.0"}.get(holds, f"jobsdb {holds}")
        raise UserError(
            f"refusing: this database holds {what} and the tests are jobsdb {newest}'s; bring"
            " it to that release first (`jobsdb install --into <project>/supabase/migrations`"
            " then `supabase db push`, or `jobsdb migrate --url URL`)", exit_code=PENDING)
    return holds
