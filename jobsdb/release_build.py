"""`jobsdb release build | check | cut | new | way-back`: release files derived from the source.

The source is the current state (sql/, policies/, functions/, in the order of sql/load.txt,
each function body typed once) and one hand-written step file per release step,
releases/steps/<A>--<B>.sql: only the DDL a live database needs, and lines

    -- jobsdb:apply <file>                 the source file, again (functions: create or replace)
    -- jobsdb:apply <file> comments        only its `comment on` statements
    -- jobsdb:apply <file> from <release>  the file as it was in that release's install

The build writes, for the newest release R (the newest `to` of the step files):
releases/jobsdb--R.sql (the install), jobsdb--A--R.sql for each step into R, and
jobsdb--R--B.sql for each way back out of R. Every file starts with its marker line and a guard
(jobsdb/sql/release.sql), and ends by re-creating jobs_private.installed_release() as of its
target. A section `-- jobsdb:unless-app-table T` ... `-- jobsdb:end` of the source runs only
where jobsdb created T (the project's own tables are left alone). The install marks each source
file with `-- jobsdb:source <file>`, so a later step can take a file "from" an older release.

A release is cut (`jobsdb release cut`) by recording the sha256 of its files in
releases/SHA256SUMS; from then on they never change (`jobsdb release check`, and the test suite,
fail otherwise), and the next change to the source starts the next release (`jobsdb release new
X.Y.Z`). The first cut also freezes migrations/, the history before 1.0.0.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from jobsdb import migrate, queries, sqlsplit
from jobsdb.errors import UsageError, UserError
from jobsdb.releases import NO_TX_MARK, PRE, Marker, file_name, is_version, key
from jobsdb.schema import load_order

SOURCE_MARK = "-- jobsdb:source "
APPLY_RE = re.compile(
    r"^-- jobsdb:apply (?P<path>\S+)(?P<comments> comments)?(?: from (?P<release>\S+))?\s*$"
)
UNLESS_RE = re.compile(r"^-- jobsdb:unless-app-table (?P<table>public\.[a-z_]+)\s*$")
END_MARK = "-- jobsdb:end"
SUMS = "SHA256SUMS"
STEPS = "steps"
RELEASE_FUNCTION = "functions/private/installed_release.sql"
RELEASE_LITERAL = re.compile(r"select '(?P<release>[^']*)'::text")
CREATE_OR_REPLACE = re.compile(r"(?m)^create (function|trigger) ")
LEADING_COMMENTS = re.compile(r"^(\s*--[^\n]*\n)*\s*")


class BuildError(UserError):
    """The source or the release files are not in a state a release can be built from."""


# ---- source text: app-table sections, applying files again -----------------------------------

@dataclass
class Segment:
    table: str | None  # a `jobsdb:unless-app-table` section, else plain source
    text: str


def segments(text: str, where: str) -> list[Segment]:
    out: list[Segment] = []
    plain: list[str] = []
    section: list[str] | None = None
    table = None
    for n, line in enumerate(text.split("\n"), 1):
        m = UNLESS_RE.match(line)
        if m:
            if section is not None:
                raise BuildError(f"{where} line {n}: a jobsdb:unless-app-table section is open")
            out.append(Segment(None, "\n".join(plain)))
            plain, section, table = [], [], m.group("table")
        elif line.strip() == END_MARK:
            if section is None:
                raise BuildError(f"{where} line {n}: {END_MARK} without a section")
            out.append(Segment(table, "\n".join(section)))
            section, table = None, None
        elif section is not None:
            section.append(line)
        else:
            plain.append(line)
    if section is not None:
        raise BuildError(f"{where}: a jobsdb:unless-app-table section is not closed")
    out.append(Segment(None, "\n".join(plain)))
    return [s for s in out if s.table or s.text]


def _section_template() -> tuple[str, str]:
    body = queries.load("release.sql")["app_table_section"]
    body = LEADING_COMMENTS.sub("", body, count=1)
    before, after = body.split("__BODY__")
    return before, after


def render(segs: list[Segment]) -> str:
    before, after = _section_template()
    out = []
    for s in segs:
        if s.table is None:
            out.append(s.text)
        else:
            out.append(f"-- jobsdb:unless-app-table {s.table}\n"
                       f"{before.replace('__TABLE__', s.table)}{s.text.strip(chr(10))}"
                       f"{after}\n{END_MARK}")
    return "\n".join(out)


def unrender(text: str) -> str:
    """The source form of rendered text (app-table sections back to their directives)."""
    before, after = _section_template()
    pattern = re.compile(
        r"-- jobsdb:unless-app-table (?P<table>\S+)\n"
        + re.escape(before).replace("__TABLE__", r"(?P=table)") + r"(?P<body>.*?)"
        + re.escape(after) + "\n" + re.escape(END_MARK),
        re.DOTALL,
    )
    return pattern.sub(lambda m: f"-- jobsdb:unless-app-table {m.group('table')}\n"
                       f"{m.group('body')}\n{END_MARK}", text)


def source_form(segs: list[Segment]) -> str:
    """Segments back as source text, with their directives."""
    return "\n".join(s.text if s.table is None else
                     f"-- jobsdb:unless-app-table {s.table}\n{s.text.strip(chr(10))}\n{END_MARK}"
                     for s in segs)


def comments_only(text: str, where: str) -> str:
    """Only the `comment on` statements of source text (its app-table sections kept)."""
    out = []
    for seg in segments(text, where):
        stmts = [LEADING_COMMENTS.sub("", s, count=1) for s in sqlsplit.split(seg.text)]
        kept = "\n".join(f"{s};" for s in stmts if re.match(r"comment\s+on\s", s, re.I))
        if kept:
            out.append(Segment(seg.table, kept))
    return source_form(out)


def section_of(install_text: str, rel: str) -> str | None:
    """The source file `rel` as a release's install holds it (source form), or None."""
    lines = install_text.split("\n")
    try:
        start = lines.index(SOURCE_MARK + rel) + 1
    except ValueError:
        return None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(SOURCE_MARK)),
               len(lines))
    return unrender("\n".join(lines[start:end]).strip("\n")) + "\n"


def sections(install_text: str) -> dict[str, str]:
    names = [ln[len(SOURCE_MARK):] for ln in install_text.split("\n")
             if ln.startswith(SOURCE_MARK)]
    return {n: section_of(install_text, n) or "" for n in names}


# ---- the release tree ---------------------------------------------------------------------------

@dataclass
class Step:
    from_: str
    to: str
    path: Path

    @property
    def marker(self) -> Marker:
        return Marker("upgrade" if key(self.to) > key(self.from_) else "downgrade",
                      self.from_, self.to)


@dataclass
class Tree:
    root: Path
    steps: list[Step] = field(default_factory=list)

    @property
    def dir(self) -> Path:
        return self.root / "releases"

    @property
    def releases(self) -> list[str]:
        return sorted({s.to for s in self.steps if s.marker.kind == "upgrade"}, key=key)

    @property
    def newest(self) -> str:
        if not self.releases:
            raise BuildError(f"no release: {self.dir / STEPS} has no step file <A>--<B>.sql")
        return self.releases[-1]

    def install_path(self, release: str) -> Path:
        return self.dir / file_name(Marker("install", None, release))

    def files_of(self, release: str) -> list[Path]:
        """The release files that belong to `release` (frozen with it when it is cut)."""
        out = [self.install_path(release)]
        for s in self.steps:
            if (s.marker.kind == "upgrade" and s.to == release) or (
                    s.marker.kind == "downgrade" and s.from_ == release):
                out.append(self.dir / file_name(s.marker))
        return out


def load_tree(root: Path) -> Tree:
    tree = Tree(root)
    sdir = tree.dir / STEPS
    for p in sorted(sdir.glob("*.sql")) if sdir.is_dir() else []:
        parts = p.stem.split("--")
        if len(parts) != 2 or not all(is_version(v) for v in parts) or parts[1] == PRE \
                or parts[0] == parts[1]:
            raise BuildError(f"{p.relative_to(root)}: a step file is named <from>--<to>.sql"
                             f" (e.g. 1.0.0--1.1.0.sql; from may be {PRE})")
        tree.steps.append(Step(parts[0], parts[1], p))
    return tree


# ---- building ---------------------------------------------------------------------------------

def _guard(name: str, **values: str) -> str:
    text = queries.load("release.sql")[name]
    for k, v in values.items():
        text = text.replace(f"__{k.upper()}__", v)
    return text


def _last_migration(root: Path) -> str:
    found = migrate.load_dir(root / "migrations") if (root / "migrations").is_dir() else []
    if not found:
        raise BuildError("migrations/ is empty: the upgrade from pre-1.0 starts at its last file")
    return found[-1].version


def _source_release(root: Path) -> str:
    text = (root / RELEASE_FUNCTION).read_text()
    m = RELEASE_LITERAL.search(text)
    if not m:
        raise BuildError(f"{RELEASE_FUNCTION}: no `select 'X.Y.Z'::text` in its body")
    return m.group("release")


def install_text(root: Path, release: str) -> str:
    parts = [
        Marker("install", None, release).line(),
        "-- Generated by `jobsdb release build` from sql/load.txt (sql/, policies/, functions/):"
        " do not\n-- edit. It installs jobsdb into a database without it, in one transaction"
        " (docs/operators.md).",
        "",
        _guard("install_guard", to=release),
    ]
    for f in load_order(root):
        rel = f.relative_to(root).as_posix()
        parts += ["", SOURCE_MARK + rel, render(segments(f.read_text(), rel)).strip("\n")]
    return "\n".join(parts) + "\n"


def _file_as_of(tree: Tree, rel: str, release: str | None, where: str) -> str:
    """Source file `rel` now (release None), or as release `release`'s install holds it."""
    if release is None:
        p = tree.root / rel
        if not p.is_file():
            raise BuildError(f"{where}: {rel} does not exist")
        return p.read_text()
    install = tree.install_path(release)
    if not install.is_file():
        raise BuildError(f"{where}: {install.relative_to(tree.root)} does not exist")
    text = section_of(install.read_text(), rel)
    if text is None:
        raise BuildError(f"{where}: jobsdb {release}'s install has no {rel}")
    return text


def _apply(tree: Tree, rel: str, comments: bool, release: str | None, where: str) -> str:
    """A file applied again by a step, in source form: functions and triggers re-created with
    `create or replace`, or only the comments."""
    text = _file_as_of(tree, rel, release, where)
    if comments:
        return comments_only(text, rel).strip("\n")
    return CREATE_OR_REPLACE.sub(r"create or replace \1 ", text).strip("\n")


def step_text(tree: Tree, step: Step, newest: str) -> str:
    rel_step = step.path.relative_to(tree.root).as_posix()
    src = step.path.read_text()
    lines = src.split("\n")
    no_tx = bool(lines) and lines[0].strip() == NO_TX_MARK
    if no_tx:
        lines = lines[1:]
    head = ([NO_TX_MARK] if no_tx else []) + [
        step.marker.line(),
        f"-- Generated by `jobsdb release build` from {rel_step} and the source files it"
        " names:\n-- do not edit (docs/operators.md).",
        "",
        _guard("pre_release_guard", to=step.to, last_migration=_last_migration(tree.root))
        if step.from_ == PRE else _guard("step_guard", **{"from": step.from_, "to": step.to}),
    ]
    body: list[str] = []
    for n, line in enumerate(lines, 1):
        m = APPLY_RE.match(line)
        if not m:
            if line.startswith("-- jobsdb:apply"):
                raise BuildError(f"{rel_step} line {n}: not `-- jobsdb:apply <file> [comments]"
                                 " [from <release>]`")
            body.append(line)
            continue
        release = m.group("release")
        if release is not None and not is_version(release):
            raise BuildError(f"{rel_step} line {n}: {release!r} is not a release")
        body += [SOURCE_MARK + m.group("path") + (" comments" if m.group("comments") else "")
                 + (f" from {release}" if release else ""),
                 _apply(tree, m.group("path"), bool(m.group("comments")), release,
                        f"{rel_step} line {n}")]
    # last: the release the database now holds, as of the step's target
    target = None if step.to == newest else step.to
    body += ["", SOURCE_MARK + RELEASE_FUNCTION + (f" from {step.to}" if target else ""),
             _apply(tree, RELEASE_FUNCTION, False, target, rel_step)]
    own = render(segments("\n".join(body).strip("\n"), rel_step))
    return "\n".join([*head, "", own]) + "\n"


def _changed_functions(tree: Tree, step: Step, newest: str) -> list[str]:
    """Function files that differ between the step's two ends and that it does not apply."""
    ends = []
    for r in (step.from_, step.to):
        if r == PRE:
            return []
        if r == newest:
            ends.append({f.relative_to(tree.root).as_posix(): f.read_text()
                         for f in load_order(tree.root)})
        elif tree.install_path(r).is_file():
            ends.append(sections(tree.install_path(r).read_text()))
        else:
            return []
    a, b = ends
    changed = sorted(p for p in a.keys() & b.keys()
                     if p.startswith("functions/") and p != RELEASE_FUNCTION
                     and a[p].strip() != b[p].strip())
    applied = {m.group("path") for ln in step.path.read_text().split("\n")
               if (m := APPLY_RE.match(ln)) and not m.group("comments")}
    return [p for p in changed if p not in applied]


def build_newest(tree: Tree) -> dict[Path, str]:
    """The files of the newest release, as the source makes them."""
    newest = tree.newest
    have = _source_release(tree.root)
    if have != newest:
        raise BuildError(f"{RELEASE_FUNCTION} says {have!r} but the newest release in"
                         f" releases/steps/ is {newest}: make them agree (`jobsdb release new"
                         f" {have}` starts a release)")
    out = {tree.install_path(newest): install_text(tree.root, newest)}
    for s in tree.steps:
        if tree.dir / file_name(s.marker) in tree.files_of(newest):
            missing = _changed_functions(tree, s, newest)
            if missing:
                rel = s.path.relative_to(tree.root)
                via = f" from {s.to}" if s.marker.kind == "downgrade" else ""
                raise BuildError(
                    f"{rel} does not apply {', '.join(missing)}, changed between {s.from_} and"
                    f" {s.to}: add `-- jobsdb:apply <file>{via}` for each")
            out[tree.dir / file_name(s.marker)] = step_text(tree, s, newest)
    return out


# ---- frozen releases ----------------------------------------------------------------------------

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sums(tree: Tree) -> dict[str, str]:
    p = tree.dir / SUMS
    out = {}
    for n, line in enumerate(p.read_text().splitlines() if p.is_file() else [], 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            raise BuildError(f"releases/{SUMS} line {n}: not `<sha256>  <path>`")
        out[parts[1].strip()] = parts[0]
    return out


def is_cut(tree: Tree, release: str) -> bool:
    rel = tree.install_path(release).relative_to(tree.root).as_posix()
    return rel in read_sums(tree)


def check(tree: Tree) -> list[str]:
    """Every way the release files differ from what they must be; [] when all is well."""
    problems = []
    sums = read_sums(tree)
    for rel, digest in sums.items():
        p = tree.root / rel
        if not p.is_file():
            problems.append(f"{rel} was cut (releases/{SUMS}) and is gone")
        elif _sha(p) != digest:
            problems.append(f"{rel} was cut (releases/{SUMS}) and has changed since: restore it"
                            " (a cut release never changes)")
    newest = tree.newest
    try:
        built = build_newest(tree)
    except BuildError as e:
        return [*problems, str(e)]
    cut_newest = is_cut(tree, newest)
    for p, text in built.items():
        rel = p.relative_to(tree.root).as_posix()
        if not p.is_file():
            problems.append(f"{rel} is missing: run `jobsdb release build`")
        elif p.read_text() != text:
            problems.append(
                f"{rel} differs from what the source makes: "
                + (f"jobsdb {newest} is cut, so the change belongs to the next release"
                   f" (`jobsdb release new X.Y.Z`)" if cut_newest else
                   "run `jobsdb release build`"))
    known = {p for r in tree.releases for p in tree.files_of(r)}
    for p in sorted(tree.dir.glob("jobsdb--*.sql")):
        if p not in known:
            problems.append(f"{p.relative_to(tree.root)} belongs to no release step in"
                            " releases/steps/")
    for r in tree.releases[:-1]:
        for p in tree.files_of(r):
            rel = p.relative_to(tree.root).as_posix()
            if p.is_file() and rel not in sums:
                problems.append(f"{rel} belongs to jobsdb {r}, older than {newest}, and was"
                                f" never cut (releases/{SUMS})")
    if sums:
        for p in sorted((tree.root / "migrations").glob("*.sql")):
            rel = p.relative_to(tree.root).as_posix()
            if rel not in sums:
                problems.append(f"{rel} is new, but migrations/ is the history before 1.0.0:"
                                " a schema change is a release step now (docs/operators.md)")
    return problems


def build(tree: Tree, out=print) -> list[Path]:
    """Write the newest release's files where they differ; return the paths written."""
    newest = tree.newest
    built = build_newest(tree)
    cut_newest = is_cut(tree, newest)
    written = []
    for p, text in built.items():
        if p.is_file() and p.read_text() == text:
            continue
        if cut_newest:
            raise BuildError(f"jobsdb {newest} is cut and {p.relative_to(tree.root)} would"
                             " change: start the next release (`jobsdb release new X.Y.Z`)")
        p.write_text(text)
        written.append(p)
        out(f"wrote {p.relative_to(tree.root)}")
    if not written:
        out(f"jobsdb {newest}: the release files are up to date")
    return written


def cut(tree: Tree, out=print) -> list[str]:
    """Record the newest release's files (and, at the first cut, migrations/) as cut."""
    newest = tree.newest
    if is_cut(tree, newest):
        raise BuildError(f"jobsdb {newest} is cut already")
    problems = check(tree)
    if problems:
        raise BuildError(f"cannot cut jobsdb {newest}: {problems[0]}")
    sums = read_sums(tree)
    files = [p for p in tree.files_of(newest) if p.is_file()]
    if not sums:
        files += sorted((tree.root / "migrations").glob("*.sql"))
    lines = [f"{_sha(p)}  {p.relative_to(tree.root).as_posix()}" for p in files]
    path = tree.dir / SUMS
    head = ("# Files of the cut releases (and the history before 1.0.0): they never change."
            "\n# Written by `jobsdb release cut`; checked by `jobsdb release check`.\n")
    old = path.read_text() if path.is_file() else head
    path.write_text(old + "\n".join(lines) + "\n")
    out(f"cut jobsdb {newest}: {len(lines)} file(s) recorded in releases/{SUMS}")
    return lines


STEP_SKELETON = """\
-- jobsdb {from_} -> {to}: (say what this release changes, and why, for the next reader)
--
-- Only what a live database needs, in the order it must run: the DDL (safe on a busy jobs
-- table: docs/operators.md, "Making a release"), then every source file to apply again, e.g.
--   -- jobsdb:apply functions/worker/claim_jobs.sql
-- `jobsdb release build` makes releases/jobsdb--{from_}--{to}.sql from this file.
"""


def new(tree: Tree, version: str, out=print) -> Path:
    """Start the next release: its step file, and the release literal in the source."""
    newest = tree.newest
    if not is_version(version) or version == PRE:
        raise UsageError(f"{version!r} is not a release: give MAJOR.MINOR.PATCH, e.g. 1.1.0")
    if key(version) <= key(newest):
        raise UsageError(f"{version} is not newer than jobsdb {newest}")
    if not is_cut(tree, newest):
        raise BuildError(f"jobsdb {newest} is not cut yet: its files may still change; cut it"
                         " first (`jobsdb release cut`)")
    step = tree.dir / STEPS / f"{newest}--{version}.sql"
    step.write_text(STEP_SKELETON.format(from_=newest, to=version))
    f = tree.root / RELEASE_FUNCTION
    f.write_text(RELEASE_LITERAL.sub(f"select '{version}'::text", f.read_text(), count=1))
    out(f"wrote {step.relative_to(tree.root)} and set {RELEASE_FUNCTION} to {version}")
    build(load_tree(tree.root), out)
    return step


def _lines(text: str) -> list[str]:
    """A file's lines without blank ones: an install holds its app-table sections without the
    blank lines between them, which change nothing a step must undo."""
    return [line for line in text.split("\n") if line.strip()]


def way_back(tree: Tree, to: str, out=print) -> Path:
    """A step file from the newest release back to `to`, with every function file that differs
    taken from `to`'s install; the DDL to undo is left to the author (listed)."""
    newest = tree.newest
    if not is_version(to) or to == PRE or key(to) >= key(newest):
        raise UsageError(f"{to!r} is not a release older than jobsdb {newest}")
    install = tree.install_path(to)
    if not install.is_file():
        raise BuildError(f"{install.relative_to(tree.root)} does not exist")
    old = sections(install.read_text())
    now = {f.relative_to(tree.root).as_posix(): f.read_text() for f in load_order(tree.root)}
    changed = sorted(p for p in old.keys() & now.keys()
                     if p.startswith("functions/") and p != RELEASE_FUNCTION
                     and old[p].strip() != now[p].strip())
    new_files = sorted(p for p in now.keys() - old.keys())
    other = sorted(p for p in old.keys() & now.keys()
                   if not p.startswith("functions/") and _lines(old[p]) != _lines(now[p]))
    text = [f"-- jobsdb {newest} -> {to}: the way back, as a forward migration.", "--",
            "-- Undo here, first, what the upgrade's DDL did (drop what it added, restore what it",
            "-- changed), keeping the data the older release can still use."]
    if new_files or other:
        text.append("-- Files new since " + to + ": " + (", ".join(new_files) or "none") + ".")
        text.append("-- Files changed since " + to + " (undo by hand): "
                    + (", ".join(other) or "none") + ".")
    text.append("")
    text += [f"-- jobsdb:apply {p} from {to}" for p in changed]
    step = tree.dir / STEPS / f"{newest}--{to}.sql"
    if step.exists():
        raise BuildError(f"{step.relative_to(tree.root)} exists already")
    step.write_text("\n".join(text) + "\n")
    out(f"wrote {step.relative_to(tree.root)}: {len(changed)} function file(s) taken from {to}")
    return step
