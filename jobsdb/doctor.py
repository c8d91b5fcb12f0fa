"""`jobsdb doctor`: the DBA's read-only check of a live project (docs/operators.md, "Checking a
live project: jobsdb doctor").

Each check is a named query of jobsdb/sql/doctor.sql that answers (kind, message) rows; the
release and migration checks compare the database with what this toolkit carries. Everything
runs in one read-only transaction (repeatable read: one snapshot for every check). A finding is
one line on stdout, `check: what is wrong: what to do`; notes and the summary go to stderr.
Exit code 0 only when there is no finding, else FINDINGS.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from jobsdb import errors, migrate, queries, urls
from jobsdb.paths import migrations_dir

FINDINGS = errors.DOCTOR_FINDINGS

# check name -> its queries in jobsdb/sql/doctor.sql, in the order they are reported
SQL_CHECKS = {
    "pg_cron": ("pg_cron",),
    "realtime": ("realtime",),
    "metrics": ("metrics",),
    "leases": ("leases",),
    "stuck": ("stuck",),
    "queue": ("queue",),
    "failures": ("failures",),
    "workers": ("workers",),
    "security": ("security_functions", "security_tables", "security_views"),
    "references": ("references",),
    "history": ("history",),
}
CHECKS = ("release", "migrations", *SQL_CHECKS)

# How a project moves to a newer release of the package.
UPGRADE_HOW = ("`jobsdb install --into <project>/supabase/migrations`, then `supabase db push`"
               " (or `jobsdb migrate --url URL`)")
APPLY_HOW = "`jobsdb migrate --url URL` (or `supabase db push`)"

THRESHOLD_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(ms|s|min|h|d)\s*$")


@dataclass(frozen=True)
class Limits:
    """The thresholds (documented defaults; the command's flags change them). Durations are
    PostgreSQL interval texts with a unit: 90s, 5min, 2h, 1d."""

    lease_grace: str = "5min"
    max_overrun: str = "15min"
    max_queue_age: str = "15min"
    max_failure_rate: str = "25"  # percent of the jobs finished in the last hour
    min_finished: str = "10"  # jobs finished in the last hour before a rate counts
    max_rollup_lag: str = "10min"  # behind the newest minute rolled up (whole hours: + 2h)
    max_sealed_partitions: str = "16"  # partitions of jobs besides the queue's
    exposed_schemas: str = "public, graphql_public"


@dataclass
class Report:
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: int = 0

    @property
    def exit_code(self) -> int:
        return FINDINGS if self.findings else errors.OK


def threshold(value: str) -> str:
    """A duration flag: a number with a unit (ms, s, min, h, d)."""
    if not THRESHOLD_RE.match(value):
        raise ValueError(f"{value!r} is not a duration: use e.g. 90s, 5min, 2h, 1d")
    return value.strip()


def newest_release() -> str | None:
    """The newest release this toolkit carries (jobsdb.releases.latest()); None while it
    carries none, i.e. the migration history before 1.0.0 is the newest it knows."""
    try:
        from jobsdb import releases
    except ImportError:
        return None
    return releases.latest()


def statements_md5(statements: list[str]) -> str:
    """The digest jobs_private.migration_history() gives a history row with these statements."""
    return hashlib.md5("\x1e".join(statements).encode()).hexdigest()


def _version_key(v: str) -> tuple[int, ...] | None:
    return tuple(int(p) for p in v.split(".")) if re.fullmatch(r"\d+(\.\d+)*", v) else None


def release_findings(installed: str | None, latest: str | None) -> list[str]:
    if installed is None:
        if latest is None:
            return []  # the history before 1.0.0 is the newest this toolkit knows
        return [f"this database follows the migration history from before 1.0.0 (no installed"
                f" release): upgrade to release {latest}, the newest this toolkit carries:"
                f" {UPGRADE_HOW}"]
    if latest is None or installed == latest:
        return []
    have, newest = _version_key(installed), _version_key(latest)
    if have is not None and newest is not None and have > newest:
        return [f"this database has release {installed}, newer than {latest}, the newest this"
                " toolkit knows: run the doctor of a jobsdb that carries it (pip install -U"
                " jobsdb)"]
    return [f"release {installed} is installed and {latest} is available: upgrade: {UPGRADE_HOW}"]


def migration_findings(history: list[tuple[str, str | None, str | None]],
                       files: list[migrate.Migration], *, on_release: bool) -> list[str]:
    """Changed package migrations (always), and pending ones while the database follows the
    history before releases (after an upgrade to a release, the old files are history)."""
    applied = {version: digest for version, _name, digest in history}
    out = [
        f"applied migration {m.filename} differs from the package's file (an edited file, or"
        " another jobsdb's): the database may not be what this package expects; compare with"
        " `jobsdb migrate status --url URL`, and restore the file if it was edited"
        for m in files
        if applied.get(m.version) is not None and applied[m.version] != statements_md5(m.statements)
    ]
    pending = [m for m in files if m.version not in applied]
    if pending and not on_release:
        names = ", ".join(m.filename for m in pending[:3])
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        out.append(f"{len(pending)} migration(s) of the package are not applied ({names}{more}):"
                   f" apply them: {APPLY_HOW}")
    return out


def _leave_out_app_tables(conn: psycopg.Connection) -> None:
    """The spec's tables the project had before jobsdb (jobs_private.app_tables) are the
    project's: they leave the package's tables the checks judge (and an app table's foreign key
    to jobs is then reported like any app table's)."""
    has = conn.execute("select to_regclass('jobs_private.app_tables') is not null").fetchone()
    if not (has and has[0]):
        return
    own = {r[0].removeprefix("public.") for r in
           conn.execute("select table_name from jobs_private.app_tables")}
    if own:
        tables = conn.execute("select current_setting('jobsdb_doctor.public_tables')").fetchone()
        keep = [t for t in tables[0].split(",") if t not in own]
        conn.execute("select set_config('jobsdb_doctor.public_tables', %s, true)",
                     (",".join(keep),))


def _rollup_state(conn: psycopg.Connection, q: dict[str, str]) -> None:
    """Where the metrics roll-up stands, for the metrics check: its newest minute, or its newest
    whole hour on a release whose minutes jobs_doctor may not read (before 1.13.0)."""
    unit = "minutes" if conn.execute(q["rollup_unit"]).fetchone()[0] else "hours"
    through = conn.execute(q[f"rollup_{unit}"]).fetchone()[0]
    for key, value in (("rollup_unit", unit),
                       ("rolled_up_through", "" if through is None else through.isoformat())):
        conn.execute("select set_config(%s, %s, true)", (f"jobsdb_doctor.{key}", value))


def check(conn: psycopg.Connection, limits: Limits = Limits(), *,
          latest: str | None = None, directory: Path | None = None) -> Report:
    """Run every check inside the caller's (read-only) transaction."""
    q = queries.load("doctor.sql")
    conn.execute(q["settings"])
    for key, value in asdict(limits).items():
        conn.execute("select set_config(%s, %s, true)", (f"jobsdb_doctor.{key}", value))
    installed, missing_functions, has_release, missing_privileges = conn.execute(
        q["package"]).fetchone()
    report = Report(checks=1)
    if not installed:
        report.findings.append(
            f"package: jobsdb is not installed in this database (no jobs_private, no"
            f" public.jobs): install it: {APPLY_HOW}")
        return report
    if missing_functions:
        report.findings.append(
            f"package: this database's jobsdb predates the doctor (no"
            f" {', '.join(missing_functions)}): apply the package's pending migrations:"
            f" {APPLY_HOW}")
        return report
    if missing_privileges:
        who = conn.execute("select current_user").fetchone()[0]
        raise errors.PrivilegeError(
            f"role {who} may not read the package's health (it lacks"
            f" {', '.join(missing_privileges)}): as the owner, `grant jobs_doctor to {who};`")
    _leave_out_app_tables(conn)
    release = conn.execute(q["installed_release"]).fetchone()[0] if has_release else None
    report.checks = len(CHECKS)
    report.findings += [f"release: {m}" for m in release_findings(release, latest)]
    history = conn.execute(q["migration_history"]).fetchall()
    files = migrate.load_dir(directory or migrations_dir())
    report.findings += [f"migrations: {m}" for m in
                        migration_findings(history, files, on_release=release is not None)]
    _rollup_state(conn, q)
    for name, parts in SQL_CHECKS.items():
        for part in parts:
            for kind, message in conn.execute(q[part]).fetchall():
                (report.findings if kind == "finding" else report.notes).append(
                    f"{name}: {message}")
    return report


def main(url: str, limits: Limits = Limits(), *, out: Callable[[str], None] = print,
         err: Callable[[str], None] | None = None) -> int:
    err = err or (lambda s: print(s, file=sys.stderr))
    err(f"jobsdb doctor: {urls.describe(url)}, read-only")
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        report = check(conn, limits, latest=newest_release())
    for line in report.findings:
        out(line)
    for line in report.notes:
        err(f"note: {line}")
    if report.findings:
        err(f"{len(report.findings)} finding(s) in {report.checks} check(s)")
    else:
        err(f"healthy: {report.checks} checks, no finding")
    return report.exit_code
