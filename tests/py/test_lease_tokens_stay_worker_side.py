"""A claim's fencing token stays with the worker that claimed the job.

jobs.lease_token holds only a digest of it (jobs_private.lease_digest), so a user cannot read the
token through a select, an RPC or the Realtime path, and what they can read (the digest) does not
work as a token. Each test has its positive control: the worker's own token works.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc


def _setup(conn: psycopg.Connection[Any]) -> tuple[str, str, str]:
    """Alice queues a job and a worker claims it: (alice, job_id, the worker's token)."""
    alice = str(conn.execute("select tests.create_user('alice@example.com')").fetchone()[0])
    answer = rpc(
        conn, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "a cat"}, claims=as_user(alice)
    )
    job_id = answer["jobs"][0]["id"]
    (claim,) = rpc(
        conn, "claim_jobs", {"worker_pool": "sdxl", "worker_id": "gpu-1"}, role="jobs_worker"
    )
    assert claim["job_id"] == job_id
    return alice, job_id, claim["lease_token"]


def _as_user(conn: psycopg.Connection[Any], user: str, sql: str, params: Any = None) -> list:
    with conn.transaction():
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('request.jwt.claims', %s, true)",
            (json.dumps(as_user(user)),),
        )
        return conn.execute(sql, params).fetchall()


def test_a_select_shows_the_user_a_digest_that_does_not_work_as_a_token(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        alice, job_id, token = _setup(conn)
        ((seen, locked_by),) = _as_user(
            conn, alice, "select lease_token::text, locked_by from public.jobs where id = %s",
            (job_id,),
        )
        assert seen is not None and seen != token
        (everything,) = _as_user(
            conn, alice, "select to_jsonb(j)::text from public.jobs as j where id = %s", (job_id,)
        )
        assert token not in everything[0]
        # what the user read, presented as the token, is refused and changes nothing
        (beat,) = rpc(
            conn, "heartbeat_jobs",
            {"worker_id": locked_by, "job_ids": [job_id], "lease_tokens": [seen]},
            role="jobs_worker",
        )  # fmt: skip
        assert beat["state"] == "lost"
        res = rpc(
            conn, "job_callback",
            {"job_id": job_id, "status": "completed", "lease_token": seen, "assets": ["x.png"]},
            role="jobs_worker",
        )  # fmt: skip
        assert res["result"] == "stale"
        assert conn.execute("select status from public.jobs where id = %s", (job_id,)).fetchone()[
            0
        ] == "processing"
        # positive control: the worker's own token works
        (beat,) = rpc(
            conn, "heartbeat_jobs",
            {"worker_id": "gpu-1", "job_ids": [job_id], "lease_tokens": [token]},
            role="jobs_worker",
        )  # fmt: skip
        assert beat["state"] == "extended"


def test_no_user_rpc_answers_the_token(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        alice, job_id, token = _setup(conn)
        got = rpc(conn, "get_job", {"job_id": job_id}, claims=as_user(alice))
        assert got["id"] == job_id and got["status"] == "processing"  # the job is there
        assert "lease_token" not in got and "locked_by" not in got
        answers = [got] + [
            rpc(conn, name, args, claims=as_user(alice))
            for name, args in [
                ("list_jobs", {}),
                ("workspace_groups", {}),
                ("library_items", {}),
                ("cancel_job", {"job_id": job_id}),
                ("list_jobs", {}),
            ]
        ]
        assert job_id in json.dumps(answers[1])  # list_jobs shows the job ...
        for a in answers:
            assert token not in json.dumps(a)  # ... but no answer carries the token


def test_the_realtime_change_carries_no_token(fresh_db: str, superuser_url: str | None) -> None:
    """What a logical slot reads of the claim's UPDATE (test_realtime.py): jobs is not in the
    publication, but a project may decode it by other means."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        if conn.execute("show wal_level").fetchone()[0] != "logical":
            pytest.skip("wal_level is not logical")
        can_replicate = conn.execute(
            "select rolreplication or rolsuper from pg_catalog.pg_roles"
            " where rolname = current_user"
        ).fetchone()[0]
        if not can_replicate and superuser_url is None:
            pytest.skip("neither the owner nor a superuser can create a replication slot")
    slot_url = fresh_db
    if not can_replicate:
        from jobsdb.embedded import url_for_db

        slot_url = url_for_db(superuser_url, psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"])
    slot = f"jobsdb_test_{secrets.token_hex(4)}"
    with psycopg.connect(slot_url, autocommit=True) as sconn:
        sconn.execute("select pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
        try:
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                conn.execute("set synchronous_commit = on")
                _, job_id, token = _setup(conn)
                (digest,) = conn.execute(
                    "select lease_token::text from public.jobs where id = %s", (job_id,)
                ).fetchone()
            changes = [
                r[0]
                for r in sconn.execute(
                    "select data from pg_logical_slot_get_changes(%s, null, null)", (slot,)
                ).fetchall()
            ]
        finally:
            sconn.execute("select pg_drop_replication_slot(%s)", (slot,))
    # decoded under the partition's name (jobs is partitioned; test_realtime.py)
    claim = [
        c for c in changes
        if c.startswith("table jobs_private.jobs_hot: UPDATE:") and job_id in c
    ]
    assert len(claim) == 1, changes
    assert "status[text]:'processing'" in claim[0]
    assert f"lease_token[uuid]:'{digest}'" in claim[0]  # the lease column is published ...
    assert not any(token in c for c in changes)  # ... with the digest, never the token
