"""The pgTAP runner reports failing assertions, plan mismatches, dying files and bail-outs.

Uses the fixture files in tests/pgtap_selftest/ on a template with pgtap but none of the
package's migrations, so these tests do not depend on the package's SQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobsdb import pgtap
from jobsdb.pgtap import run_file
from jobsdb.testdb import Template, build_template

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "pgtap_selftest"


@pytest.fixture(scope="module")
def plain_template(
    owner_url: str, superuser_url: str | None, tmp_path_factory
) -> Iterator[Template]:
    empty = tmp_path_factory.mktemp("no_migrations")
    tpl = build_template(
        owner_url, superuser_url, ROOT, migrations_dir=empty, helpers=empty / "none.sql"
    )
    try:
        yield tpl
    finally:
        tpl.drop()


@pytest.fixture(scope="module")
def clone(plain_template: Template) -> Iterator[str]:
    with plain_template.clone() as url:
        yield url


def test_passing_file_passes(clone: str) -> None:
    r = run_file(clone, FIXTURES / "passes.sql")
    assert r.passed, r.details()
    assert (r.planned, r.run, r.failed) == (2, 2, 0)
    assert r.summary().startswith("ok  2 tests  ")


def test_printed_rows_that_look_like_a_plan_are_not_plans(clone: str) -> None:
    r = run_file(clone, FIXTURES / "prints_setup_output.sql")
    assert r.passed, r.details()
    assert (r.planned, r.run) == (1, 1)


def test_failing_assertion_fails_and_shows_the_line(clone: str) -> None:
    r = run_file(clone, FIXTURES / "failing_assertion.sql")
    assert not r.passed
    assert r.failed == 1
    assert any("not ok 2" in ln and "fails on purpose" in ln for ln in r.failing_lines)
    assert r.summary().startswith("FAIL")


def test_plan_mismatch_fails(clone: str) -> None:
    r = run_file(clone, FIXTURES / "plan_mismatch.sql")
    assert not r.passed
    assert r.failed == 0
    assert "planned 3 tests but ran 2" in r.problems


def test_file_that_dies_fails(clone: str) -> None:
    r = run_file(clone, FIXTURES / "dies.sql")
    assert not r.passed
    assert r.returncode != 0
    assert "no_such_table" in r.stderr
    assert any("died" in p for p in r.problems)


def test_bail_out_fails(clone: str) -> None:
    r = run_file(clone, FIXTURES / "bails_out.sql")
    assert not r.passed and r.bailed


def test_missing_plan_fails(clone: str) -> None:
    r = run_file(clone, FIXTURES / "no_plan.sql")
    assert not r.passed
    assert "no plan" in r.problems


def test_parallel_run_summary_and_junit(plain_template: Template, tmp_path: Path) -> None:
    lines: list[str] = []
    files = sorted(FIXTURES.glob("*.sql"))
    results = pgtap.run_files(plain_template, files, ROOT, jobs=2, out=lines.append)
    by_name = {Path(r.path).name: r.passed for r in results}
    assert by_name == {
        "passes.sql": True,
        "prints_setup_output.sql": True,
        "failing_assertion.sql": False,
        "plan_mismatch.sql": False,
        "dies.sql": False,
        "bails_out.sql": False,
        "no_plan.sql": False,
    }
    junit = tmp_path / "out.xml"
    pgtap.write_junit(results, junit)
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "7" and suite.get("failures") == "5"


def test_cli_prints_summary_and_exits_nonzero(tmp_path: Path) -> None:
    """End to end through `jobsdb test` (builds its own template from the repo)."""
    junit = tmp_path / "j.xml"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "jobsdb.cli",
            "test",
            "-j",
            "2",
            "--junit",
            str(junit),
            str(FIXTURES / "passes.sql"),
            str(FIXTURES / "failing_assertion.sql"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert junit.exists()


def test_selftest_fixtures_are_not_collected_as_suite() -> None:
    from conftest import PGTAP_DIR  # type: ignore[import-not-found]

    assert not FIXTURES.is_relative_to(PGTAP_DIR)


def test_plpgsql_lint_reports_errors(bare_db: str, superuser_url: str | None) -> None:
    if not superuser_url:
        pytest.skip("plpgsql_check needs a superuser")
    import psycopg

    from jobsdb import embedded, lint

    with psycopg.connect(bare_db, autocommit=True) as conn:
        conn.execute(
            "create function public.broken() returns int language plpgsql as"
            " $$ begin return (select count(*) from public.no_such_table); end $$"
        )
        conn.execute("create table public.t (id int)")
        conn.execute(
            "create function public.t_trg() returns trigger language plpgsql as"
            " $$ begin new.no_such_column := 1; return new; end $$"
        )
        conn.execute("create trigger t_trg before insert on public.t"
                     " for each row execute function public.t_trg()")
    lines: list[str] = []
    su = embedded.url_for_db(superuser_url, bare_db.rsplit("/", 1)[1])
    errors, _ = lint.check(su, out=lines.append)
    assert errors == 2, lines
    assert any("broken()" in ln for ln in lines) and any("t_trg()" in ln for ln in lines)
