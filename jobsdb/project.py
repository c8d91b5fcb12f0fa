"""`jobsdb install --into <project>/supabase/migrations`: jobsdb as migration files of a project.

The way `dbdev add` writes a package: each release file becomes a migration file of the
project, `<version>_jobsdb_<release>.sql`, byte for byte, with a version later than every file
already there (and not before now), so a plain `supabase db push` applies it after the project's
own migrations (the CLI refuses files older than the last one applied without --include-all).

What the project has is read from the directory: jobsdb's files there (their first line is the
release marker; each must equal the file the toolkit carries, byte for byte), and, for a project
built from jobsdb's repository before 1.0.0, the migrations/ files (all of them, unchanged).
The last of jobsdb's files in version order says the release the project is at; what takes it
to the target is written, and nothing when it is there already.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from jobsdb import migrate, releases
from jobsdb.errors import MIGRATION, MissingFileError, UserError
from jobsdb.package_migrate import next_versions
from jobsdb.paths import migrations_dir, releases_dir
from jobsdb.releases import PRE, ReleaseFile


class InstallError(UserError):
    exit_code = MIGRATION


@dataclass
class Project:
    directory: Path
    versions: list[str] = field(default_factory=list)  # every migration version there
    package: list[tuple[str, ReleaseFile]] = field(default_factory=list)  # (file name, release)
    history: list[str] = field(default_factory=list)  # migrations/ files there

    @property
    def release(self) -> str | None:
        """The release the project's files end at; pre-1.0 with only the old history."""
        if self.package:
            return self.package[-1][1].to
        return PRE if self.history else None


def read(directory: Path, rdir: Path | None = None, mdir: Path | None = None) -> Project:
    if not directory.is_dir():
        raise MissingFileError(f"{directory} does not exist: name the project's migrations"
                               " directory (<project>/supabase/migrations)")
    rdir, mdir = rdir or releases_dir(), mdir or migrations_dir()
    carried = {f.marker: f for f in releases.carried(rdir)}
    old = {p.name: p for p in mdir.glob("*.sql")} if mdir.is_dir() else {}
    project = Project(directory)
    for p in sorted(directory.glob("*.sql")):
        m = migrate.FILE_RE.match(p.name)
        if not m:
            continue
        project.versions.append(m.group(1))
        text = p.read_text()
        marker = releases.marker_of(text)
        if marker is not None:
            f = carried.get(marker)
            if f is None:
                raise InstallError(
                    f"{p.name} is {marker.describe()}, which this toolkit does not carry: use the"
                    " jobsdb that wrote it, or a newer one")
            if f.text != text:
                raise InstallError(
                    f"{p.name} is jobsdb's ({marker.describe()}) but differs from the file this"
                    " toolkit carries: jobsdb's files are never edited; restore it (`jobsdb"
                    " release show` prints it) and make changes in a migration of the project's"
                    " own")
            project.package.append((p.name, f))
        elif p.name in old:
            if old[p.name].read_text() != text:
                raise InstallError(
                    f"{p.name} is one of jobsdb's migrations before 1.0.0 but differs from it:"
                    " restore it (they are history, never edited)")
            project.history.append(p.name)
    if project.history and not project.package:
        missing = sorted(set(old) - set(project.history))
        if missing:
            raise InstallError(
                f"{directory} has jobsdb's migrations before 1.0.0 only in part ({missing[0]}"
                f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''} missing): the"
                " upgrade to 1.0.0 starts from the last of them; copy the missing ones from"
                " jobsdb's migrations/ and apply them first")
    return project


def install(directory: Path, *, target: str | None = None, link: bool = False,
            rdir: Path | None = None, mdir: Path | None = None, out=print) -> list[Path]:
    """Write the files that take the project to `target` (default: the newest release the
    toolkit carries); return the paths written (none when it is there already)."""
    rdir = rdir or releases_dir()
    files = releases.carried(rdir)
    target = target or releases.latest(rdir)
    if not any(f.to == target for f in files):
        raise InstallError(f"this toolkit does not carry jobsdb {target}")
    project = read(directory, rdir, mdir)
    have = project.release
    way = releases.path(have, target, files)
    label = {None: "no jobsdb", PRE: "jobsdb before 1.0.0"}.get(have, f"jobsdb {have}")
    if way is None:
        raise InstallError(f"this toolkit has no way from {label} to jobsdb {target}"
                           " (docs/operators.md, \"Going back\")")
    if not way:
        last = project.package[-1][0] if project.package else ""
        out(f"{directory}: jobsdb {target} already ({last}); nothing written")
        return []
    written = []
    for f, version in zip(way, next_versions(project.versions, len(way)), strict=True):
        dest = directory / f"{version}_{f.marker.migration_name}.sql"
        if link:
            dest.symlink_to(os.path.relpath(f.path, directory))
        else:
            dest.write_text(f.text)
        written.append(dest)
        out(f"wrote {dest} ({f.marker.describe()})")
    return written
