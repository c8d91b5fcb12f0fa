"""One global lock order: every function that locks several jobs locks them in job id order,
so heartbeats, batched and single reports, claims, releases and rescue never deadlock.

Each round claims the same 20 jobs for one worker and gives their leases expiry times in a
random order (some already expired), then runs, at the same moment, each on its own connection
and the way PostgREST calls them (`jobs_worker`): two heartbeats of all 20 jobs, a batched
report of half of them, single reports, a release of a quarter, a claim, and a rescue, every
array in a random order. Many rounds; no call may fail, least of all with 40P01 (deadlock
detected). Before the fix, heartbeat_jobs locked its rows in the order of a hash join over
jobs_lease_idx (lease expiry order) while job_callbacks and release_jobs lock in id order.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc

JOBS = 20
ROUNDS = 30


def _worker_call(conn: psycopg.Connection[Any], name: str, args: dict[str, Any]) -> Any:
    return rpc(conn, name, args, role="jobs_worker")


def _round(owner: psycopg.Connection[Any], user: str, rng: random.Random,
           ) -> dict[str, tuple[str, dict[str, Any]]]:
    """Set up one round; returns each actor's (function, arguments)."""
    owner.execute("delete from public.jobs")
    for _ in range(JOBS // 4):
        rpc(owner, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "num_images": 4},
            claims=as_user(user))  # fmt: skip
    claims = _worker_call(owner, "claim_jobs",
                          {"worker_pool": "sdxl", "worker_id": "w1", "max_jobs": JOBS})
    assert len(claims) == JOBS
    tokens = {c["job_id"]: c["lease_token"] for c in claims}
    ids = list(tokens)
    # leases in a random order of expiry, unlike the ids'; three already expired (rescue's)
    order = rng.sample(ids, JOBS)
    for k, job in enumerate(order):
        seconds = -1 - k if k < 3 else 60 + k
        owner.execute("update public.jobs set lease_expires_at = now() + make_interval(secs => %s)"
                      " where id = %s", (seconds, job))  # fmt: skip

    def shuffled(jobs: list[str]) -> list[str]:
        return rng.sample(jobs, len(jobs))

    def beat() -> dict[str, Any]:
        jobs = shuffled(ids)
        return {"worker_id": "w1", "job_ids": jobs, "lease_tokens": [tokens[j] for j in jobs],
                "lease_seconds": 120}

    reported = rng.sample(ids, JOBS // 2)
    rest = [j for j in ids if j not in reported]
    released = rng.sample(rest, JOBS // 4)
    singles = [j for j in rest if j not in released][:3]
    return {
        "heartbeat_jobs": ("heartbeat_jobs", beat()),
        "heartbeat_jobs again": ("heartbeat_jobs", beat()),
        "job_callbacks": ("job_callbacks", {"reports": [
            {"job_id": j, "lease_token": tokens[j],
             "status": rng.choice(["completed", "failed"]), "assets": [f"{user}/{j}.png"]}
            for j in reported]}),
        "job_callback": ("job_callback", [
            {"job_id": j, "lease_token": tokens[j], "status": "completed"} for j in singles]),
        "release_jobs": ("release_jobs", {"worker_id": "w1", "job_ids": released,
                                          "lease_tokens": [tokens[j] for j in released]}),
        "claim_jobs": ("claim_jobs", {"worker_pool": "sdxl", "worker_id": "w2", "max_jobs": 5}),
        "rescue_expired_jobs": ("rescue_expired_jobs", {"max_jobs": 100}),
    }


def test_workers_calls_on_shared_jobs_never_deadlock(fresh_db: str) -> None:
    rng = random.Random(20)
    failures: Counter[tuple[str, str]] = Counter()
    calls = Counter[str]()
    with psycopg.connect(fresh_db, autocommit=True) as owner:
        user = str(owner.execute("select tests.create_user('a@example.com')").fetchone()[0])
        owner.execute("update jobs_private.settings set max_queued_per_user = 1000,"
                      " jobs_per_minute = null")  # the rate has tests of its own
        actors = list(_round(owner, user, rng))
        conns = {a: psycopg.connect(fresh_db, autocommit=True) for a in actors}
        try:
            for _ in range(ROUNDS):
                plan = _round(owner, user, rng)
                start = threading.Barrier(len(plan))

                def act(actor: str, name: str, args: Any, start: threading.Barrier = start,
                        ) -> None:
                    start.wait()
                    for one in args if isinstance(args, list) else [args]:
                        try:
                            _worker_call(conns[actor], name, one)
                            calls[name] += 1
                        except psycopg.Error as e:
                            failures[(name, e.sqlstate or "?")] += 1

                threads = [threading.Thread(target=act, args=(a, *plan[a])) for a in plan]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                assert not any(t.is_alive() for t in threads), "a call hung"
        finally:
            for c in conns.values():
                c.close()
    assert failures == Counter(), (dict(failures), dict(calls))
    assert calls["heartbeat_jobs"] == 2 * ROUNDS and calls["job_callbacks"] == ROUNDS


@pytest.mark.parametrize("function", ["heartbeat_jobs", "release_jobs", "job_callbacks"])
def test_a_call_that_locks_several_jobs_locks_them_in_id_order(
    fresh_db: str, function: str,
) -> None:
    """Deterministic, whatever the plan: five held jobs whose leases expire in the reverse
    order of their ids, named in reverse order too; another transaction holds the middle one.
    While the call waits for it, it must hold the two jobs before it in id order and not the
    two after it (probed with `for update nowait`)."""
    with psycopg.connect(fresh_db, autocommit=True) as owner:
        user = str(owner.execute("select tests.create_user('a@example.com')").fetchone()[0])
        for n in (4, 1):
            rpc(owner, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "p",
                                     "num_images": n}, claims=as_user(user))  # fmt: skip
        claims = _worker_call(owner, "claim_jobs",
                              {"worker_pool": "sdxl", "worker_id": "w1", "max_jobs": 5})
        tokens = {c["job_id"]: c["lease_token"] for c in claims}
        ids = sorted(tokens)
        for k, job in enumerate(ids):
            owner.execute("update public.jobs set lease_expires_at = now() + make_interval("
                          "secs => %s) where id = %s", (600 - k, job))  # fmt: skip
        order = list(reversed(ids))
        args = {
            "heartbeat_jobs": {"worker_id": "w1", "job_ids": order,
                               "lease_tokens": [tokens[j] for j in order]},
            "release_jobs": {"worker_id": "w1", "job_ids": order,
                             "lease_tokens": [tokens[j] for j in order]},
            "job_callbacks": {"reports": [{"job_id": j, "lease_token": tokens[j],
                                           "status": "completed"} for j in order]},
        }[function]
        with psycopg.connect(fresh_db) as blocker, \
                psycopg.connect(fresh_db, autocommit=True) as caller:  # fmt: skip
            blocker.execute("select from public.jobs where id = %s for update", (ids[2],))
            pid = caller.info.backend_pid
            t = threading.Thread(target=_worker_call, args=(caller, function, args))
            t.start()
            try:
                for _ in range(400):
                    if owner.execute("select wait_event_type = 'Lock' from pg_stat_activity"
                                     " where pid = %s", (pid,)).fetchone()[0]:  # fmt: skip
                        break
                    threading.Event().wait(0.05)
                else:
                    pytest.fail(f"{function} never waited for the job another transaction held")
                locked = []
                for job in ids:
                    try:
                        with owner.transaction(force_rollback=True):
                            owner.execute("select from public.jobs where id = %s"
                                          " for update nowait", (job,))  # fmt: skip
                    except psycopg.errors.LockNotAvailable:
                        locked.append(job)
            finally:
                blocker.rollback()
                t.join(30)
        assert locked == ids[:3], [ids.index(j) for j in locked]
