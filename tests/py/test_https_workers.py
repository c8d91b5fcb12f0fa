"""A GPU worker that cannot reach Postgres works through the project's REST endpoint with a
worker JWT (role jobs_worker): PostgREST logs in as `authenticator` and switches to the JWT's
role, which it can only do for roles granted to it (`grant jobs_worker to authenticator`).
The calls below go through tests/py/postgrest_bridge.py: a connection logged in as
authenticator, the JWT verified, then the SQL PostgREST runs (set_config role and claims,
named arguments)."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import psycopg
import pytest
from postgrest_bridge import Bridge, sign_jwt

from jobsdb.postgrest import as_user, rpc


@pytest.fixture
def world(fresh_db: str):
    jwt_secret = secrets.token_urlsafe(32)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        alice = str(conn.execute("select tests.create_user('alice@example.com')").fetchone()[0])
        job = rpc(conn, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "a cat"},
                  claims=as_user(alice))["jobs"][0]["id"]
    bridge = Bridge(fresh_db, jwt_secret)
    worker_jwt = sign_jwt({"role": "jobs_worker", "worker_pools": ["sdxl"],
                           "sub": "gpu-box-7", "exp": int(time.time()) + 3600}, jwt_secret)
    try:
        yield bridge, worker_jwt, job, alice, jwt_secret
    finally:
        bridge.close()


def _ok(answer: dict[str, Any]) -> Any:
    assert "error" not in answer, answer
    return answer["data"]


def test_a_worker_claims_heartbeats_and_reports_over_https(world) -> None:
    bridge, jwt, job, alice, _ = world
    claimed = _ok(bridge.call("claim_jobs", {"jwt": jwt, "args": {
        "worker_pool": "sdxl", "worker_id": "gpu-box-7"}}))
    assert [c["job_id"] for c in claimed] == [job]
    lease = claimed[0]["lease_token"]
    beat = _ok(bridge.call("heartbeat_jobs", {"jwt": jwt, "args": {
        "worker_id": "gpu-box-7", "job_ids": [job], "lease_tokens": [lease]}}))
    assert [(b["job_id"], b["state"]) for b in beat] == [(job, "extended")]
    # a report under another token is fenced off
    stale = _ok(bridge.call("job_callback", {"jwt": jwt, "args": {
        "job_id": job, "status": "completed", "lease_token": str(uuid.uuid4()),
        "assets": [f"{alice}/x.png"]}}))
    assert stale["result"] == "stale"
    done = _ok(bridge.call("job_callback", {"jwt": jwt, "args": {
        "job_id": job, "status": "completed", "lease_token": lease,
        "assets": [f"{alice}/x.png"]}}))
    assert done["result"] == "completed"
    assert ("claim_jobs", "jobs_worker") in bridge.calls


def test_a_worker_jwt_reaches_only_the_worker_functions(world) -> None:
    bridge, jwt, job, alice, secret = world
    denied = bridge.call("queue_job", {"jwt": jwt, "args": {
        "job_type": "sdxl_image_fast", "prompt": "x"}})
    assert denied["error"]["code"] == "42501"
    assert bridge.call("get_job", {"jwt": jwt, "args": {"job_id": job}})["error"]["code"] \
        == "42501"
    # authenticator cannot become a role that was not granted to it
    owner = sign_jwt({"role": "postgres", "exp": int(time.time()) + 60}, secret)
    assert bridge.call("claim_jobs", {"jwt": owner, "args": {
        "worker_pool": "sdxl", "worker_id": "w"}})["error"]["code"] == "42501"
    # a token signed with another secret is refused before the database
    forged = sign_jwt({"role": "jobs_worker"}, "not-the-project-secret")
    assert bridge.call("claim_jobs", {"jwt": forged, "args": {
        "worker_pool": "sdxl", "worker_id": "w"}})["error"]["code"] == "PGRST301"


def test_authenticator_is_granted_jobs_worker_without_inheriting_it(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        row = conn.execute(
            "select pg_has_role('authenticator', 'jobs_worker', 'member'),"
            " pg_has_role('authenticator', 'jobs_worker', 'usage')").fetchone()
    assert row == (True, False)  # may switch to it (SET ROLE), holds none of its rights
