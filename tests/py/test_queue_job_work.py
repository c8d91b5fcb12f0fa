"""The work of one queue_job does not grow with other users' queued jobs, even when the
statistics of the hot partition were taken before those jobs were queued.

On a large hot partition autoanalyze waits for 2% of it to change, so the statistics can say
the queue is empty for hours while a backlog waits. queue_job's count of the caller's queued
jobs (for the per-user cap) must then still read the caller's jobs alone, not the pool's whole
queue: timings live in `make bench` (bench/README.md, "queue_job's count of a user's queued
jobs"); the work is deterministic and is checked here, as the shared buffers one call touches
(EXPLAIN (ANALYZE, BUFFERS) of the call counts every buffer its statements hit or read), each
call from a new session, so that its generic plans are made from the statistics as they are.
"""

from __future__ import annotations

import json

import psycopg

from jobsdb.postgrest import as_user

BACKLOG = 2_000
HISTORY = 20_000
# Buffers a call may touch beyond the same call before the backlog: a few index pages more as
# the indexes grow, never the queue's pages (1.10.0's count, planned on jobs_claim_idx, touched
# 104 more here: 60 -> 164; 2,700 more with 83,000 jobs in the partition)
SLACK = 40


def _queue_job_buffers(url: str, user: str) -> int:
    """Shared buffers hit or read by one queue_job of `user`, as PostgREST calls it, from a new
    session; rolled back. Twice, the second counted: the first also loads the catalog."""
    with psycopg.connect(url) as c:
        for _ in range(2):
            c.execute("set local role authenticated")
            c.execute("select set_config('request.jwt.claims', %s, true)",
                      (json.dumps(as_user(user)),))
            plan = c.execute(
                "explain (analyze, buffers, format json)"
                " select public.queue_job(job_type => 'sdxl_image_fast', prompt => 'a red fox')"
            ).fetchone()[0]
            c.rollback()
    if isinstance(plan, str):
        plan = json.loads(plan)
    node = plan[0]["Plan"]
    return int(node["Shared Hit Blocks"] + node["Shared Read Blocks"])


def test_queue_job_counts_the_callers_queued_jobs_alone_under_stale_statistics(
        fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as c:
        caller = c.execute("select tests.create_user('caller@example.com')").fetchone()[0]
        others = [c.execute("select tests.create_user(%s)", (f"other{i}@example.com",))
                  .fetchone()[0] for i in range(20)]
        # finished history, and statistics taken while no job is queued, and no autoanalyze to
        # refresh them
        c.execute(
            """insert into public.jobs (user_id, job_type, status, metadata, original_prompt,
                started_at, completed_at)
            select (%s::uuid[])[1 + g %% 20], 'sdxl_image_fast', 'completed',
                jsonb_build_object('prompt', 'done ' || g), 'done ' || g, now(), now()
            from generate_series(1, %s) as g""",
            (others, HISTORY),
        )
        c.execute("alter table jobs_private.jobs_hot set (autovacuum_enabled = off)")
        c.execute("analyze jobs_private.jobs_hot")
        before = _queue_job_buffers(fresh_db, caller)
        c.execute(
            """insert into public.jobs (user_id, job_type, status, metadata, original_prompt)
            select (%s::uuid[])[1 + g %% 20], 'sdxl_image_fast', 'queued',
                jsonb_build_object('prompt', 'backlog ' || g), 'backlog ' || g
            from generate_series(1, %s) as g""",
            (others, BACKLOG),
        )
        assert c.execute("select count(*) from jobs_private.jobs_hot where status = 'queued'"
                         ).fetchone()[0] == BACKLOG
    after = _queue_job_buffers(fresh_db, caller)
    assert after <= before + SLACK, (
        f"queue_job touched {after} buffers with {BACKLOG} queued jobs of other users, {before}"
        " without them: it reads the pool's queue"
    )
