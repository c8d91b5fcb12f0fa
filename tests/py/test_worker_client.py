"""The worker client (jobsdb.worker) and the PostgREST-shaped rpc (jobsdb.postgrest) end to end."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc
from jobsdb.worker import Worker


def make_user(url: str, email: str) -> str:
    with psycopg.connect(url, autocommit=True) as c:
        return str(c.execute("select tests.create_user(%s)", (email,)).fetchone()[0])


def queue(url: str, user: str, n: int = 1, **args: object) -> list[dict]:
    with psycopg.connect(url) as c:
        out = []
        for i in range(n):
            body = {"job_type": "sdxl_image_fast", "prompt": f"a cat {i}"} | args
            out.append(rpc(c, "queue_job", body, role="authenticated", claims=as_user(user)))
        return out


def job_row(url: str, job_id: str) -> dict:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute(
            "select to_jsonb(j) from public.jobs as j where j.id = %s", (job_id,)
        ).fetchone()[0]


def db_now(url: str) -> datetime:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("select now()").fetchone()[0]


def lease_digest(token: str) -> str:
    """What jobs.lease_token stores for a claim's token (jobs_private.lease_digest)."""
    return str(uuid.UUID(hashlib.sha256(uuid.UUID(token).bytes).hexdigest()[:32]))


def expire_lease(url: str, job_id: str) -> None:
    """Time moves the honest way: as the owner, the job's lease ended a second ago."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "update public.jobs set lease_expires_at = now() - interval '1 second' where id = %s",
            (job_id,),
        )


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        assert c.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.05)


def test_rpc_is_postgrest_shaped(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    with psycopg.connect(fresh_db) as c:
        res = rpc(
            c,
            "queue_job",
            {"job_type": "sdxl_image_fast", "prompt": "x", "num_images": 3},
            role="authenticated",
            claims=as_user(user),
        )
        assert len(res["jobs"]) == 3 and res["deduplicated"] is False
        # named arguments: an unknown key is "function not found" (PostgREST 404)
        with pytest.raises(psycopg.errors.UndefinedFunction):
            rpc(c, "queue_job", {"job_type": "x", "nope": 1}, claims=as_user(user))
        with pytest.raises(ValueError):
            rpc(c, "queue_job", {"job_type; drop": 1}, claims=as_user(user))
        # errors keep their sqlstate; the transaction is rolled back and the connection usable
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            rpc(c, "queue_job", {"job_type": "nope", "prompt": "x"}, claims=as_user(user))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            rpc(c, "claim_jobs", {"worker_pool": "sdxl", "worker_id": "w"}, claims=as_user(user))
        # set-returning function -> JSON array; role and claims were transaction-local
        assert (
            rpc(c, "claim_jobs", {"worker_pool": "rv51", "worker_id": "w"}, role="jobs_worker")
            == []
        )
        assert c.execute(
            "select current_user, current_setting('request.jwt.claims', true)"
        ).fetchone() in (("postgres", ""), ("postgres", None))
        c.rollback()


def test_claim_complete_fail_heartbeat(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    queue(fresh_db, user, 3)
    with Worker(fresh_db, "sdxl", "gpu-1", lease_seconds=30) as w:
        jobs = w.claim(max_jobs=2)
        assert len(jobs) == 2 and set(w.held) == {j.job_id for j in jobs}
        a, b = jobs
        assert a.attempt == 1 and a.prompt.startswith("a cat") and a.user_id == user
        assert a.metadata["job_id"] == a.job_id and a.output_bucket == "sdxl_image_fast"

        before = job_row(fresh_db, a.job_id)["lease_expires_at"]
        time.sleep(0.01)
        assert w.heartbeat() == {a.job_id: "extended", b.job_id: "extended"}
        assert job_row(fresh_db, a.job_id)["lease_expires_at"] > before

        res = w.complete(a, [{"type": "image", "url": f"{a.user_id}/out/a.png"}],
                         {"quality_rating": 88})
        assert res["result"] == "completed" and len(res["asset_ids"]) == 1
        row = job_row(fresh_db, a.job_id)
        assert row["status"] == "completed" and row["image_id"] == res["asset_ids"][0]
        assert float(row["quality_rating"]) == 88
        assert w.complete(a, [f"{a.user_id}/out/a.png"])["result"] == "duplicate"

        assert w.fail(b, "CUDA OOM")["result"] == "requeued"
        assert job_row(fresh_db, b.job_id)["status"] == "queued"
        assert w.held == {}

        (c,) = w.claim(max_jobs=5)  # b is in backoff, only the third job is claimable
        assert c.job_id not in (a.job_id, b.job_id)
        assert w.fail(c, "bad prompt", retryable=False)["result"] == "failed"
        assert job_row(fresh_db, c.job_id)["status"] == "failed"


def test_background_heartbeat_reports_cancel_and_loss(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    queue(fresh_db, user, 2)
    with Worker(fresh_db, "sdxl", "gpu-1", lease_seconds=10) as w:
        a, b = w.claim(max_jobs=2)
        with psycopg.connect(fresh_db) as c:
            rpc(c, "cancel_job", {"job_id": a.job_id}, claims=as_user(user))
        # b's lease expires (the owner moves it into the past: no caller can move the clock)
        # while the worker still thinks it holds it
        expire_lease(fresh_db, b.job_id)
        with Worker(fresh_db, "sdxl", "janitor") as j:
            assert j.rescue() == {"requeued": 1, "failed": 0}
        with w.heartbeating(0.05):
            deadline = time.time() + 5
            while w.held and time.time() < deadline:
                time.sleep(0.02)
        assert w.held == {} and (a.state, b.state) == ("cancelled", "lost")
        assert w.complete(a, [f"{a.user_id}/x.png"])["result"] == "ignored_cancelled"
        assert w.complete(b, [f"{b.user_id}/x.png"])["result"] == "stale"


def test_reconnect_after_backend_killed(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    queue(fresh_db, user, 3)
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        (a,) = w.claim()
        terminate(fresh_db, w.backend_pid)
        assert w.complete(a, [f"{a.user_id}/out/a.png"])["result"] == "completed"  # retried
        assert w.reconnects == 1
        terminate(fresh_db, w.backend_pid)
        (b,) = w.claim()  # failed before commit: safe to retry
        assert b.job_id != a.job_id and w.reconnects == 2
        terminate(fresh_db, w.backend_pid)
        assert w.heartbeat() == {b.job_id: "extended"}
        assert job_row(fresh_db, a.job_id)["status"] == "completed"
        with psycopg.connect(fresh_db, autocommit=True) as c:
            assert (
                c.execute(
                    "select count(*) from public.jobs where status = 'processing'"
                ).fetchone()[0]
                == 1
            )


def test_wait_for_work_wakes_on_queue(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        assert w.wait_for_work(0.2) is False  # starts listening
        t = threading.Timer(0.2, lambda: queue(fresh_db, user, 1))
        t.start()
        t0 = time.monotonic()
        assert w.wait_for_work(10) is True
        assert time.monotonic() - t0 < 5
        t.join()
        assert len(w.claim()) == 1
        # other pools do not wake this one
        queue(fresh_db, user, 1, job_type="rv51_fast")
        assert w.wait_for_work(0.3) is False


def test_claim_lease_seconds(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    queue(fresh_db, user, 1)
    with Worker(fresh_db, "sdxl", "gpu-1", lease_seconds=10) as w:
        before = db_now(fresh_db)
        (a,) = w.claim()
        row = job_row(fresh_db, a.job_id)
        assert row["locked_by"] == "gpu-1" and row["lease_token"] == lease_digest(a.lease_token)
        expires = datetime.fromisoformat(a.lease_expires_at)
        assert before + timedelta(seconds=10) <= expires <= db_now(fresh_db) + timedelta(seconds=10)
        assert w.heartbeat() == {a.job_id: "extended"}
