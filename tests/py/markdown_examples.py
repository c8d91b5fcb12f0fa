r"""The code examples of the documentation, read from its Markdown and run.

Every fenced block of README.md and docs/*.md is one of:

- ```sql: run with psql against a fresh database that has the package (a clone of the test
  template), all blocks of a page in order on the same database, as the database owner unless
  an `as` says otherwise (then with the role and JWT claims PostgREST would set for that
  caller; each statement commits on its own, as one call through PostgREST does). Users and
  admins named in `as` are signed up on first use (an Auth user and a profile). A psql
  variable set by `\gset` in one block is set in the blocks after it, as in one psql session.
- ```sh: run with bash (`set -e`) from the checkout, with DATABASE_URL set to the page's
  database and JOBSDB_HOME / HOME in a scratch directory; `jobsdb` is the checkout's.
- ```python: executed (each block in a namespace of its own).
- ```ts, ```typescript, ```tsx: type-checked by Deno (one `deno check` for all of them).
- ```text: an illustration (a diagram, a layout, a sample), not run.

Any other info string (js, bash, none at all) is refused, so no example escapes the run by the
language it is tagged with.

A directive in an HTML comment on the line right before the fence changes that:

    <!-- example: as user alice -->            signed in as alice (PostgREST's way: role
                                               authenticated + request.jwt.claims); also
                                               `as admin NAME`, `as anon`, `as service_role`,
                                               `as worker` (role jobs_worker), `as owner`
    <!-- example: error 22023 -->              the block must fail with this SQLSTATE
    <!-- example: exit 1 -->                   the shell block must exit with this status
    <!-- example: not run: REASON -->          not run; the reason (the rest of the
                                               comment) is required
    <!-- example: output -->                   on a ```text block: the output of the block
                                               before it: for sql the values psql prints with
                                               -At (and the error, with its SQLSTATE); for sh
                                               stdout and stderr. `...` matches anything
                                               within a line, a line of only `...` any number
                                               of lines
    <!-- example: prelude -->                  on a TypeScript block: checked, and put in
                                               front of every later TypeScript block of the
                                               page (its imports and set-up)

Parts are separated by `;`, e.g. `<!-- example: as user alice; error PT404 -->`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

SQL = {"sql"}
SHELL = {"sh"}
PYTHON = {"python"}
TYPESCRIPT = {"ts": ".ts", "typescript": ".ts", "tsx": ".tsx"}
ILLUSTRATION = {"text"}
KNOWN = SQL | SHELL | PYTHON | set(TYPESCRIPT) | ILLUSTRATION

FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*example:(?P<body>.*?)-->\s*$")
SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
ROLES = {"owner", "anon", "service_role", "worker"}
NAMED_ROLES = {"user", "admin"}


class ExampleError(Exception):
    """A documentation example that is malformed, failed, or answered something else."""


@dataclass
class Example:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    directive: str = ""
    as_role: str = "owner"
    as_name: str | None = None
    error: str | None = None
    exit: int = 0
    skip: str | None = None
    output: str | None = None  # expected output, from a following `output` block
    prelude: bool = False
    is_output: bool = False

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Page:
    path: Path
    examples: list[Example] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def runnable(self, langs: set[str] | dict[str, str]) -> list[Example]:
        return [e for e in self.examples if e.lang in langs and not e.skip]


def _apply_directive(ex: Example, body: str) -> None:
    body, not_run, reason = body.partition("not run")
    if not_run:  # the reason is the rest of the comment, `;` included
        ex.skip = reason.strip(" :")
        if not ex.skip:
            raise ExampleError(f"{ex.where}: `not run` needs a reason")
    for part in (p.strip() for p in body.split(";")):
        if not part:
            continue
        words = part.split()
        if words[0] == "as" and len(words) == 2 and words[1] in ROLES:
            ex.as_role = words[1]
        elif words[0] == "as" and len(words) == 3 and words[1] in NAMED_ROLES:
            if not re.match(r"^[a-z][a-z0-9_]*$", words[2]):
                raise ExampleError(f"{ex.where}: a user's name is lower-case letters: {part!r}")
            ex.as_role, ex.as_name = words[1], words[2]
        elif words[0] == "error" and len(words) == 2 and SQLSTATE.match(words[1]):
            ex.error = words[1]
        elif words[0] == "exit" and len(words) == 2 and words[1].isdigit():
            ex.exit = int(words[1])
        elif part == "output":
            ex.is_output = True
        elif part == "prelude":
            ex.prelude = True
        else:
            raise ExampleError(f"{ex.where}: unknown directive {part!r}")
    if ex.as_role != "owner" and ex.lang not in SQL:
        raise ExampleError(f"{ex.where}: `as` applies to sql blocks only")
    if ex.error and ex.lang not in SQL:
        raise ExampleError(f"{ex.where}: `error` applies to sql blocks only (sh: `exit N`)")
    if ex.exit and ex.lang not in SHELL:
        raise ExampleError(f"{ex.where}: `exit` applies to sh blocks only")
    if ex.prelude and ex.lang not in TYPESCRIPT:
        raise ExampleError(f"{ex.where}: `prelude` applies to TypeScript blocks only")
    if ex.is_output and ex.lang not in ILLUSTRATION:
        raise ExampleError(f"{ex.where}: an `output` block is a ```text block")


def parse(path: Path, root: Path | None = None) -> Page:
    """The fenced blocks of a Markdown file, with their directives; an `output` block is
    attached to the runnable block before it. Malformed pages raise ExampleError."""
    shown = path.relative_to(root) if root else path
    page = Page(shown)
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, info = m.group("indent"), m.group("info").strip()
        lang = info.split()[0] if info else ""
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise ExampleError(f"{shown}:{start + 1}: a code block is never closed")
        i += 1
        ex = Example(shown, start + 1, lang, "\n".join(body) + "\n")
        if lang not in KNOWN:
            raise ExampleError(
                f"{ex.where}: code block with info string {info!r}: use sql, sh, python, ts,"
                " tsx (run or type-checked) or text (an illustration)")
        d = DIRECTIVE.match(lines[start - 1]) if start else None
        if d:
            ex.directive = d.group("body").strip()
            _apply_directive(ex, ex.directive)
        if ex.is_output:
            before = page.examples[-1] if page.examples else None
            if before is None or before.lang not in SQL | SHELL or before.skip:
                raise ExampleError(f"{ex.where}: an `output` block must follow a run sql or sh"
                                   " block")
            before.output = ex.code
        page.examples.append(ex)
    return page


# ---- comparing output ---------------------------------------------------------------------


def _normalise(text: str) -> list[str]:
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_matches(expected: str, actual: str) -> bool:
    """Whether `actual` has the lines of `expected`, where `...` in a line matches any text
    and a line of only `...` any number of lines (none included)."""
    parts = []
    for ln in _normalise(expected):
        if ln.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in ln.split("...")) + r"\n")
    return re.fullmatch("".join(parts), "\n".join(_normalise(actual)) + "\n", re.S) is not None


def _check_output(ex: Example, out: str) -> None:
    if ex.output is not None and not output_matches(ex.output, out):
        raise ExampleError(f"{ex.where}: the output differs from the page.\n--- the page shows:\n"
                           f"{ex.output}--- it printed:\n{out}")


# ---- SQL ----------------------------------------------------------------------------------


_VARIABLES = "-- psql variables --"


class SqlSession:
    """One database for one page's sql blocks, in order; users made on first use. A psql
    variable a block sets (`\\gset`) is set for the blocks after it, as in one psql session."""

    def __init__(self, url: str, psql: str) -> None:
        self.url, self.psql = url, psql
        self.users: dict[str, str] = {}
        self.variables: dict[str, str] = {}  # psql variables, carried from block to block

    def _user_id(self, role: str, name: str) -> str:
        if name not in self.users:
            with psycopg.connect(self.url, autocommit=True) as c:
                row = c.execute("select tests.create_user(%s, %s)::text",
                                (f"{name}@example.com", role == "admin")).fetchone()
            assert row is not None
            self.users[name] = row[0]
        return self.users[name]

    def _claims(self, ex: Example) -> tuple[str, dict[str, object]]:
        """The role and JWT claims PostgREST would set for the block's caller."""
        if ex.as_role in NAMED_ROLES:
            assert ex.as_name is not None
            uid = self._user_id(ex.as_role, ex.as_name)
            return "authenticated", {"sub": uid, "role": "authenticated",
                                     "aud": "authenticated",
                                     "app_metadata": {"provider": "email"}}
        return {"anon": ("anon", {"role": "anon"}),
                "service_role": ("service_role", {"role": "service_role"}),
                "worker": ("jobs_worker", {})}[ex.as_role]

    def run(self, ex: Example) -> None:
        # Another role than the owner is set for the whole session, the way PostgREST sets it
        # for a call (role + request.jwt.claims); each statement then commits on its own, as
        # one call through PostgREST would. psql prints values only (-A -t).
        script = "\\set VERBOSITY verbose\n\\set SHOW_CONTEXT never\n"
        if ex.as_role != "owner":
            role, claims = self._claims(ex)
            script += ("\\o /dev/null\n"
                       f"select set_config('request.jwt.claims', '{json.dumps(claims)}', false),"
                       " set_config('request.method', 'POST', false),"
                       f" set_config('role', '{role}', false);\n\\o\n")
        script += ex.code + f"\n\\echo {_VARIABLES}\n\\set\n"
        carried = [f"--variable={k}={v}" for k, v in self.variables.items()]
        p = subprocess.run(
            [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *carried,
             "-d", self.url],
            input=script, capture_output=True, text=True, timeout=60,
        )
        stdout, _, listing = p.stdout.partition(_VARIABLES + "\n")
        p.stdout = stdout
        for m in re.finditer(r"^([a-z][a-z0-9_]*) = '(.*)'$", listing, re.M):
            self.variables[m[1]] = m[2]
        codes = re.findall(r"ERROR:\s+([0-9A-Z]{5}):", p.stderr)
        if ex.error:
            if p.returncode == 0 or ex.error not in codes:
                raise ExampleError(f"{ex.where}: expected error {ex.error}, got "
                                   f"{codes or 'none'} (exit {p.returncode})\n{p.stderr}")
        elif p.returncode != 0:
            raise ExampleError(f"{ex.where}: psql failed (exit {p.returncode}):\n{p.stderr}")
        _check_output(ex, p.stdout + _psql_errors(p.stderr) if ex.error else p.stdout)


def _psql_errors(stderr: str) -> str:
    """psql's errors as an interactive session shows them (VERBOSITY verbose: with the
    SQLSTATE): without the `psql:<stdin>:N:` prefix of a script and the LOCATION lines, which
    name PostgreSQL's own source files."""
    lines = (re.sub(r"^psql:<stdin>:\d+: ", "", ln) for ln in stderr.splitlines())
    return "".join(ln + "\n" for ln in lines if not ln.startswith("LOCATION:"))


# ---- shell --------------------------------------------------------------------------------


def run_shell(ex: Example, cwd: Path, env: dict[str, str], timeout: float = 120) -> None:
    p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", ex.code], cwd=cwd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    if p.returncode != ex.exit:
        raise ExampleError(f"{ex.where}: exit {p.returncode}, the page says {ex.exit}:\n"
                           f"{p.stdout}")
    _check_output(ex, p.stdout)


def shell_env(database_url: str, scratch: Path, venv_bin: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBSDB_", "PG"))}
    env.update(DATABASE_URL=database_url, JOBSDB_HOME=str(scratch), HOME=str(scratch),
               PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}", NO_COLOR="1")
    return env


# ---- Python -------------------------------------------------------------------------------


def run_python(ex: Example) -> None:
    try:
        exec(compile(ex.code, ex.where, "exec"), {"__name__": "doc_example"})
    except Exception as e:  # noqa: BLE001 - any failure of the example is the finding
        raise ExampleError(f"{ex.where}: {type(e).__name__}: {e}") from e


# ---- TypeScript ---------------------------------------------------------------------------


def typescript_sources(pages: list[Page]) -> list[tuple[Example, str]]:
    """Each TypeScript block with the preludes of its page before it, as one module's text
    (the block's first line is the fence's line + 1 on the page)."""
    out = []
    for page in pages:
        prelude = ""
        for ex in page.runnable(TYPESCRIPT):
            out.append((ex, prelude + ex.code))
            if ex.prelude:
                prelude += ex.code
    return out


def check_typescript(pages: list[Page], root: Path, deno: list[str], env: dict[str, str]) -> None:
    """One `deno check` over every TypeScript block, each written as a module beside its page
    (so a relative import reads as it does from the page) and removed afterwards."""
    sources = typescript_sources(pages)
    if not sources:
        return
    files: dict[Path, tuple[Example, int]] = {}
    try:
        for ex, text in sources:
            f = root / ex.page.parent / (
                f".doc-example-{os.getpid()}-{ex.page.stem}-L{ex.line}{TYPESCRIPT[ex.lang]}")
            f.write_text(text)
            files[f] = (ex, text.count("\n") - ex.code.count("\n"))
        p = subprocess.run([*deno, *(str(f) for f in files)], cwd=root, env=env,
                           capture_output=True, text=True, timeout=300)
    finally:
        for f in files:
            f.unlink(missing_ok=True)
    if p.returncode != 0:
        report = p.stdout + p.stderr
        for f, (ex, prelude_lines) in files.items():
            report = re.sub(
                re.escape(f.as_uri()) + r":(\d+):(\d+)",
                lambda m, ex=ex, k=prelude_lines: _page_position(ex, k, int(m[1]), m[2]),
                report,
            ).replace(f.as_uri(), ex.where).replace(str(f), ex.where)
        raise ExampleError(f"deno check failed:\n{report}")


def _page_position(ex: Example, prelude_lines: int, line: int, col: str) -> str:
    if line <= prelude_lines:
        return f"{ex.where} (in the page's prelude, its line {line}:{col})"
    return f"{ex.page}:{ex.line + line - prelude_lines}:{col}"
