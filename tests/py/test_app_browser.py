"""The example web app (app/web) in headless Chromium, on the local stack: the real database,
the stand-ins for PostgREST, Auth, Realtime and Storage, the edge functions' own handlers, and
real `jobsdb worker` processes running jobsdb.examples:render.

A user signs in, queues a 1x3 set, watches its three jobs go from queued through processing to
completed live (no reload), and finds them in the Library; an admin sees the queue and retries
a failed job. Screenshots and the time from each job's completion (its commit) to its display
are kept in .jobsdb-artifacts/app/ (git-ignored): the latency is a measurement for docs/app.md,
not a test.

Chromium is Debian's `chromium`: `make deps` installs it as root; without it this test skips,
saying which command installs it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from app_stack import Stack, Workers, build_web, enable_realtime

from jobsdb import embedded
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".jobsdb-artifacts" / "app"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


# Realtime's role is cluster-wide: dropped once this module's databases are gone (conftest).
pytestmark = pytest.mark.usefixtures("drop_realtime_role_after")


def test_a_user_and_an_admin_use_the_example_app_in_chromium(
    fresh_db: str, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is missing: run `sudo apt-get install -y chromium`"
                    " (make deps installs it when run as root)")
    su = url_for_db(embedded.superuser_url() or "",
                    psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"])
    enable_realtime(fresh_db, su)
    dist = build_web(tmp_path / "web")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    stack = Stack(fresh_db, su, functions=True, static_dir=dist, controls=True)
    workers = Workers(fresh_db, {"sdxl": 3}, log=ARTIFACTS / "workers.log")
    try:
        password = secrets.token_urlsafe(12)
        user = stack.create_user("user@example.com", password)
        stack.create_user("admin@example.com", password, admin=True)
        r = subprocess.run(
            ["node", str(ROOT / "app" / "tests" / "browser.mjs"),
             str(ROOT / ".tools" / "node_modules"), str(ARTIFACTS)],
            capture_output=True, text=True, timeout=240,
            env={**os.environ, "APP_URL": stack.url, "USER_EMAIL": "user@example.com",
                 "ADMIN_EMAIL": "admin@example.com", "PASSWORD": password,
                 "CHROMIUM": CHROMIUM})
        assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
        seen = json.loads(r.stdout.strip().splitlines()[-1])
        deliveries = list(stack.realtime.deliveries)
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            db = dict(conn.execute(
                "select id::text, status from public.jobs where user_id = %s",
                (user,)).fetchall())
            changes = [r[0] for r in conn.execute(
                "select payload from realtime.messages where topic = %s order by inserted_at",
                (f"jobs:{user}",))]
    finally:
        workers.stop()
        stack.close()

    assert seen["problems"] == []
    set_jobs = seen["set_jobs"]
    assert len(set_jobs) == 3 and all(db[j] == "completed" for j in set_jobs)
    # live: each job of the set was shown processing, then completed, without a reload
    for job in set_jobs:
        shown = [s["status"] for s in seen["shown"] if s["job_id"] == job]
        assert shown[-2:] == ["processing", "completed"], (job, shown)
    assert set(set_jobs) <= set(seen["library"])
    # the admin saw the waiting job's pool in the queue, and the retry reached the database
    assert any(row[:2] == ["rv51", "queued"] for row in seen["queue"]), seen["queue"]
    assert any(c["job_id"] == seen["retried"] and c["status"] == "queued"
               and c["previous_status"] == "failed" for c in changes)

    # the time from each completion's commit to the page showing it (a figure, not a test)
    shown_at = {s["job_id"]: s["at"] / 1000 for s in seen["shown"] if s["status"] == "completed"}
    latency = []
    for d in deliveries:
        if d["status"] == "completed" and d["job_id"] in set_jobs:
            latency.append({
                "job_id": d["job_id"],
                "commit_to_relay_ms": round((d["relayed_at"] - d["committed_at"]) * 1000, 1),
                "relay_to_socket_ms": round((d["sent_at"] - d["relayed_at"]) * 1000, 1),
                "commit_to_display_ms": round((shown_at[d["job_id"]] - d["committed_at"]) * 1000,
                                              1),
            })
    assert len(latency) == 3
    (ARTIFACTS / "latency.json").write_text(json.dumps({
        "jobs": latency,
        "median_commit_to_display_ms": statistics.median(
            x["commit_to_display_ms"] for x in latency),
    }, indent=1))


def test_make_app_example_serves_the_app_until_interrupted_then_drops_its_database() -> None:
    name = f"jobsdb_app_example_{os.getpid()}"
    proc = subprocess.Popen(["make", "-s", "-C", str(ROOT), "app-example", "APP_PORT=0",
                             f"APP_DATABASE={name}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if m := re.search(r"the example app: (\S+)/ .* password (\S+)\)", line):
                break
        else:
            pytest.fail("make app-example did not start")
        url, password = m.groups()
        with urllib.request.urlopen(f"{url}/", timeout=10) as res:
            assert b'<div id="root">' in res.read()
        with urllib.request.urlopen(f"{url}/app-config.json", timeout=10) as res:
            anon = json.loads(res.read())["anonKey"]
        req = urllib.request.Request(
            f"{url}/auth/v1/token?grant_type=password", method="POST",
            data=json.dumps({"email": "admin@example.com", "password": password}).encode(),
            headers={"apikey": anon, "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            assert json.loads(res.read())["access_token"]
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: to make and the stack alike
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            # what the stack printed as it stopped says which part did not
            pytest.fail("make app-example did not stop within 60 s of Ctrl-C; it printed:\n"
                        + proc.communicate()[0][-4000:])
        assert code in (0, -signal.SIGINT)
    with psycopg.connect(embedded.owner_url(), autocommit=True) as conn:
        for _ in range(100):  # the stack's own clean-up, after make has gone
            if conn.execute("select from pg_database where datname = %s",
                            (name,)).fetchone() is None:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"make app-example left its database {name}")
