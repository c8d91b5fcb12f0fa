"""pgTAP runner: a template database built once, one clone per worker, TAP parsed by tap.py.

Each test file does `begin; select plan(n); ... select * from finish(); rollback;` and runs
through `psql -X -q -t -A -v ON_ERROR_STOP=1 -f FILE` on its worker's clone.
A file fails when psql exits non-zero (it died), when it bails out, when the plan is missing
or differs from the tests run, or when any test is `not ok` (TODO tests excepted).
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tap.parser import Parser

# The test-database helpers live in jobsdb.testdb; re-exported for older imports.
from jobsdb.testdb import Janitor, Template, _janitor, _psql_file, build_template  # noqa: F401

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
    skipped: str = ""  # why the file did not run (`jobsdb test --url`: a project's own table)

    def summary(self) -> str:
        if self.skipped:
            return f"skip  {self.path}: {self.skipped}"
        status = "ok" if self.passed else "FAIL"
        return f"{status}  {self.run} tests  {self.seconds:.2f}s  {self.path}"

    def details(self) -> str:
        parts = list(self.problems) + self.failing_lines
        if self.stderr.strip():
            parts.append("stderr:\n" + self.stderr.rstrip())
        return "\n".join("    " + ln for p in parts for ln in p.splitlines())


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
        if r.skipped:
            ET.SubElement(case, "skipped", message=r.skipped)
        elif not r.passed:
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
