"""workspace_groups and library_items answer exactly what they answered before their rewrite to
bounded reads (the bodies of 5dd49c3, as session-local functions from
tests/fixtures/reference_workspace_groups_and_library_items.sql): every page, followed by its
cursor, for several page sizes, as each user through RLS. The data has what the rewritten
reads must get right: groups of several jobs sharing created_at, different groups sharing
created_at (ties broken by group id), a group whose jobs span two created_at values, jobs
without outputs, jobs with several outputs, failed and queued jobs, and another user's jobs
interleaved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "fixtures" / "reference_workspace_groups_and_library_items.sql"
REFERENCE_LIST_JOBS = ROOT / "tests" / "fixtures" / "reference_list_jobs.sql"
USERS = ["00000000-0000-4000-8000-0000000000b1", "00000000-0000-4000-8000-0000000000b2"]

# 160 jobs per user in groups of 1-4 (group id g / 4 of a random-ish size), created in 25
# distinct instants (so groups share created_at); every 9th group's last job one second
# later; completed jobs get 0-2 assets.
SEED = [
    """insert into auth.users (id, aud, role, email, created_at, updated_at)
    select u::uuid, 'authenticated', 'authenticated', u || '@example.com', now(), now()
    from unnest(%(users)s::text[]) as u""",
    "insert into public.profiles (id) select u::uuid from unnest(%(users)s::text[]) as u",
    "set session_replication_role = replica",
    """insert into public.jobs (
        id, user_id, job_type, status, attempts, max_attempts, metadata, format, quality,
        model_type, created_at, started_at, completed_at, updated_at, worker_pool, fair_rank,
        locked_by, lease_expires_at, lease_token
    )
    select md5('rj' || u || '-' || g)::uuid, u::uuid, t.job_type, x.status,
        case when x.status = 'queued' then 0 else 1 end, 3,
        jsonb_build_object('job_id', md5('rg' || u || '-' || (g / (1 + g %% 4)))::uuid,
            'image_index', g %% 4, 'prompt', 'p' || g),
        t.format, t.quality, t.model_type, c.at,
        case when x.status <> 'queued' then c.at end,
        case when x.status in ('completed', 'failed', 'cancelled')
            then c.at + interval '3 seconds' end,
        c.at, t.worker_pool, g,
        case when x.status = 'processing' then 'w1' end,
        case when x.status = 'processing' then c.at + interval '1 hour' end,
        case when x.status = 'processing' then md5('lt' || g)::uuid end
    from unnest(%(users)s::text[]) as u
    cross join generate_series(1, 160) as g
    cross join lateral (
        select case when g %% 13 = 0 then 'failed' when g %% 17 = 0 then 'queued'
            when g %% 19 = 0 then 'cancelled' when g %% 23 = 0 then 'processing'
            else 'completed' end as status
    ) as x
    cross join lateral (
        select timestamptz '2026-11-01 00:00:00+00'
            + make_interval(mins => (g / (1 + g %% 4)) %% 25)
            + case when (g / (1 + g %% 4)) %% 9 = 0 and g %% 4 = 3
                then interval '1 second' else interval '0' end as at
    ) as c
    inner join public.job_types as t on t.job_type = 'image_fast'""",
    """insert into public.images_videos (
        id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name, created_at
    )
    select gen_random_uuid(), j.user_id, j.id, a, 'image', 'b', 'f/' || j.id || '/' || a,
        a || '.png', j.created_at
    from public.jobs as j
    cross join generate_series(0, 2) as a
    where j.status = 'completed' and a < ('x' || left(j.id::text, 1))::bit(4)::int % 3""",
    "set session_replication_role = origin",
]


@pytest.fixture
def seeded(fresh_db: str, superuser_url: str | None) -> str:
    if superuser_url is None:
        pytest.skip("the seed needs a superuser (session_replication_role)")
    db = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(url_for_db(superuser_url, str(db)), autocommit=True) as conn:
        for sql in SEED:
            conn.execute(sql, {"users": USERS} if "%(users)s" in sql else None)
        conn.execute("vacuum analyze public.jobs, public.images_videos")
    return fresh_db


def _as(conn: psycopg.Connection[Any], user: str, sql: str, args: dict[str, Any]) -> Any:
    with conn.transaction():
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('request.jwt.claims', %s, true)",
            [json.dumps(as_user(user))],
        )
        return conn.execute(sql, args).fetchone()[0]


def test_workspace_groups_and_library_items_answer_as_before(seeded: str) -> None:
    pages = 0
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute(REFERENCE.read_text())
        for user in USERS:
            for n in (1, 3, 20):
                cursor: dict[str, Any] | None = {"before": None, "before_group": None}
                while cursor is not None:
                    args = {"n": n, **cursor}
                    call = ("(before := %(before)s::timestamptz,"
                            " before_group := %(before_group)s::uuid, max_groups := %(n)s)")
                    got = _as(conn, user, "select public.workspace_groups" + call, args)
                    want = _as(conn, user, "select pg_temp.workspace_groups_ref" + call, args)
                    assert got == want, (user, n, cursor)
                    assert got["groups"] or cursor["before"] is not None
                    pages += 1
                    cursor = got["next"]
            for n in (1, 7, 200):
                cursor = {"before": None, "before_id": None}
                while cursor is not None:
                    args = {"n": n, **cursor}
                    call = ("(before := %(before)s::timestamptz,"
                            " before_id := %(before_id)s::uuid, max_rows := %(n)s)")
                    got = _as(conn, user, "select public.library_items" + call, args)
                    want = _as(conn, user, "select pg_temp.library_items_ref" + call, args)
                    assert got == want, (user, n, cursor)
                    pages += 1
                    cursor = got["next"]
    assert pages > 300  # every page of every size was compared


def test_list_jobs_answers_as_before(seeded: str) -> None:
    """list_jobs with a query per kind of status answers what the one query of
    1.1.0 answered: every page of every status (and none, and one no job has), followed by its
    keyset cursor, for several page sizes, called more than five times in one session (when a
    cached plan turns generic)."""
    pages = 0
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute(REFERENCE_LIST_JOBS.read_text())
        for user in USERS:
            for status in (None, "queued", "processing", "completed", "failed", "cancelled",
                           "bogus"):
                for n in (1, 7, 200):
                    cursor: dict[str, Any] | None = {"before": None, "before_id": None}
                    while cursor is not None:
                        args = {"n": n, "status": status, **cursor}
                        call = ("(status := %(status)s, before := %(before)s::timestamptz,"
                                " before_id := %(before_id)s::uuid, max_rows := %(n)s) as r")
                        got = _as(conn, user, "select jsonb_agg(to_jsonb(r))"
                                  " from public.list_jobs" + call, args)
                        want = _as(conn, user, "select jsonb_agg(to_jsonb(r))"
                                   " from pg_temp.list_jobs_ref" + call, args)
                        assert got == want, (user, status, n, cursor)
                        pages += 1
                        cursor = None if not got or len(got) < n else {
                            "before": got[-1]["created_at"], "before_id": got[-1]["id"]}
    assert pages > 300


def test_the_seed_has_what_the_comparison_needs(seeded: str) -> None:
    with psycopg.connect(seeded, autocommit=True) as conn:
        shapes = conn.execute(
            "with g as (select user_id, metadata ->> 'job_id' as gid, count(*) as jobs,"
            " count(distinct created_at) as instants, max(created_at) as newest"
            " from public.jobs group by 1, 2)"
            " select count(*) filter (where jobs > 1), count(*) filter (where instants > 1),"
            " (select count(*) from (select user_id, newest from g group by 1, 2"
            " having count(*) > 1) as t) from g"
        ).fetchone()
    assert all(n > 0 for n in shapes), shapes  # multi-job groups, split groups, tied groups
    with psycopg.connect(seeded, autocommit=True) as conn:
        statuses = {r[0] for r in conn.execute("select distinct status from public.jobs")}
    assert statuses == {"queued", "processing", "completed", "failed", "cancelled"}
