"""jobsdb's releases: the ones the toolkit carries, the one a database holds, the steps between.

The release files live in releases/ (installed with the toolkit as jobsdb/release_files):

  jobsdb--<R>.sql       the install of release R, into a database without jobsdb
  jobsdb--<A>--<B>.sql  a step from release A to release B: an upgrade when B is newer, a way
                        back when B is older. A may be `pre-1.0`: a database built from the
                        migrations/ history that came before 1.0.0.

They are built from the source (sql/, policies/, functions/ and the hand-written step files in
releases/steps/) by `jobsdb release build` (jobsdb.release_build). Each starts with a marker
line saying what it is (`-- jobsdb release: upgrade 1.0.0 to 1.1.0`), which is how a project's
migration files and a database's migration history are told to be jobsdb's. A database says
which release it holds with jobs_private.installed_release() (absent before 1.0.0).

This module needs nothing but the release files and psycopg: `jobsdb migrate`, `jobsdb install`
and `jobsdb doctor` use it from an installed toolkit.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psycopg

from jobsdb.paths import releases_dir

PRE = "pre-1.0"  # a database built from the migrations/ history before 1.0.0
VERSION_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
FILE_RE = re.compile(r"^jobsdb--(?P<a>[0-9.]+|pre-1\.0)(--(?P<b>[0-9.]+))?\.sql$")
MARKER_RE = re.compile(
    r"^-- jobsdb release: (?:install (?P<to>\S+)|(?P<kind>upgrade|downgrade) (?P<from>\S+)"
    r" to (?P<to2>\S+))$"
)
NO_TX_MARK = "-- jobsdb:no-transaction"


class ReleaseError(Exception):
    """Something wrong with the release files themselves (a broken install of the toolkit)."""


def is_version(text: str) -> bool:
    return text == PRE or bool(VERSION_RE.match(text))


def key(version: str) -> tuple[int, ...]:
    """Sort key of a release: pre-1.0 first, then by major, minor, patch."""
    if version == PRE:
        return (-1,)
    m = VERSION_RE.match(version)
    if not m:
        raise ValueError(f"{version!r} is not a release (MAJOR.MINOR.PATCH, or {PRE})")
    return tuple(int(g) for g in m.groups())


@dataclass(frozen=True)
class Marker:
    kind: str  # install | upgrade | downgrade
    from_: str | None
    to: str

    def line(self) -> str:
        if self.kind == "install":
            return f"-- jobsdb release: install {self.to}"
        return f"-- jobsdb release: {self.kind} {self.from_} to {self.to}"

    @property
    def migration_name(self) -> str:
        """The <name> of the <version>_<name>.sql migration file this becomes in a project."""
        def snake(v: str) -> str:
            return v.replace(".", "_").replace("-", "_")
        if self.kind == "install":
            return f"jobsdb_{snake(self.to)}"
        return f"jobsdb_{snake(self.from_ or '')}_to_{snake(self.to)}"

    def describe(self) -> str:
        if self.kind == "install":
            return f"jobsdb {self.to} (install)"
        return f"jobsdb {self.from_} -> {self.to} ({self.kind})"


def marker_of(text: str) -> Marker | None:
    """The release marker of a file's text (its first line, or its second after the
    no-transaction mark), or None when it is not a jobsdb release file."""
    lines = text.split("\n", 2)[:2]
    if lines and lines[0].strip() == NO_TX_MARK:
        lines = lines[1:]
    m = MARKER_RE.match(lines[0].rstrip()) if lines else None
    if not m:
        return None
    if m.group("to"):
        return Marker("install", None, m.group("to"))
    return Marker(m.group("kind"), m.group("from"), m.group("to2"))


def marker_of_statements(statements: list[str] | None) -> Marker | None:
    """The marker of a migration history row (its first statement starts with the file)."""
    return marker_of(statements[0]) if statements else None


@dataclass(frozen=True)
class ReleaseFile:
    path: Path
    marker: Marker

    @cached_property
    def text(self) -> str:
        return self.path.read_text()

    @property
    def from_(self) -> str | None:
        return self.marker.from_

    @property
    def to(self) -> str:
        return self.marker.to


def file_name(marker: Marker) -> str:
    if marker.kind == "install":
        return f"jobsdb--{marker.to}.sql"
    return f"jobsdb--{marker.from_}--{marker.to}.sql"


def carried(directory: Path | None = None) -> list[ReleaseFile]:
    """Every release file in `directory` (default: the toolkit's), checked against its name."""
    directory = directory or releases_dir()
    out = []
    for p in sorted(directory.glob("jobsdb--*.sql")):
        m = FILE_RE.match(p.name)
        if not m or not is_version(m.group("a")) or (m.group("b") and not is_version(m.group("b"))):
            raise ReleaseError(f"{p}: not a release file name (jobsdb--R.sql, jobsdb--A--B.sql)")
        with p.open() as f:
            head = f.readline() + f.readline()
        marker = marker_of(head)
        a, b = m.group("a"), m.group("b")
        expected = (Marker("install", None, a) if b is None else
                    Marker("upgrade" if key(b) > key(a) else "downgrade", a, b))
        if marker != expected:
            raise ReleaseError(f"{p}: its first line should be `{expected.line()}`")
        out.append(ReleaseFile(p, marker))
    return out


def latest(directory: Path | None = None) -> str:
    """The newest release the toolkit carries (e.g. '1.0.0')."""
    installs = [f.to for f in carried(directory) if f.marker.kind == "install"]
    if not installs:
        raise ReleaseError(f"no release in {directory or releases_dir()} (jobsdb--R.sql)")
    return max(installs, key=key)


def find(marker: Marker, directory: Path | None = None) -> ReleaseFile | None:
    p = (directory or releases_dir()) / file_name(marker)
    return ReleaseFile(p, marker) if p.is_file() else None


def path(from_: str | None, to: str, files: list[ReleaseFile]) -> list[ReleaseFile] | None:
    """The files that take a database from release `from_` (None: no jobsdb) to `to`: the
    install, or the fewest steps; [] when already there; None when no way is shipped."""
    if from_ == to:
        return []
    if from_ is None:
        return [f for f in files if f.marker.kind == "install" and f.to == to][:1] or None
    steps = [f for f in files if f.marker.kind != "install"]
    seen = {from_: []}
    todo = deque([from_])
    while todo:
        here = todo.popleft()
        # prefer going the right way: upgrades when going up, ways back when going down
        for f in sorted((s for s in steps if s.from_ == here),
                        key=lambda s: (s.marker.kind != ("upgrade" if key(to) > key(here)
                                                         else "downgrade"), key(s.to))):
            if f.to in seen:
                continue
            seen[f.to] = [*seen[here], f]
            if f.to == to:
                return seen[f.to]
            todo.append(f.to)
    return None


def installed(conn: psycopg.Connection) -> str | None:
    """The release the database holds: jobs_private.installed_release(); `pre-1.0` for a
    database with jobsdb's objects but no such function (the migrations before 1.0.0); None
    when jobsdb is not there."""
    has_fn, has_jobs = conn.execute(
        "select pg_catalog.to_regprocedure('jobs_private.installed_release()') is not null,"
        " pg_catalog.to_regclass('public.jobs') is not null"
        " and pg_catalog.to_regnamespace('jobs_private') is not null"
    ).fetchone()
    if has_fn:
        row = conn.execute("select jobs_private.installed_release()").fetchone()
        return row[0] if row else None
    return PRE if has_jobs else None
