"""The edge functions (supabase/functions) type-checked by Deno and their Deno tests run against
the real database: each handler gets an RPC client that reaches, over loopback, a bridge running
the SQL PostgREST runs for the call (tests/py/postgrest_bridge.py). No mock of the database.

Deno comes from the npm registry's `deno` package, installed with its npm: dependencies cached
by `make tools` into .tools/; the tests run with --cached-only (no network).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from postgrest_bridge import Bridge, sign_jwt

from jobsdb.postgrest import as_user, rpc

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "supabase" / "functions"
DENO = ROOT / ".tools" / "node_modules" / ".bin" / "deno"


def deno(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if not DENO.exists():
        pytest.fail("Deno is not installed: run `make tools`")
    return subprocess.run(
        [str(DENO), *args],
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DENO_DIR": str(ROOT / ".tools" / "deno"), "NO_COLOR": "1",
             **(env or {})},
    )


def _jwt(claims: dict[str, Any], secret: str) -> str:
    return sign_jwt({**claims, "exp": int(time.time()) + 3600}, secret)


def test_deno_type_checks_every_function_against_the_generated_types() -> None:
    entrypoints = sorted(str(p.relative_to(FUNCTIONS)) for p in FUNCTIONS.glob("*/index.ts"))
    assert entrypoints == ["job-callback/index.ts", "queue-job/index.ts",
                           "system-metrics/index.ts"]
    r = deno("check", "--frozen", *entrypoints)
    assert r.returncode == 0, r.stdout + r.stderr


def test_edge_function_handlers_against_the_database(fresh_db: str) -> None:
    jwt_secret = secrets.token_urlsafe(32)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        def user(email: str, admin: bool = False) -> str:
            return str(conn.execute("select tests.create_user(%s, %s)",
                                    (email, admin)).fetchone()[0])

        alice, admin, capped = user("alice@example.com"), user("admin@example.com", True), \
            user("capped@example.com")
        rated = user("rated@example.com")
        conn.execute("update jobs_private.settings set max_queued_per_user = 5")
        for i in range(5):  # the capped user's queue is full
            rpc(conn, "queue_job", {"job_type": "sdxl_image_fast", "prompt": f"p{i}"},
                claims=as_user(capped))
        # the rated user's bucket of new jobs is empty (default 30 at once, 60 per minute):
        # full again in 40 s, one job back in 11 s
        conn.execute("insert into jobs_private.job_rates (user_id, refilled_at)"
                     " values (%s, now() + interval '40 seconds')", (rated,))
    bridge = Bridge(fresh_db, jwt_secret)
    try:
        env = {
            "BRIDGE_URL": bridge.url,
            "USER_JWT": _jwt(as_user(alice), jwt_secret),
            "ADMIN_JWT": _jwt(as_user(admin), jwt_secret),
            "CAPPED_JWT": _jwt(as_user(capped), jwt_secret),
            "RATED_JWT": _jwt(as_user(rated), jwt_secret),
            "ANON_JWT": _jwt({"role": "anon", "iss": "supabase"}, jwt_secret),
            "SERVICE_JWT": _jwt({"role": "service_role", "iss": "supabase"}, jwt_secret),
            "FORGED_JWT": _jwt(as_user(alice), "not-the-project-secret"),
            "WORKER_SECRET": secrets.token_urlsafe(32),
        }
        r = deno("test", "--frozen", "--cached-only", "--no-prompt", "--allow-env",
                 "--allow-net=127.0.0.1", "tests/", env=env)
        assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
        assert " 11 passed" in r.stdout and " 0 failed" in r.stdout, r.stdout
        # the user's calls ran as authenticated, the relay's as service_role, never mixed
        roles = {(fn, role) for fn, role in bridge.calls}
        assert ("queue_job", "authenticated") in roles
        assert ("job_callback", "service_role") in roles
        assert not any(fn == "queue_job" and role == "service_role" for fn, role in roles)
    finally:
        bridge.close()
