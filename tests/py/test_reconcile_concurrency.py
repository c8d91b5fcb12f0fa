"""The reconcile read converges under concurrent writers: a client that follows
job_changes_since from cursor to cursor (keeping, per job, the newest updated_at it was told)
ends with exactly the database's updated_at of every job, whatever the writers did meanwhile.

Real connections, at once: two writers whose transactions stay open across the reader's calls,
write under savepoints (some rolled back), end jobs (cancel, a worker's claim and completion)
and touch ended ones (moderation), and sometimes roll back entirely; one worker claims and
completes through the package's functions; one reader polls as the user. Every write bumps the
row's updated_at (the update trigger), so a write the reader was never told of leaves its view
behind. With 1.3.0's body (the rows' xmin) the savepoint writes of transactions open across a
cursor were lost this way: 2-3 of the 30 jobs were behind in each of three runs."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import psycopg

from jobsdb.postgrest import as_user, rpc

SECONDS = 4.0
JOBS = 30


def _writer(url: str, jobs: list[str], seed: int, stop: threading.Event,
            errors: list[BaseException]) -> None:
    rnd = random.Random(seed)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("begin")
                conn.execute("select pg_current_xact_id()")
                # in one order (the list's): two writers locking rows in opposite orders
                # deadlock, which is not what this test is about
                picked = sorted(rnd.sample(range(len(jobs)), rnd.randint(1, 3)))
                for n, job in enumerate(jobs[i] for i in picked):
                    kind = rnd.random()
                    if kind < 0.5:
                        conn.execute(f"savepoint s{n}")
                    conn.execute(
                        "update public.jobs set moderation_status ="
                        " (array['pending', 'approved', 'flagged'])[1 + floor(random() * 3)::int]"
                        " where id = %s", (job,))
                    if rnd.random() < 0.05:  # a rare cancel: the job ends
                        conn.execute("update public.jobs set status = 'cancelled'"
                                     " where id = %s and status = 'queued'", (job,))
                    if kind < 0.5:
                        verb = "rollback to" if rnd.random() < 0.3 else "release"
                        conn.execute(f"{verb} savepoint s{n}")
                time.sleep(rnd.uniform(0, 0.05))  # open across the reader's calls
                conn.execute("rollback" if rnd.random() < 0.1 else "commit")
    except BaseException as e:  # noqa: BLE001 - reported by the test
        errors.append(e)


def _worker(url: str, stop: threading.Event, errors: list[BaseException]) -> None:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                got = rpc(conn, "claim_jobs", {"worker_pool": "sdxl", "worker_id": "w1"},
                          role="jobs_worker", claims={})
                for c in got:
                    time.sleep(0.02)
                    rpc(conn, "job_callback", {"job_id": c["job_id"], "status": "completed",
                                               "lease_token": c["lease_token"]},
                        role="jobs_worker", claims={})
                time.sleep(0.2)
    except BaseException as e:  # noqa: BLE001 - reported by the test
        errors.append(e)


def test_a_client_following_cursors_ends_with_the_databases_state(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        user = str(conn.execute("select tests.create_user('rc@example.com')").fetchone()[0])
        conn.execute("update jobs_private.settings set jobs_per_minute = 1000, job_burst = 1000")
        jobs = [rpc(conn, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "a cat"},
                    claims=as_user(user))["jobs"][0]["id"] for _ in range(JOBS)]
        view: dict[str, Any] = {}
        calls = resets = 0

        def follow(cursor: str | None) -> str:
            nonlocal calls, resets
            answer = rpc(conn, "job_changes_since", {"cursor": cursor}, claims=as_user(user))
            calls += 1
            if answer["reset"]:  # reload, as watchJobs does; keep the new cursor
                resets += 1
                rows = conn.execute("select id::text, updated_at::text from public.jobs"
                                    " where user_id = %s", (user,)).fetchall()
                changed = [{"job_id": i, "updated_at": u} for i, u in rows]
            else:
                changed = answer["changed"]
            for c in changed:
                seen = conn.execute("select %s::timestamptz", (c["updated_at"],)).fetchone()[0]
                view[c["job_id"]] = max(view.get(c["job_id"], seen), seen)
            return answer["cursor"]

        stop, errors = threading.Event(), []
        threads = [threading.Thread(target=_writer, args=(fresh_db, jobs, s, stop, errors))
                   for s in (1, 2)]
        threads.append(threading.Thread(target=_worker, args=(fresh_db, stop, errors)))
        cursor = follow(None)
        for t in threads:
            t.start()
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            cursor = follow(cursor)
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join()
        assert not errors, errors
        follow(cursor)  # once every writer has finished
        db = dict(conn.execute("select id::text, updated_at from public.jobs where user_id = %s",
                               (user,)).fetchall())
        ended = conn.execute("select count(*) from public.jobs where user_id = %s"
                             " and status in ('completed', 'cancelled')", (user,)).fetchone()[0]
    assert resets == 1 and calls > 50, (resets, calls)
    assert ended > 0  # the worker and the cancels ended some jobs: both reads were exercised
    behind = {j: (view.get(j), u) for j, u in db.items() if view.get(j) != u}
    assert not behind, f"{len(behind)} of {len(db)} jobs behind: {behind}"
