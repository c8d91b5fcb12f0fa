"""job_callbacks under real concurrency: two workers (own connections, PostgREST-shaped calls)
report overlapping batches of the same attempts at once, one in ascending and one in descending
order (a relay retrying what a worker also sent). Each job is completed exactly once: one
`completed` answer, the other `duplicate`, one output row; no deadlock, because every batch
locks its jobs in job id order whatever the order of its reports."""

from __future__ import annotations

import threading
from collections import Counter

import psycopg

from jobsdb.postgrest import as_user, rpc

JOBS = 60
BATCH = 10


def test_overlapping_batches_complete_each_job_once(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as owner:
        user = str(owner.execute("select tests.create_user('a@example.com')").fetchone()[0])
        owner.execute("update jobs_private.settings set max_queued_per_user = 1000,"
                      " jobs_per_minute = null")
        for i in range(JOBS):
            rpc(owner, "queue_job", {"job_type": "sdxl_image_fast", "prompt": f"p{i}"},
                claims=as_user(user))  # fmt: skip
        claims = rpc(owner, "claim_jobs",
                     {"worker_pool": "sdxl", "worker_id": "gpu-1", "max_jobs": 100},
                     role="jobs_worker")  # fmt: skip
    assert len(claims) == JOBS
    reports = [
        {"job_id": c["job_id"], "status": "completed", "lease_token": c["lease_token"],
         "assets": [f"{user}/{c['job_id']}/0.png"]}
        for c in claims
    ]  # fmt: skip
    # worker 1: jobs 0..44 ascending; worker 2: jobs 15..59 descending (30 jobs overlap)
    orders = [reports[:45], list(reversed(reports[15:]))]
    answers: list[list[tuple[str, str]]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(n: int) -> None:
        try:
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                start.wait()
                mine = orders[n]
                for i in range(0, len(mine), BATCH):
                    rows = rpc(conn, "job_callbacks", {"reports": mine[i : i + BATCH]},
                               role="jobs_worker")  # fmt: skip
                    # answered in the input order
                    assert [r["job_id"] for r in rows] == [r["job_id"] for r in mine[i : i + BATCH]]
                    answers[n] += [(r["job_id"], r["result"]) for r in rows]
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    per_job = Counter((job, result) for a in answers for job, result in a)
    ids = [r["job_id"] for r in reports]
    for k, job in enumerate(ids):
        reported = 2 if 15 <= k < 45 else 1
        assert per_job[(job, "completed")] == 1, (k, per_job)
        assert per_job[(job, "duplicate")] == reported - 1, (k, per_job)
    with psycopg.connect(fresh_db, autocommit=True) as owner:
        rows = owner.execute(
            "select j.status, count(iv.id), count(distinct iv.asset_index)"
            " from public.jobs as j left join public.images_videos as iv on iv.job_id = j.id"
            " where j.id = any(%s::uuid[]) group by j.id, j.status",
            (ids,),
        ).fetchall()
    assert len(rows) == JOBS and set(rows) == {("completed", 1, 1)}, Counter(rows)
