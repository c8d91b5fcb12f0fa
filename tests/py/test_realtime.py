"""Realtime and the partitioned jobs table: jobs is not in the supabase_realtime publication, and
why a subscription to it could not work.

Supabase Realtime (postgres_changes) reads the changes of the published tables from a logical
replication slot and, for each subscriber, checks the new row against the table's SELECT policy as
that subscriber. jobs is partitioned: a change is decoded under the name of the partition holding
the row, never public.jobs (test (b), on a real slot; tests/py/test_realtime_partitions.py follows
Realtime's own path with wal2json), so jobs left the publication and apps follow status by the
broadcast topic and job_changes_since (docs/app.md). Test (a) checks that, and that the SELECT
policy still decides what each user reads of jobs, while the partition itself is closed to them.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc


def _user(conn: psycopg.Connection[Any], email: str) -> str:
    return str(conn.execute("select tests.create_user(%s)", (email,)).fetchone()[0])


def _queue_and_claim(conn: psycopg.Connection[Any], user_id: str) -> str:
    """Alice queues a job (as PostgREST would); a worker claims it: queued -> processing."""
    answer = rpc(
        conn,
        "queue_job",
        {"job_type": "sdxl_image_fast", "prompt": "a cat"},
        claims=as_user(user_id),
    )
    job_id = answer["jobs"][0]["id"]
    claimed = rpc(
        conn,
        "claim_jobs",
        {"worker_pool": "sdxl", "worker_id": "gpu-1"},
        role="jobs_worker",
        claims={},
    )
    assert [c["job_id"] for c in claimed] == [job_id]
    return job_id


def _visible_to(conn: psycopg.Connection[Any], user_id: str, job_id: str) -> list[tuple]:
    """The row as the subscriber would get it: the SELECT policy evaluated as that user."""
    with conn.transaction():
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('request.jwt.claims', %s, true)",
            (json.dumps(as_user(user_id)),),
        )
        rows = conn.execute(
            "select id::text, status from public.jobs where id = %s", (job_id,)
        ).fetchall()
    return rows


def test_a_status_change_is_visible_to_the_owner_and_not_to_another_user(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        published = conn.execute(
            "select schemaname || '.' || tablename from pg_catalog.pg_publication_tables"
            " where pubname = 'supabase_realtime'"
        ).fetchall()
        assert ("public.jobs",) not in published
        assert ("jobs_private.jobs_hot",) not in published

        # A subscriber needs SELECT on the table (Realtime checks it before subscribing).
        assert conn.execute(
            "select has_table_privilege('authenticated', 'public.jobs', 'select')"
        ).fetchone()[0]

        alice = _user(conn, "alice@example.com")
        bob = _user(conn, "bob@example.com")
        job_id = _queue_and_claim(conn, alice)

        assert _visible_to(conn, alice, job_id) == [(job_id, "processing")]
        assert _visible_to(conn, bob, job_id) == []
        # the partition holding her job is not hers to read: no grant, whatever the policy
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(
                "select set_config('role', 'authenticated', true),"
                " set_config('request.jwt.claims', %s, true)",
                (json.dumps(as_user(alice)),),
            )
            conn.execute("select id from jobs_private.jobs_hot where id = %s", (job_id,))


def test_the_status_update_is_decoded_under_the_partitions_name(
    fresh_db: str, superuser_url: str | None
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        if conn.execute("show wal_level").fetchone()[0] != "logical":
            pytest.skip("wal_level is not logical")
        can_replicate = conn.execute(
            "select rolreplication or rolsuper from pg_catalog.pg_roles"
            " where rolname = current_user"
        ).fetchone()[0]
        if not can_replicate and superuser_url is None:
            pytest.skip("neither the owner nor a superuser can create a replication slot")

        alice = _user(conn, "alice@example.com")
        answer = rpc(
            conn,
            "queue_job",
            {"job_type": "sdxl_image_fast", "prompt": "a cat"},
            claims=as_user(alice),
        )
        job_id = answer["jobs"][0]["id"]

    slot_url = fresh_db
    if not can_replicate:
        from jobsdb.urls import url_for_db

        slot_url = url_for_db(superuser_url, psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"])
    slot = f"jobsdb_test_{secrets.token_hex(4)}"
    with psycopg.connect(slot_url, autocommit=True) as sconn:
        sconn.execute("select pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
        try:
            # The status change, committed: a worker claims the job (queued -> processing).
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                # The cluster may run with synchronous_commit off; a slot decodes only WAL that
                # is flushed, so make this commit wait for the flush.
                conn.execute("set synchronous_commit = on")
                claimed = rpc(
                    conn,
                    "claim_jobs",
                    {"worker_pool": "sdxl", "worker_id": "gpu-1"},
                    role="jobs_worker",
                    claims={},
                )
                assert [c["job_id"] for c in claimed] == [job_id]

            changes = [
                r[0]
                for r in sconn.execute(
                    "select data from pg_logical_slot_get_changes(%s, null, null)", (slot,)
                ).fetchall()
            ]
        finally:
            sconn.execute("select pg_drop_replication_slot(%s)", (slot,))

    # decoded under the partition's name: a subscription to public.jobs would never match it
    assert not [c for c in changes if c.startswith("table public.jobs:")], changes
    updates = [c for c in changes if c.startswith("table jobs_private.jobs_hot: UPDATE:")]
    assert len(updates) == 1, changes
    assert f"id[uuid]:'{job_id}'" in updates[0]
    assert "status[text]:'processing'" in updates[0]
    assert "locked_by[text]:'gpu-1'" in updates[0]
    assert any(c.startswith("COMMIT") for c in changes)
