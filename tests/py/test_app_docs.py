"""docs/app.md stays true: its TypeScript snippets type-check against the client (with the
client's own Deno configuration, app/deno.json), its SQL runs on a database of the package, and
each command it shows is one a test runs."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from test_app_client import deno

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "app.md"

# Each command the page shows, and the test that runs it.
COMMANDS = {
    "make app-example": "test_app_browser.py::"
                        "test_make_app_example_serves_the_app_until_interrupted_then_drops_its_database",
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", PAGE.read_text(), re.S | re.M)


def test_every_typescript_snippet_type_checks(tmp_path: Path) -> None:
    snippets = [(f"snippet_{i}.ts", code) for i, code in enumerate(blocks("ts"))]
    snippets += [(f"snippet_{i}.tsx", code) for i, code in enumerate(blocks("tsx"))]
    assert len(snippets) >= 6
    for name, code in snippets:
        (tmp_path / name).write_text(code)
    r = deno("check", "--frozen", "--config", str(ROOT / "app" / "deno.json"),
             *(str(tmp_path / name) for name, _ in snippets))
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_sql_snippet_runs(fresh_db: str) -> None:
    sql = blocks("sql")
    assert sql
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        user = str(conn.execute("select tests.create_auth_user('doc@example.com')").fetchone()[0])
        for code in sql:
            conn.execute(code.replace("<user id>", user))
        assert conn.execute("select role from public.user_roles where user_id = %s",
                            (user,)).fetchone() == ("admin",)
        # an admin now: retry_job looks for the job (PT404) instead of refusing (42501)
        with pytest.raises(psycopg.Error) as refused, conn.transaction():
            conn.execute("select tests.authenticate_as(%s)", (user,))
            conn.execute("select public.retry_job(gen_random_uuid())")
        assert refused.value.diag.sqlstate == "PT404"


def test_every_command_is_run_by_a_test() -> None:
    shown = {line.strip() for code in blocks("sh") for line in code.splitlines() if line.strip()}
    assert shown == set(COMMANDS)
    for test in COMMANDS.values():
        file, name = test.split("::")
        if f"def {name}(" not in (ROOT / "tests" / "py" / file).read_text():
            pytest.fail(f"{test} does not exist")
