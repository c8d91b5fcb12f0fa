"""The work of one page of the read RPCs does not grow with the user's history: the shared
buffers one call touches (EXPLAIN ANALYZE BUFFERS of the call, nested statements included), as
the user through RLS, for a user with 300 completed jobs (one output each, among 15,000 jobs of
50 users, so each sits on its own pages) and a page of 50 items / 20 groups. Before the reads
were bounded (5dd49c3) each call read every job of the user (list_jobs sorted all of them,
library_items probed each candidate's outputs twice, workspace_groups read 16 jobs per group
asked for); the bounds sit between the two designs, so either regression fails. list_jobs of one
status (none of the user's 300 jobs has it) reads its own index: with one query for any status (a
cached generic plan, as 1.1.0 made after five calls in a session) it read all 300 jobs."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user
from jobsdb.urls import url_for_db

USER = "00000000-0000-4000-8000-0000000000c1"
SEED = [
    f"""insert into auth.users (id, aud, role, email, created_at, updated_at)
    values ('{USER}', 'authenticated', 'authenticated', 'buffers@example.com', now(), now())""",
    f"insert into public.profiles (id) values ('{USER}')",
    "set session_replication_role = replica",
    f"""insert into public.jobs (
        id, user_id, job_type, status, attempts, max_attempts, metadata, image_id, format,
        quality, model_type, created_at, started_at, completed_at, updated_at, worker_pool,
        fair_rank
    )
    select md5('bj' || g)::uuid,
        case when g % 50 = 0 then '{USER}'::uuid else md5('other' || g % 50)::uuid end,
        t.job_type, 'completed', 1, 3,
        jsonb_build_object('job_id', md5('bj' || g)::uuid, 'image_index', 0, 'prompt', 'p' || g),
        md5('bi' || g)::uuid, t.format, t.quality, t.model_type,
        now() - make_interval(mins => g), now() - make_interval(mins => g),
        now() - make_interval(mins => g) + interval '5 seconds', now(), t.worker_pool, g
    from generate_series(1, 15000) as g
    inner join public.job_types as t on t.job_type = 'image_fast'""",
    f"""insert into public.images_videos (
        id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name, created_at
    )
    select md5('bi' || g)::uuid,
        case when g % 50 = 0 then '{USER}'::uuid else md5('other' || g % 50)::uuid end,
        md5('bj' || g)::uuid, 0, 'image', 'b', 'u/' || g || '.png', g || '.png',
        now() - make_interval(mins => g)
    from generate_series(1, 15000) as g""",
    "set session_replication_role = origin",
]
# (statement, most buffers): measured 66 / 228 / 175 with the bounded reads, 317 / 466 / 545
# with the index and bodies of 5dd49c3
CALLS = {
    "list_jobs": ("select count(*) from public.list_jobs()", 150),
    # measured 6 / 1 with a query per kind of status and jobs_user_failed_cancelled_idx,
    # 309 / 309 with 1.1.0's one query (its cached generic plan)
    "list_jobs(status => 'queued')": ("select count(*) from public.list_jobs('queued')", 60),
    "list_jobs(status => 'failed')": ("select count(*) from public.list_jobs('failed')", 60),
    "library_items": ("select public.library_items()", 350),
    "workspace_groups": ("select public.workspace_groups()", 350),
}


def _buffers(conn: psycopg.Connection[Any], stmt: str) -> int:
    with conn.transaction():
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('request.jwt.claims', %s, true)",
            [json.dumps(as_user(USER))],
        )
        for _ in range(6):  # warm: the functions compiled, the catalog cached, plans cached
            conn.execute(stmt)
        plan = conn.execute(
            "explain (analyze, buffers, format json) " + stmt
        ).fetchone()[0][0]["Plan"]
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


@pytest.fixture
def seeded(fresh_db: str, superuser_url: str | None) -> str:
    if superuser_url is None:
        pytest.skip("the seed needs a superuser (session_replication_role)")
    db = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(url_for_db(superuser_url, str(db)), autocommit=True) as conn:
        for sql in SEED:
            conn.execute(sql)
        conn.execute("vacuum analyze public.jobs, public.images_videos")
    return fresh_db


@pytest.mark.parametrize("name", sorted(CALLS))
def test_one_page_reads_a_bounded_number_of_buffers(seeded: str, name: str) -> None:
    stmt, bound = CALLS[name]
    with psycopg.connect(seeded, autocommit=True) as conn:
        used = _buffers(conn, stmt)
    assert 0 < used <= bound, (name, used)


# serial: the range read starts at the cursor snapshot's xmin, which a transaction holding an
# xid in any database of the cluster holds back: with one open since before the seeding, every
# job the user wrote is in the range (measured 307 buffers; the 501-row limit bounds it).
@pytest.mark.serial
def test_the_reconcile_read_reads_what_changed_not_the_users_history(seeded: str) -> None:
    """job_changes_since(cursor) after two of the user's 300 jobs changed: it reads the user's
    unfinished jobs and the index range of their ended jobs written since the cursor (measured
    31 buffers), not every job of the user (with the rows' xmin as the only record of their
    writer it read 308: each job on its own page)."""
    with psycopg.connect(seeded, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(
                "select set_config('role', 'authenticated', true),"
                " set_config('request.jwt.claims', %s, true)",
                [json.dumps(as_user(USER))],
            )
            cursor = conn.execute("select public.job_changes_since() ->> 'cursor'").fetchone()[0]
        changed = [r[0] for r in conn.execute(
            "update public.jobs set moderation_status = 'approved' where id in ("
            " select id from public.jobs where user_id = %s order by created_at limit 2)"
            " returning id::text", [USER]).fetchall()]
        stmt = f"select public.job_changes_since('{cursor}')"
        used = _buffers(conn, stmt)
        with conn.transaction():
            conn.execute(
                "select set_config('role', 'authenticated', true),"
                " set_config('request.jwt.claims', %s, true)",
                [json.dumps(as_user(USER))],
            )
            answer = conn.execute(stmt).fetchone()[0]
    assert answer["reset"] is False
    assert sorted(j["job_id"] for j in answer["changed"]) == sorted(changed)
    assert 0 < used <= 60, used

