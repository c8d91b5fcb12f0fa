"""Property test: random sequences of queue / claim / heartbeat / callback / cancel / rescue /
lease-expiry steps against a small Python model of the job lifecycle; after every step the
model's status, attempts, token, holder and lease state of every job must equal the database's.

Every call goes through jobsdb.postgrest.rpc (PostgREST-shaped). No caller can set a clock: time
moves the honest way, the owner ending a lease (lease_expires_at in the past). Leases are 30 s
or longer, so none ends by itself within an example; retry_base_seconds = 0 makes a requeued job
due at once.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from jobsdb.postgrest import as_user, rpc

WORKERS = ("w1", "w2")


@dataclass
class Job:
    id: str
    user: str
    status: str = "queued"
    attempts: int = 0
    max_attempts: int = 3
    token: str | None = None  # latest claim's token: kept when the attempt ends, rescue drops it
    locked_by: str | None = None
    lease: str | None = None  # None (no lease), live or expired
    tokens: list[str] = field(default_factory=list)  # every token ever issued


def digest(token: str | None) -> str | None:
    """jobs.lease_token holds this digest of a claim's token (jobs_private.lease_digest)."""
    if token is None:
        return None
    return str(uuid.UUID(hashlib.sha256(uuid.UUID(token).bytes).hexdigest()[:32]))


def make_machine(url: str) -> type[RuleBasedStateMachine]:
    with psycopg.connect(url, autocommit=True) as c:
        # the rate of new jobs is not this model's: every example queues for the same users
        c.execute("update jobs_private.settings set retry_base_seconds = 0,"
                  " jobs_per_minute = null where singleton")
        # two job types of one pool with 1 and 3 attempts, so short runs reach the last attempt
        c.execute("update public.job_types set default_max_attempts = 1"
                  " where job_type = 'sdxl_image_high'")  # fmt: skip
        users = [
            str(c.execute("select tests.create_user(%s)", (f"m{i}@example.com",)).fetchone()[0])
            for i in range(2)
        ]

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.conn = psycopg.connect(url)
            self.conn.execute("truncate public.jobs cascade")
            self.conn.commit()
            self.jobs: dict[str, Job] = {}
            self.keys: dict[tuple[str, str], tuple[str, int]] = {}  # (user, key) -> group, n

        def teardown(self) -> None:
            self.conn.close()

        def call(
            self, name: str, args: dict[str, Any], user: str | None = None,
            role: str = "jobs_worker",
        ) -> Any:
            if user is None:
                return rpc(self.conn, name, args, role=role)
            return rpc(self.conn, name, args, role="authenticated", claims=as_user(user))

        def pick(self, i: int, active: bool = False) -> Job | None:
            """Job number i (mod count); active: among processing jobs when there are some."""
            js = list(self.jobs.values())
            if active and any(j.status == "processing" for j in js):
                js = [j for j in js if j.status == "processing"]
            return js[i % len(js)] if js else None

        # ---- rules ---------------------------------------------------------------------
        # No @precondition here or below: which rules hypothesis may draw must not depend on
        # anything the database decided (which of two equal jobs claim_jobs took), or a replay
        # of one example draws differently (FlakyStrategyDefinition). The cap on live jobs, so
        # that sequences reach retries, exhausted attempts and expiries, is a no-op in the body.
        @rule(
            u=st.sampled_from(users),
            n=st.integers(1, 2),
            key=st.sampled_from([None, None, "k1", "k2"]),
            high=st.booleans(),
        )
        def queue(self, u: str, n: int, key: str | None, high: bool) -> None:
            if sum(j.status in ("queued", "processing") for j in self.jobs.values()) >= 3:
                return
            job_type = "sdxl_image_high" if high else "sdxl_image_fast"
            body: dict[str, Any] = {"job_type": job_type, "prompt": "p", "num_images": n}
            if key:
                body["idempotency_key"] = key
            res = self.call("queue_job", body, user=u)
            if key and (u, key) in self.keys:
                group, m = self.keys[(u, key)]
                assert res["deduplicated"] and res["group_id"] == group and len(res["jobs"]) == m
                return
            assert not res["deduplicated"] and len(res["jobs"]) == n
            assert all(j["status"] == "queued" for j in res["jobs"])
            if key:
                self.keys[(u, key)] = (res["group_id"], n)
            for j in res["jobs"]:
                self.jobs[j["id"]] = Job(j["id"], u, max_attempts=1 if high else 3)

        @rule(
            max_jobs=st.integers(1, 3),
            lease=st.sampled_from([30, 60, 120]),
            worker=st.sampled_from(WORKERS),
        )
        def claim(self, max_jobs: int, lease: int, worker: str) -> None:
            due = [j for j in self.jobs.values() if j.status == "queued"]
            rows = self.call(
                "claim_jobs",
                {
                    "worker_pool": "sdxl",
                    "worker_id": worker,
                    "max_jobs": max_jobs,
                    "lease_seconds": lease,
                },
            )
            assert len(rows) == min(max_jobs, len(due))
            for r in rows:
                j = self.jobs[r["job_id"]]
                assert j in due
                j.status, j.attempts, j.locked_by = "processing", j.attempts + 1, worker
                j.token, j.lease = r["lease_token"], "live"
                assert r["attempt"] == j.attempts and r["lease_token"] not in j.tokens
                (length,) = self.conn.execute(
                    "select lease_expires_at - started_at from public.jobs where id = %s",
                    (j.id,),
                ).fetchone()
                self.conn.commit()
                assert length == timedelta(seconds=lease)
                j.tokens.append(r["lease_token"])

        @rule(
            i=st.integers(0, 99),
            stale=st.booleans(),
            other_worker=st.booleans(),
            lease=st.sampled_from([30, 60]),
            active=st.booleans(),
        )
        def heartbeat(
            self, i: int, stale: bool, other_worker: bool, lease: int, active: bool
        ) -> None:
            j = self.pick(i, active)
            if j is None or not j.tokens:
                return
            token = j.tokens[0] if stale else j.tokens[-1]
            worker = j.locked_by or WORKERS[0]
            if other_worker:
                worker = WORKERS[1] if worker == WORKERS[0] else WORKERS[0]
            (row,) = self.call(
                "heartbeat_jobs",
                {
                    "worker_id": worker,
                    "job_ids": [j.id],
                    "lease_tokens": [token],
                    "lease_seconds": lease,
                },
            )
            if j.status == "processing" and token == j.token and worker == j.locked_by:
                expect = "extended"
                j.lease = "live"
            elif j.status == "cancelled" and token == j.token:
                expect = "cancelled"
            else:
                expect = "lost"
            assert row["state"] == expect, (row, j)

        @rule(
            i=st.integers(0, 99),
            status=st.sampled_from(["completed", "failed"]),
            token_kind=st.sampled_from(["current", "current", "stale", "none", "relayed"]),
            retryable=st.booleans(),
            active=st.sampled_from([True, True, False]),
        )
        def callback(
            self, i: int, status: str, token_kind: str, retryable: bool, active: bool
        ) -> None:
            j = self.pick(i, active)
            if j is None or not j.tokens:
                return
            token = {"current": j.tokens[-1], "stale": j.tokens[0]}.get(token_kind)
            args: dict[str, Any] = {
                "job_id": j.id,
                "status": status,
                "lease_token": token,
                "retryable": retryable,
                "assets": [f"{j.user}/out.png"],
                "error_message": "boom",
            }
            if token_kind == "none":  # a worker must present its token: refused, no change
                with pytest.raises(psycopg.Error) as e:
                    self.call("job_callback", args)
                assert e.value.sqlstate == "42501"
                return
            # the app's older payload, token-less, relayed by the edge function (service role)
            role = "service_role" if token_kind == "relayed" else "jobs_worker"
            if (
                j.status not in ("cancelled", "queued", "processing")
                and (token is None or token == j.token)
                and j.status != status
            ):
                with pytest.raises(psycopg.Error) as e:
                    self.call("job_callback", args, role=role)
                assert e.value.sqlstate == "PT409"
                return
            res = self.call("job_callback", args, role=role)["result"]
            if j.status == "cancelled":
                expect = "ignored_cancelled"
            elif j.status == "queued" or (token is not None and token != j.token):
                expect = "stale"
            elif j.status != "processing":
                expect = "duplicate"
            elif status == "completed":
                expect = j.status = "completed"
            elif retryable and j.attempts < j.max_attempts:
                expect, j.status = "requeued", "queued"
            else:
                expect = j.status = "failed"
            if j.status != "processing":
                j.locked_by = j.lease = None
            assert res == expect, (res, expect, j)

        @rule(i=st.integers(0, 99), owner=st.booleans(), active=st.booleans())
        def cancel(self, i: int, owner: bool, active: bool) -> None:
            j = self.pick(i, active)
            if j is None:
                return
            user = j.user if owner else next(u for u in users if u != j.user)
            if not owner or j.status not in ("queued", "processing"):
                with pytest.raises(psycopg.Error) as e:
                    self.call("cancel_job", {"job_id": j.id}, user=user)
                assert e.value.sqlstate == ("PT409" if owner else "PT404")
                return
            res = self.call("cancel_job", {"job_id": j.id}, user=user)
            assert res["previous_status"] == j.status
            j.status, j.locked_by, j.lease = "cancelled", None, None

        @rule()
        def rescue(self) -> None:
            expired = [
                j for j in self.jobs.values() if j.status == "processing" and j.lease == "expired"
            ]
            res = self.call("rescue_expired_jobs", {})
            requeued = [j for j in expired if j.attempts < j.max_attempts]
            assert res == {"requeued": len(requeued), "failed": len(expired) - len(requeued)}
            for j in expired:
                j.status = "queued" if j in requeued else "failed"
                # the abandoned attempt's token dies with its lease (a late report is stale)
                j.locked_by, j.lease, j.token = None, None, None

        @rule(i=st.integers(0, 99))
        def lease_ends(self, i: int) -> None:
            """Time passes for one job: as the owner, its lease ended a second ago."""
            j = self.pick(i, active=True)
            if j is None or j.status != "processing":
                return
            self.conn.execute(
                "update public.jobs set lease_expires_at = now() - interval '1 second'"
                " where id = %s",
                (j.id,),
            )
            self.conn.commit()
            j.lease = "expired"

        @invariant()
        def same_as_database(self) -> None:
            rows = self.conn.execute(
                "select id::text, status, attempts, lease_token::text, locked_by,"
                " case when lease_expires_at >= now() then 'live'"
                " when lease_expires_at < now() then 'expired' end from public.jobs"
            ).fetchall()
            self.conn.commit()
            db = {r[0]: r[1:] for r in rows}
            model = {
                j.id: (j.status, j.attempts, digest(j.token), j.locked_by, j.lease)
                for j in self.jobs.values()
            }
            assert db == model

    return Lifecycle


def run(url: str, examples: int, steps: int) -> None:
    machine = make_machine(url)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_lifecycle_matches_model(fresh_db: str) -> None:
    run(fresh_db, examples=40, steps=50)


@pytest.mark.fuzz
def test_lifecycle_matches_model_long(fresh_db: str) -> None:
    run(fresh_db, examples=400, steps=60)
