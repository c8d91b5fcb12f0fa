"""pgTAP runner: a template database built once, one clone per worker, TAP parsed by tap.py.

Each test file does `begin; select plan(n); ... select * from finish(); rollback;` and runs
through `psql -X -q -t -A -v ON_ERROR_STOP=1 -f FILE` on its worker's clone.
A file fails when psql exits non-zero (it died), when it bails out, when the plan is missing
or differs from the tests run, or when any test is `not ok` (TODO tests excepted).
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pytest_postgresql.janitor import DatabaseJanitor
from tap.parser import Parser

from jobsdb import migrate
from jobsdb.embedded import find_bin, url_for_db
from jobsdb.shim import apply_shim

_TAP_LINE = re.compile(r"^(ok\b|not ok\b|1\.\.\d+|#|Bail out!)")


@dataclass
class FileResult:
    path: str
    passed: bool
    planned: int | None = None
    run: int = 0
    failed: int = 0
    seconds: float = 0.0
    returncode: int = 0
    bailed: bool = False
    problems: list[str] = field(default_factory=list)
    failing_lines: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""

    def summary(self) -> str:
        status = "ok" if self.passed else "FAIL"
        return f"{status}  {self.run} tests  {self.seconds:.2f}s  {self.path}"

    def details(self) -> str:
        parts = list(self.problems) + self.failing_lines
        if self.stderr.strip():
            parts.append("stderr:\n" + self.stderr.rstrip())
        return "\n".join("    " + ln for p in parts for ln in p.splitlines())


class Janitor(DatabaseJanitor):
    """pytest-postgresql's janitor, run as the (non-superuser) owner role: it terminates only
    the client sessions it may (not superusers', not autovacuum workers, which a non-superuser
    may not signal); DROP/CREATE DATABASE itself stops autovacuum and waits up to 5 s for
    closing sessions."""

    @staticmethod
    def _terminate_connection(cur, dbname: str) -> None:
        cur.execute(
            "select pg_terminate_backend(a.pid) from pg_stat_activity a"
            " join pg_roles r on r.oid = a.usesysid"
            " where a.datname = %s and a.pid <> pg_backend_pid()"
            " and a.backend_type = 'client backend'"
            " and (not r.rolsuper"
            "      or (select rolsuper from pg_roles where rolname = current_user))",
            (dbname,),
        )


def _janitor(url: str, dbname: str, template: str | None = None, as_template: bool = False):
    p = conninfo_to_dict(url)
    return Janitor(
        user=p.get("user") or os.environ.get("PGUSER", "postgres"),
        host=p.get("host") or "127.0.0.1",
        port=p.get("port") or 5432,
        password=p.get("password"),
        dbname=dbname,
        template_dbname=template,
        maintenance_dbname=p.get("dbname") or "postgres",
        as_template=as_template,
    )


@dataclass
class Template:
    name: str
    owner_url: str  # the server's owner URL (maintenance db)
    url: str  # owner URL of the template database

    def drop(self) -> None:
        _janitor(self.owner_url, self.name, as_template=True).drop()

    @contextmanager
    def clone(self, name: str | None = None) -> Iterator[str]:
        """A fresh database cloned from the template; yields its owner URL, drops it after."""
        name = name or f"{self.name}_c{secrets.token_hex(3)}"
        j = _janitor(self.owner_url, name, template=self.name)
        j.init()
        try:
            yield url_for_db(self.owner_url, name)
        finally:
            j.drop()


def _psql_file(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_bin("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url,
         "-f", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PGOPTIONS": os.environ.get("PGOPTIONS", "")},
    )


def build_template(
    owner_url: str,
    superuser_url: str | None,
    root: Path,
    *,
    name: str | None = None,
    migrations_dir: Path | None = None,
    helpers: Path | None = None,
    auto_grants: bool | None = None,
    pgtap: bool = True,
    quiet: bool = True,
) -> Template:
    """Create a template database: shim (database part), migrations (as owner), pgtap in
    schema extensions (as owner) and tests/helpers.sql (as owner)."""
    name = name or f"jobsdb_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    migrations_dir = migrations_dir or root / "migrations"
    helpers = helpers if helpers is not None else root / "tests" / "helpers.sql"
    _janitor(owner_url, name, as_template=True).init()
    tpl = Template(name, owner_url, url_for_db(owner_url, name))
    try:
        apply_shim(superuser_url or owner_url, name, auto_grants=auto_grants, quiet=quiet)
        if migrations_dir.is_dir():
            migrate.up(tpl.url, migrations_dir, out=(lambda s: None) if quiet else print)
        if pgtap:
            with psycopg.connect(tpl.url, autocommit=True) as conn:
                conn.execute("create extension if not exists pgtap with schema extensions")
        if helpers.is_file():
            r = _psql_file(tpl.url, helpers)
            if r.returncode != 0:
                raise RuntimeError(f"loading {helpers} failed:\n{r.stdout}{r.stderr}")
    except BaseException:
        tpl.drop()
        raise
    return tpl


def parse_tap(path: str, stdout: str, stderr: str, returncode: int, seconds: float) -> FileResult:
    res = FileResult(path=path, passed=False, seconds=seconds, returncode=returncode,
                     stdout=stdout, stderr=stderr)
    # Only TAP lines go to the parser: tap.py takes any line starting with "1" and two
    # characters ("1fb2...", a uuid a setup statement printed) for a plan.
    tap_text = "\n".join(ln for ln in stdout.splitlines() if _TAP_LINE.match(ln))
    for line in Parser().parse_text(tap_text):
        cat = line.category
        if cat == "plan":
            if res.planned is not None:
                res.problems.append("more than one plan")
            res.planned = line.expected_tests
        elif cat == "test":
            res.run += 1
            if not line.ok and not line.todo:
                res.failed += 1
                res.failing_lines.append(str(line))
        elif cat == "bail":
            res.bailed = True
            res.problems.append(f"Bail out! {line.reason}")
        elif cat == "diagnostic" and res.failing_lines and line.text.startswith("#"):
            # keep pgTAP's "#   Failed test ..." / have/want diagnostics next to failures
            if "Looks like" not in line.text:
                res.failing_lines.append(line.text)
    if returncode != 0:
        res.problems.append(f"psql exited with {returncode} (the file died)")
    if res.planned is None:
        res.problems.append("no plan")
    elif res.planned != res.run:
        res.problems.append(f"planned {res.planned} tests but ran {res.run}")
    res.passed = not res.problems and res.failed == 0
    return res


def run_file(url: str, path: Path, display: str | None = None) -> FileResult:
    t0 = time.monotonic()
    r = _psql_file(url, path)
    return parse_tap(display or str(path), r.stdout, r.stderr, r.returncode, time.monotonic() - t0)


def discover(root: Path, paths: list[str] | None = None) -> list[Path]:
    if not paths:
        return sorted((root / "tests" / "pgtap").glob("**/*.sql"))
    found: list[Path] = []
    for p in paths:
        pp = Path(p)
        pp = pp if pp.is_absolute() else Path.cwd() / pp
        if pp.is_dir():
            found += sorted(pp.glob("**/*.sql"))
        elif pp.is_file():
            found.append(pp)
        else:
            raise FileNotFoundError(f"no such test file or directory: {p}")
    return found


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def run_files(tpl: Template, files: list[Path], root: Path, jobs: int = 2,
              out=print) -> list[FileResult]:
    """Run files on `jobs` clones of the template in parallel; print one line per file."""
    q: queue.Queue[Path] = queue.Queue()
    for f in files:
        q.put(f)
    results: list[FileResult] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with tpl.clone(f"{tpl.name}_w{i}") as url:
                while True:
                    try:
                        f = q.get_nowait()
                    except queue.Empty:
                        return
                    res = run_file(url, f, _rel(f, root))
                    with lock:
                        results.append(res)
                        out(res.summary())
                        if not res.passed:
                            out(res.details())
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            errors.append(e)

    n = max(1, min(jobs, len(files)))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    order = {_rel(f, root): i for i, f in enumerate(files)}
    return sorted(results, key=lambda r: order.get(r.path, 0))


def write_junit(results: list[FileResult], path: Path) -> None:
    failures = sum(not r.passed for r in results)
    suite = ET.Element(
        "testsuite", name="pgtap", tests=str(len(results)), failures=str(failures),
        errors="0", time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="pgtap", name=r.path,
                             time=f"{r.seconds:.3f}")
        if not r.passed:
            fail = ET.SubElement(case, "failure", message="; ".join(r.problems) or
                                 f"{r.failed} failed test(s)")
            fail.text = r.details()
        ET.SubElement(case, "system-out").text = r.stdout
    ET.ElementTree(ET.Element("testsuites")).getroot().append(suite)
    tree = ET.ElementTree(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def main(owner_url: str, superuser_url: str | None, root: Path, paths: list[str],
         jobs: int = 2, junit: str | None = None) -> int:
    files = discover(root, paths)
    if not files:
        print("no pgTAP files found", file=sys.stderr)
        print("0 passed, 0 failed")
        return 0
    t0 = time.monotonic()
    tpl = build_template(owner_url, superuser_url, root)
    print(f"template {tpl.name} built in {time.monotonic() - t0:.2f}s", file=sys.stderr)
    try:
        results = run_files(tpl, files, root, jobs)
    finally:
        tpl.drop()
    if junit:
        write_junit(results, Path(junit))
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
