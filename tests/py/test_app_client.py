"""The app client (app/client) against the real database: its Deno tests (app/tests/*.test.ts)
run with supabase-js against the local stack (tests/py/app_stack.py) on a fresh database with
Supabase Realtime's objects, so every broadcast is a row the package's trigger wrote, relayed
by the Realtime stand-in (which drops, repeats, delays and reorders them on the tests' request).

Deno and the npm packages come from `make tools` (.tools/); the tests run with --cached-only.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from app_stack import Stack, enable_realtime

from jobsdb import embedded
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
DENO = ROOT / ".tools" / "node_modules" / ".bin" / "deno"


def deno(*args: str, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    if not DENO.exists():
        pytest.fail("Deno is not installed: run `make tools`")
    return subprocess.run(
        [str(DENO), *args], cwd=APP, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "DENO_DIR": str(ROOT / ".tools" / "deno"), "NO_COLOR": "1",
             **(env or {})},
    )


# Realtime's role is cluster-wide: dropped once this module's databases are gone (conftest).
pytestmark = pytest.mark.usefixtures("drop_realtime_role_after")


@pytest.fixture
def stack(fresh_db: str) -> Iterator[Stack]:
    su = url_for_db(embedded.superuser_url() or "",
                    psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"])
    enable_realtime(fresh_db, su)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # retries without backoff, and room for the many-jobs test (no rate of new jobs: it
        # queues hundreds for one user in seconds, which is not what it checks)
        conn.execute("update jobs_private.settings set retry_base_seconds = 0,"
                     " retry_max_seconds = 0, max_queued_per_user = 1000,"
                     " max_images_per_request = 16, jobs_per_minute = null")
    s = Stack(fresh_db, su, controls=True)
    try:
        yield s
    finally:
        s.close()


def test_the_client_and_the_example_app_type_check_and_lint() -> None:
    r = deno("lint", "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    r = deno("check", "--frozen", "client/mod.ts", "client/react.ts", "web/main.tsx", "tests/")
    assert r.returncode == 0, r.stdout + r.stderr


def test_watch_jobs_converges_against_the_database(stack: Stack) -> None:
    r = deno("test", "--frozen", "--cached-only", "--no-prompt", "--allow-env",
             "--allow-net=127.0.0.1", "tests/watch.test.ts",
             env={"STACK_URL": stack.url, "ANON_KEY": stack.anon_key,
                  "SERVICE_KEY": stack.service_key,
                  "WORKER_JWT": stack.sign({"role": "jobs_worker", "sub": "gpu-test"})})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-8000:]
    m = re.search(r"ok \| (\d+) passed \| (\d+) failed", out)
    assert m and m.group(1) == "6" and m.group(2) == "0", out[-3000:]
