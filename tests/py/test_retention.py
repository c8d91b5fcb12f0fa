"""Retention under load: purge_finished_jobs deletes only old failed and cancelled jobs, in
bounded batches, while two workers keep claiming and completing the queue on other
connections; the workers never wait on the purge (skip locked, small transactions)."""

from __future__ import annotations

import threading
import time

import psycopg

from jobsdb.postgrest import rpc
from jobsdb.worker import Worker

SEED = """
with u as (
    insert into auth.users (id, aud, role, email, created_at, updated_at)
    values (gen_random_uuid(), 'authenticated', 'authenticated', 'retention@example.com', now(),
        now())
    returning id
), p as (
    insert into public.profiles (id) select id from u returning id
)
insert into public.jobs (user_id, job_type, status, metadata)
select p.id, 'image_fast', case when g.n <= 1000 then 'completed' else 'queued' end,
    jsonb_build_object('kind', case
        when g.n <= 1000 then 'old completed'
        when g.n <= 4000 then 'old failed'
        when g.n <= 6000 then 'old cancelled'
        when g.n <= 6500 then 'recent failed'
        else 'work' end)
from p cross join generate_series(1, 8500) as g (n)
"""
# walk the seeded jobs to their states along allowed transitions, then age them
SHAPE = [
    "update public.jobs set status = 'processing', attempts = 1, locked_by = 'seed',"
    " lease_expires_at = now() + interval '1 hour', lease_token = gen_random_uuid()"
    " where metadata ->> 'kind' in ('old failed', 'recent failed')",
    "update public.jobs set status = 'failed'"
    " where metadata ->> 'kind' in ('old failed', 'recent failed')",
    "update public.jobs set status = 'cancelled' where metadata ->> 'kind' = 'old cancelled'",
    "update public.jobs set started_at = now() - interval '41 days',"
    " completed_at = now() - interval '40 days' where metadata ->> 'kind' like 'old %'",
    "update public.jobs set started_at = now() - interval '2 days',"
    " completed_at = now() - interval '1 day' where metadata ->> 'kind' = 'recent failed'",
]
BATCH = 200


def test_purge_deletes_only_old_failed_and_cancelled_in_batches_while_workers_claim(
    fresh_db: str,
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SEED)
        for sql in SHAPE:
            conn.execute(sql)
        conn.execute("vacuum analyze public.jobs")

    errors: list[BaseException] = []
    claim_seconds: list[float] = []
    batches: list[int] = []
    claims_during_purge: list[int] = []
    done, purging = threading.Event(), threading.Event()

    def work(worker_id: str) -> None:
        try:
            with Worker(fresh_db, "wan", worker_id) as w:
                while not done.is_set():
                    t = time.perf_counter()
                    jobs = w.claim(10)
                    claim_seconds.append(time.perf_counter() - t)
                    if purging.is_set():
                        claims_during_purge.append(len(jobs))
                    if not jobs:
                        return
                    for j in jobs:
                        w.complete(j, [f"{j.user_id}/out/{j.job_id}.png"])
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    def purge() -> None:
        try:
            with psycopg.connect(fresh_db) as conn:
                purging.set()
                while True:
                    n = rpc(
                        conn,
                        "purge_finished_jobs",
                        {"older_than": "30 days", "batch_size": BATCH},
                        role="service_role",
                    )
                    batches.append(n)
                    if n == 0:
                        purging.clear()
                        return
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    threads.append(threading.Thread(target=purge))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a thread did not finish in 120 s"

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        left = dict(
            conn.execute(
                "select metadata ->> 'kind' || ' ' || status, count(*) from public.jobs group by 1"
            ).fetchall()
        )
    assert left == {
        "old completed completed": 1000,
        "recent failed failed": 500,
        "work completed": 2000,
    }, left
    assert sum(batches) == 5000 and batches[-1] == 0
    assert max(batches) <= BATCH and len(batches) >= 5000 // BATCH + 1
    assert claims_during_purge, "the workers made no claim while the purge ran: no overlap"
    # claims never queued behind the purge's locks (the slowest claim stays far from a wait)
    assert max(claim_seconds) < 2.0, max(claim_seconds)
