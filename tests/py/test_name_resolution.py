"""Nothing a caller creates runs with another role's rights through the package.

`set search_path = ''` still looks types and relations up in pg_temp first, and every role of a
Supabase project may create objects there (TEMP is granted to PUBLIC). So each role that runs
SQL of its own plants, in its own session, an object shadowing every type and relation name of
the catalog (tests/queries/planted.sql: domains whose CHECK calls a planted function, views
that call it when read or written, operators that would call it) and then calls every function
of the package it may execute, with real jobs, so that the bodies run their main paths:
- a worker login made by `jobsdb worker-login create`, over its own connection;
- a login for `jobsdb doctor`, made as docs/operators.md says (in role jobs_doctor, read-only
  by default: a setting of its own, which it turns off to plant);
- `authenticated` (a user and an admin) and `service_role`, the way PostgREST calls them
  (set local role + request.jwt.claims), after planting as themselves in the same session.
The planted function reports every run with current_user: it must never run as another role;
and every package function the calls reached (traced with track_functions) must have a
search_path that finds pg_catalog first and pg_temp last (the audit's catalog check).

The mutation check sets each reached function back to `search_path = ''`, one at a time: the
catalog check reports it, and the calls that reached it see the planted code run as the owner
(or fail) unless the function resolves no name while it runs (RESOLVES_NO_NAME, kept exact by
the check) or runs only with the caller's own rights (an invoker function that role executes).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from workerproc import jobsdb_command

from jobsdb import embedded, queries
from jobsdb.postgrest import as_user, rpc, service_claims
from jobsdb.testdb import drop_realtime_role

ROOT = Path(__file__).resolve().parents[2]
PLANTED = queries.load_file(ROOT / "tests" / "queries" / "planted.sql")
REALTIME = (ROOT / "tests" / "fixtures" / "supabase_realtime.sql").read_text()
PACKAGE_SCHEMAS = ("public", "jobs_private", "jobs_api")
AUDIT = queries.load_file(ROOT / "tests" / "queries" / "audit.sql")
# Package functions that resolve no type or relation name while they run: no variable of a
# named type, no cast to one, no unqualified relation, no SQL function without a setting of its
# own (auth.uid()); SQL's own type words (integer, bigint, numeric, interval, boolean,
# timestamp with time zone) always mean pg_catalog's. Set back to '' they behave the same, so
# only the catalog check catches them; the mutation check fails when one starts resolving a
# name (then remove it here) or another stops (then say why it may).
RESOLVES_NO_NAME = {
    "jobs_api.history_split()",
    "jobs_api.purge_finished_jobs(interval,integer)",
    "jobs_api.retry_job(uuid)",
    "jobs_private.asset_json(public.images_videos,public.jobs)",
    "jobs_private.is_trusted_caller()",
    "jobs_private.job_group_json(uuid,boolean,public.jobs[])",
    "jobs_private.jobs_before_insert()",
    "jobs_private.jobs_before_update()",
    "jobs_private.jobs_lower_claim_floor()",
    "jobs_private.json_number(jsonb,text)",
    "jobs_private.json_violation(jsonb)",
    "jobs_private.queue_health()",
    "jobs_private.record_job_tombstones()",
    "jobs_private.retry_delay(integer)",
    "public.rescue_expired_jobs(integer)",
}
# scenario: (the World attribute of its planting session, the World method that runs it)
SCENARIOS = {
    "worker login": ("worker", "worker_scenario"),
    "authenticated": ("user", "user_scenario"),
    "service_role": ("service", "service_scenario"),
    "doctor login": ("doctor", "doctor_scenario"),
}
EXECUTABLE = """
select p.oid::int8, p.prosecdef
from pg_catalog.pg_proc as p
join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where n.nspname = any(%s)
    and pg_catalog.has_schema_privilege(%s, n.oid, 'USAGE')
    and pg_catalog.has_function_privilege(%s, p.oid, 'EXECUTE')
"""


@dataclass
class Planter:
    """A session in which `role` planted the objects of planted.sql. Its notices are collected
    (the planted function's runs), and so are the package functions its calls executed (read
    from pg_stat_xact_user_functions in each call's transaction: track_functions = all)."""

    conn: psycopg.Connection[Any]
    role: str
    switch: bool  # a PostgREST-path session: each call sets its role and claims
    runs: list[tuple[str, str]] = field(default_factory=list)  # (what, ran as)
    reached: set[int] = field(default_factory=set)  # pg_proc oids

    def __post_init__(self) -> None:
        self.conn.add_notice_handler(self._notice)

    def _notice(self, d: psycopg.errors.Diagnostic) -> None:
        msg = d.message_primary or ""
        if msg.startswith("jobsdb-planted|"):
            _, what, ran_as = msg.split("|", 2)
            self.runs.append((what, ran_as))

    def _trace(self, conn: psycopg.Connection[Any]) -> None:
        rows = conn.execute(
            "select f.funcid::pg_catalog.int8"
            " from pg_catalog.pg_stat_xact_user_functions as f where f.schemaname = any(%s)",
            (list(PACKAGE_SCHEMAS),)).fetchall()  # fmt: skip
        self.reached |= {f for (f,) in rows}

    def escalations(self) -> list[tuple[str, str]]:
        return [(w, r) for w, r in self.runs if r != self.role]

    def sql(self, query: str, params: Any = None, claims: dict[str, Any] | None = None,
            ) -> list[tuple]:
        """One statement in its own transaction, as this session's role."""
        with self.conn.transaction():
            if self.switch:
                self.conn.execute(
                    "select pg_catalog.set_config('role', %s, true),"
                    " pg_catalog.set_config('request.jwt.claims', %s, true)",
                    (self.role, json.dumps(claims or {})))  # fmt: skip
            cur = self.conn.execute(query, params)
            rows = cur.fetchall() if cur.description else []
            self._trace(self.conn)
        return rows

    def rpc(self, name: str, args: dict[str, Any], claims: dict[str, Any]) -> Any:
        return rpc(self.conn, name, args, role=self.role, claims=claims,
                   before_commit=self._trace)  # fmt: skip


def plant(conn: psycopg.Connection[Any]) -> None:
    conn.execute(PLANTED["plant"])
    views, types, operators = conn.execute(PLANTED["planted"]).fetchone()
    assert views > 200 and types > 100 and operators > 300, (views, types, operators)


@dataclass
class World:
    url: str  # owner
    owner: psycopg.Connection[Any]
    alice: str
    admin: str
    login_url: str  # the worker login's own
    worker: Planter
    user: Planter  # authenticated
    service: Planter  # service_role
    doctor: Planter  # a login made as docs/operators.md says, in role jobs_doctor
    reached: dict[str, set[int]] = field(default_factory=dict)  # scenario -> function oids

    # ---- the owner's side: jobs for the scenarios, time moved the honest way -----------

    def reset(self) -> None:
        self.owner.execute("delete from public.jobs")
        self.owner.execute("delete from jobs_private.claim_floors")

    def queue(self, n: int = 1, **args: Any) -> list[str]:
        body = {"job_type": "sdxl_image_fast", "prompt": "a fox", "num_images": n, **args}
        return [j["id"] for j in rpc(self.owner, "queue_job", body,
                                     claims=as_user(self.alice))["jobs"]]  # fmt: skip

    def claim(self, n: int = 1) -> list[dict[str, Any]]:
        return rpc(self.owner, "claim_jobs",
                   {"worker_pool": "sdxl", "worker_id": "owner-side", "max_jobs": n},
                   role="jobs_worker")  # fmt: skip

    def finish(self, c: dict[str, Any], status: str = "completed") -> None:
        rpc(self.owner, "job_callback",
            {"job_id": c["job_id"], "status": status, "lease_token": c["lease_token"],
             "retryable": False, "assets": [{"type": "image", "url": f"{self.alice}/x.png"}]},
            role="jobs_worker")  # fmt: skip

    def expire(self, job: str) -> None:
        self.owner.execute(
            "update public.jobs set lease_expires_at = now() - interval '1 second'"
            " where id = %s", (job,))  # fmt: skip

    def due(self, job: str) -> None:
        self.owner.execute("update public.jobs set run_at = now() where id = %s", (job,))

    # ---- the scenarios: every function each role may execute, down its main paths ------

    def worker_scenario(self) -> None:
        w = self.worker.sql
        self.reset()
        ids = self.queue(3) + self.queue() + self.queue() + self.queue()
        got = w("select job_id::text, lease_token::text from public.claim_jobs('sdxl', 'w1', 100)")
        assert sorted(r[0] for r in got) == sorted(ids), got
        tok = dict(got)
        beat = ("select job_id::text, state from public.heartbeat_jobs('w1', %s::pg_catalog.uuid[],"
                " %s::pg_catalog.uuid[], 60)")
        assert {s for _, s in w(beat, (ids, [tok[i] for i in ids]))} == {"extended"}
        rpc(self.owner, "cancel_job", {"job_id": ids[5]}, claims=as_user(self.alice))
        states = dict(w(beat, (ids, [tok[i] for i in ids])))
        assert states[ids[5]] == "cancelled" and states[ids[0]] == "extended", states

        def report(job: str, status: str, token: str | None, **kw: Any) -> dict[str, Any]:
            (answer,) = w(
                "select public.job_callback(%s, %s, %s, %s, %s, %s, %s)",
                (job, status, token, kw.get("error"), _json(kw.get("metadata")),
                 _json(kw.get("assets")), kw.get("retryable", True)))  # fmt: skip
            return answer[0]

        meta = {"enhancement_time_ms": 12, "quality_rating": 4.5, "enhanced_prompt": "a fox, lit",
                "compel_weights": {"fox": 1.2}, "qwen_expansion_percentage": 12.5}
        video_first = [{"type": "video", "url": f"{self.alice}/a.mp4",
                        "thumbnail_url": f"{self.alice}/a.jpg", "metadata": {"fps": 24}},
                       {"type": "image", "url": f"{self.alice}/a.png"}]  # fmt: skip
        assert report(ids[0], "completed", tok[ids[0]], metadata=meta,
                      assets=video_first)["result"] == "completed"  # fmt: skip
        assert report(ids[1], "completed", tok[ids[1]],
                      assets=[f"{self.alice}/b.png"])["result"] == "completed"  # fmt: skip
        assert report(ids[1], "completed", tok[ids[1]])["result"] == "duplicate"
        assert report(ids[2], "failed", tok[ids[2]], error="boom")["result"] == "requeued"
        assert report(ids[2], "failed", tok[ids[2]])["result"] == "stale"
        assert report(str(uuid.uuid4()), "completed", tok[ids[3]])["result"] == "unknown_job"
        assert report(ids[5], "completed", tok[ids[5]])["result"] == "ignored_cancelled"
        batch = [
            {"job_id": ids[3], "status": "completed", "lease_token": tok[ids[3]],
             "assets": [{"url": f"{self.alice}/c.png", "metadata": {"seed": 1}}],
             "metadata": {"quality_improvement": 0.5}},
            {"job_id": ids[4], "status": "failed", "lease_token": tok[ids[4]],
             "error_message": "bad prompt", "retryable": False},
        ]  # fmt: skip
        got = w("select job_id::text, result from public.job_callbacks(%s)", (json.dumps(batch),))
        assert got == [(ids[3], "completed"), (ids[4], "failed")], got
        # report and claim in one call: the report replayed (duplicate), nothing due to claim
        again = {"job_id": ids[3], "status": "completed", "lease_token": tok[ids[3]],
                 "assets": [f"{self.alice}/c.png"], "metadata": {"seed": 2}}
        got = w("select answer ->> 'result', job_id from public.job_callback_and_claim(%s,"
                " 'sdxl', 'w1', 2, 60)", (json.dumps(again),))
        assert got == [("duplicate", None)], got

        # a retried job, due again: claimed, handed back four times (the fourth counts)
        self.due(ids[2])
        release = ("select state from public.release_jobs('w1', %s::pg_catalog.uuid[],"
                   " %s::pg_catalog.uuid[])")
        for expected in ("released", "released", "released", "requeued"):
            ((job, token),) = w("select job_id::text, lease_token::text"
                                " from public.claim_jobs('sdxl', 'w1', 1)")  # fmt: skip
            assert job == ids[2]
            assert w(release, ([job], [token])) == [(expected,)]
        # rescue: one lease of its last attempt (failed), one with attempts left (requeued)
        ((job, token),) = w("select job_id::text, lease_token::text"
                            " from public.claim_jobs('sdxl', 'w1', 1)")  # fmt: skip
        fresh = self.queue()[0]
        got = w("select job_id::text from public.claim_jobs('sdxl', 'w2', 5)")
        assert got == [(fresh,)], got
        self.expire(job)
        self.expire(fresh)
        assert w("select public.rescue_expired_jobs(100)") == [({"requeued": 1, "failed": 1},)]
        assert w("select public.rescue_is_scheduled()") == [(False,)]

    def user_scenario(self) -> None:
        u = self.user.rpc
        alice, admin = as_user(self.alice), as_user(self.admin)
        self.reset()
        key = secrets.token_hex(8)
        first = u("queue_job", {"job_type": "sdxl_image_fast", "prompt": "a red fox",
                                "num_images": 3, "idempotency_key": key,
                                "metadata": {"style": "oil", "seed": 7}}, alice)  # fmt: skip
        again = u("queue_job", {"job_type": "sdxl_image_fast", "prompt": "a red fox",
                                "num_images": 3, "idempotency_key": key}, alice)  # fmt: skip
        assert again["deduplicated"] is True and again["group_id"] == first["group_id"]
        project = self.owner.execute(
            "insert into public.projects (user_id, name) values (%s, 'p') returning id::text",
            (self.alice,)).fetchone()[0]  # fmt: skip
        single = u("queue_job", {"job_type": "sdxl_image_fast", "prompt": "a cat",
                                 "project_id": project, "destination": "workspace",
                                 "workspace_session_id": str(uuid.uuid4()),
                                 "template_name": "t"}, alice)["jobs"][0]["id"]  # fmt: skip
        start = u("job_changes_since", {"cursor": None}, alice)
        claims = self.claim(4)
        done = [c for c in claims if c["job_id"] != single]
        for c in done[:2]:
            self.finish(c)
        self.finish(done[2], "failed")
        self.owner.execute("delete from public.jobs where id = %s", (single,))
        changes = u("job_changes_since", {"cursor": start["cursor"]}, alice)
        assert changes["reset"] is False and changes["removed"] == [single], changes
        assert len(changes["changed"]) == 3, changes
        assert len(u("list_jobs", {}, alice)) == 3
        assert len(u("list_jobs", {"status": "completed"}, alice)) == 2
        job = u("get_job", {"job_id": done[0]["job_id"]}, alice)
        asset = job["assets"][0]["asset_id"]
        assert u("asset_info", {"asset_id": asset}, alice)["asset_id"] == asset
        assert len(u("workspace_groups", {}, alice)["groups"]) == 1
        assert len(u("library_items", {}, alice)["items"]) == 2
        later = u("queue_job", {"job_type": "sdxl_image_fast", "prompt": "later",
                                "priority": 5, "run_after": "2999-01-01T00:00:00Z"},
                  admin)["jobs"][0]["id"]  # fmt: skip
        assert u("cancel_job", {"job_id": later}, admin)["status"] == "cancelled"
        assert u("review_job", {"job_id": done[0]["job_id"], "moderation_status": "approved",
                                "review_notes": "fine"}, admin)["moderation_status"] == "approved"
        assert u("retry_job", {"job_id": done[2]["job_id"]}, admin)["status"] == "queued"
        assert u("cancel_job", {"job_id": done[2]["job_id"]}, alice)["status"] == "cancelled"
        assert u("purge_finished_jobs", {"older_than": "0 seconds"}, admin) == 2
        self.owner.execute("select jobs_private.rollup_job_metrics()")
        assert "queue" in json.dumps(u("system_metrics", {"time_window": "1 hour"}, admin))

    def service_scenario(self) -> None:
        s = self.service
        svc = service_claims()
        self.reset()
        mine = s.rpc("queue_job", {"job_type": "sdxl_image_fast", "prompt": "relayed",
                                   "num_images": 3}, {**svc, "sub": self.alice})  # fmt: skip
        ids = [j["id"] for j in mine["jobs"]]
        got = s.rpc("claim_jobs", {"worker_pool": "sdxl", "worker_id": "svc", "max_jobs": 3}, svc)
        tok = {c["job_id"]: c["lease_token"] for c in got}
        assert sorted(tok) == sorted(ids)
        beat = s.rpc("heartbeat_jobs", {"worker_id": "svc", "job_ids": ids,
                                        "lease_tokens": [tok[i] for i in ids]}, svc)  # fmt: skip
        assert {b["state"] for b in beat} == {"extended"}
        # the relayed, token-less report of the older worker payload
        assert s.rpc("job_callback", {"job_id": ids[0], "status": "completed",
                                      "assets": [f"{self.alice}/s.png"]},
                     svc)["result"] == "completed"  # fmt: skip
        got = s.rpc("job_callbacks", {"reports": [
            {"job_id": ids[1], "status": "failed", "error_message": "oom"}]}, svc)
        assert got[0]["result"] == "requeued"
        got = s.rpc("job_callback_and_claim", {
            "report": {"job_id": ids[0], "status": "completed"}, "worker_pool": "sdxl",
            "worker_id": "svc"}, svc)
        assert [(g["answer"]["result"], g["job_id"]) for g in got] == [("duplicate", None)], got
        assert s.rpc("release_jobs", {"worker_id": "svc", "job_ids": [ids[2]],
                                      "lease_tokens": [tok[ids[2]]]},
                     svc)[0]["state"] == "released"  # fmt: skip
        (c,) = s.rpc("claim_jobs", {"worker_pool": "sdxl", "worker_id": "svc"}, svc)
        assert c["job_id"] == ids[2]
        self.expire(ids[2])
        assert s.rpc("rescue_expired_jobs", {}, svc) == {"requeued": 1, "failed": 0}
        assert s.rpc("rescue_is_scheduled", {}, svc) is False
        final = self.queue()[0]
        (c,) = self.claim()
        assert s.rpc("job_callback", {"job_id": final, "status": "failed",
                                      "lease_token": c["lease_token"], "retryable": False},
                     svc)["result"] == "failed"  # fmt: skip
        assert s.rpc("retry_job", {"job_id": final}, svc)["status"] == "queued"
        for job in (final, ids[1]):
            assert s.rpc("cancel_job", {"job_id": job}, svc)["status"] == "cancelled"
        assert s.rpc("purge_finished_jobs", {"older_than": "0 seconds"}, svc) == 2
        # a direct insert (the app copies a library item into a workspace this way)
        copied = s.sql(
            "insert into public.jobs (user_id, job_type, status, metadata, destination)"
            " values (%s, 'sdxl_image_fast', 'completed', '{\"prompt\": \"copy\"}',"
            " 'workspace') returning status", (self.alice,), svc)  # fmt: skip
        assert copied == [("completed",)]
        assert "queue" in json.dumps(s.rpc("system_metrics", {"time_window": "1 day"}, svc))

    def doctor_scenario(self) -> None:
        d = self.doctor.sql
        self.reset()
        ids = self.queue(3) + self.queue()
        claims = self.claim(3)
        self.finish(claims[0])
        self.expire(claims[1]["job_id"])
        self.owner.execute("update public.jobs set started_at = now() - interval '1 day'"
                           " where id = %s", (claims[2]["job_id"],))  # fmt: skip
        health = d("select job_type, queued, expired_leases, overrunning, completed_last_hour"
                   " from jobs_private.queue_health() where job_type = 'sdxl_image_fast'")
        assert health == [("sdxl_image_fast", 1, 1, 1, 1)], (health, ids)
        assert d("select * from jobs_private.maintenance_schedules()") == []  # no pg_cron
        history = d("select count(*) from jobs_private.migration_history()")
        assert history[0][0] >= 1  # the release's own row, or the pre-1.0 files
        assert d("select jobs_private.installed_release() is not null") == [(True,)]

    def planter(self, scenario: str) -> Planter:
        return getattr(self, SCENARIOS[scenario][0])

    def run(self, scenario: str) -> Callable[[], None]:
        return getattr(self, SCENARIOS[scenario][1])


def _superuser_for(url: str) -> str | None:
    su = embedded.superuser_url()
    if not su:
        return None
    return make_conninfo(su, dbname=conninfo_to_dict(url)["dbname"])


@pytest.fixture(scope="module")
def world(template_db) -> Iterator[World]:
    if embedded.superuser_url() is None:
        pytest.skip("needs a superuser (Supabase Realtime's objects, track_functions)")
    login = f"w_sdxl_{secrets.token_hex(4)}"
    doctor = f"doctor_{secrets.token_hex(4)}"
    try:
        with template_db.clone() as url:
            dbname = conninfo_to_dict(url)["dbname"]
            with psycopg.connect(_superuser_for(url), autocommit=True) as s:
                s.execute(REALTIME)
                # which functions a scenario reached: pg_stat_xact_user_functions
                s.execute(f"alter database \"{dbname}\" set track_functions = 'all'")
            r = subprocess.run([*jobsdb_command(), "worker-login", "--url", url, "create", login,
                                "--pools", "sdxl"], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            password = r.stdout.rsplit(": ", 1)[1].strip()
            with psycopg.connect(url, autocommit=True) as owner:
                owner.execute(f"create role {doctor} login in role jobs_doctor")
                owner.execute(f"alter role {doctor} set default_transaction_read_only = on")
            with psycopg.connect(url, autocommit=True) as owner, \
                    psycopg.connect(make_conninfo(url, user=login, password=password),
                                    autocommit=True) as wconn, \
                    psycopg.connect(url, autocommit=True) as uconn, \
                    psycopg.connect(url, autocommit=True) as sconn, \
                    psycopg.connect(make_conninfo(url, user=doctor), autocommit=True) as dconn:
                # fmt: skip
                on = owner.execute("select jobs_private.enable_realtime_broadcast()").fetchone()
                assert on == (True,)
                owner.execute("update jobs_private.settings set max_queued_per_user = 1000,"
                              " jobs_per_minute = null")  # the rate has tests of its own
                alice = str(owner.execute("select tests.create_user('alice@example.com')")
                            .fetchone()[0])  # fmt: skip
                admin = str(owner.execute("select tests.create_user('ada@example.com', true)")
                            .fetchone()[0])  # fmt: skip
                plant(wconn)
                # the login's read-only default is its own setting to change
                dconn.execute("set default_transaction_read_only = off")
                plant(dconn)
                for conn, role in ((uconn, "authenticated"), (sconn, "service_role")):
                    with conn.transaction():
                        conn.execute(f"set local role {role}")
                        plant(conn)
                login_url = make_conninfo(url, user=login, password=password)
                yield World(url, owner, alice, admin, login_url, Planter(wconn, login, False),
                            Planter(uconn, "authenticated", True),
                            Planter(sconn, "service_role", True), Planter(dconn, doctor, False))
    finally:
        # after the database is gone (the login's temporary objects with it)
        with psycopg.connect(embedded.superuser_url(), autocommit=True) as s:
            s.execute(f'drop role if exists "{login}"')
            s.execute(f'drop role if exists "{doctor}"')
        drop_realtime_role(embedded.superuser_url())


def traced(world: World, scenario: str) -> set[int]:
    """Run a scenario; the package functions its planting session's calls executed."""
    p = world.planter(scenario)
    p.reached = set()
    world.run(scenario)()
    return set(p.reached)


def owner_rows(world: World, query: str, params: Any = None) -> list[tuple]:
    """A query of the owner's session (nothing planted there), functions printed qualified."""
    with world.owner.transaction():
        world.owner.execute("set local search_path = pg_catalog")
        return world.owner.execute(query, params).fetchall()


def names(world: World, oids: set[int]) -> list[str]:
    return [f for (f,) in owner_rows(
        world, "select f::regprocedure::text from unnest(%s::oid[]) as f order by 1",
        (sorted(oids),))]  # fmt: skip


def settings_findings(world: World) -> dict[str, str]:
    """The audit's catalog check: functions whose search_path may find a caller's objects."""
    return dict(owner_rows(world, AUDIT["functions_that_find_callers_objects_first"]))


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def test_every_role_with_sql_of_its_own_can_plant_in_pg_temp_and_nowhere_else(
    world: World,
) -> None:
    """TEMP stays granted to PUBLIC (a platform fact); no other schema takes their objects."""
    for p in (world.worker, world.user, world.service, world.doctor):
        rows = world.owner.execute(
            "select pg_catalog.has_database_privilege(%s, current_database(), 'TEMP'),"
            " array(select n.nspname::text from pg_catalog.pg_namespace as n"
            "  where n.nspname !~ '^pg_(toast|temp)'"
            "  and pg_catalog.has_schema_privilege(%s, n.oid, 'CREATE') order by 1)",
            (p.role, p.role)).fetchone()  # fmt: skip
        assert rows == (True, []), (p.role, rows)
        # control: the planted objects are live for the role's own unqualified names
        p.runs.clear()
        with p.conn.transaction():
            p.conn.execute(f"set local role {p.role}")
            p.conn.execute("select null::jsonb, null::uuid from (select 1) as jobs")
        assert ("type jsonb", p.role) in p.runs and ("type uuid", p.role) in p.runs, p.runs


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_planted_code_never_runs_as_another_role(world: World, scenario: str) -> None:
    p = world.planter(scenario)
    p.runs.clear()
    reached = traced(world, scenario)
    world.reached[scenario] = reached
    assert p.escalations() == [], sorted(set(p.escalations()))
    executable = {f for (f, _) in world.owner.execute(
        EXECUTABLE, (list(PACKAGE_SCHEMAS), p.role, p.role)).fetchall()}  # fmt: skip
    # every function this role may execute was called
    assert executable <= reached, names(world, executable - reached)
    # and every function reached finds pg_catalog first and pg_temp last
    flagged = settings_findings(world)
    assert {f: flagged[f] for f in names(world, reached) if f in flagged} == {}


ATTACK = """
create function pg_temp.evil() returns boolean language plpgsql as $$
begin
    if current_user <> session_user then
        execute format('grant %I to %I', current_user, session_user);
    end if;
    return true;
end;
$$;
create domain pg_temp.jsonb as pg_catalog.jsonb check (pg_temp.evil());
create domain pg_temp.uuid as pg_catalog.uuid check (pg_temp.evil());
"""


def test_the_reported_attack_makes_the_worker_login_nothing_more(world: World) -> None:
    """As reported: a worker login plants pg_temp.jsonb and pg_temp.uuid, domains whose CHECK
    grants the role it runs as to the login, and calls claim_jobs, heartbeat_jobs,
    job_callback, job_callbacks and release_jobs. The login gains no role: in a new session
    it cannot `set role` to the owner."""
    world.reset()
    ids = world.queue(3) + world.queue()
    errors = []
    with psycopg.connect(world.login_url, autocommit=True) as w:
        w.execute(ATTACK)

        def call(sql: str, params: Any = None) -> list[tuple]:
            try:
                return w.execute(sql, params).fetchall()
            except psycopg.Error as e:  # the planted types may break a body that uses them
                errors.append(f"{sql[:40]}: {e.sqlstate} {str(e).splitlines()[0]}")
                return []

        got = call("select job_id::pg_catalog.text, lease_token::pg_catalog.text"
                   " from public.claim_jobs('sdxl', 'x', 4)")  # fmt: skip
        tok = dict(got)
        held = [i for i in ids if i in tok]
        call("select public.heartbeat_jobs('x', %s, %s)", (held, [tok[i] for i in held]))
        if ids[0] in tok:
            call("select public.job_callback(%s, 'completed', %s, assets => %s)",
                 (ids[0], tok[ids[0]], json.dumps([f"{world.alice}/a.png"])))  # fmt: skip
        if ids[1] in tok:
            call("select public.job_callbacks(%s)", (json.dumps(
                [{"job_id": ids[1], "status": "failed", "lease_token": tok[ids[1]]}]),))
        call("select public.release_jobs('x', %s, %s)",
             (held[2:], [tok[i] for i in held[2:]]))  # fmt: skip
    owner_role = world.owner.execute("select current_user").fetchone()[0]
    with psycopg.connect(world.login_url, autocommit=True) as fresh:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            fresh.execute(f'set role "{owner_role}"')
        # still a member of jobs_worker and of nothing else
        assert fresh.execute(
            "select array_agg(m.roleid::regrole::text) from pg_catalog.pg_auth_members as m"
            " where m.member = session_user::regrole").fetchone()[0] == ["jobs_worker"]
    assert errors == []
    states = dict(world.owner.execute(
        "select id::text, status from public.jobs where id = any(%s::uuid[])", (ids,)).fetchall())
    assert [states[i] for i in ids] == ["completed", "queued", "queued", "queued"], states


def test_any_reached_function_set_back_to_an_empty_search_path_is_caught(world: World) -> None:
    for scenario in SCENARIOS:
        if scenario not in world.reached:
            world.reached[scenario] = traced(world, scenario)
    # Invoker functions a planting role may execute run with that role's own rights when it
    # calls them: set back to '' they may run its planted code as itself, which it could do
    # anyway (they are still caught when a definer body calls them in the same scenario).
    own: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        role = world.planter(scenario).role
        own[scenario] = set(names(world, {f for f, definer in world.owner.execute(
            EXECUTABLE, (list(PACKAGE_SCHEMAS), role, role)).fetchall() if not definer}))
    oids = {f: oid for oid in set().union(*world.reached.values()) for f in names(world, {oid})}
    assert len(oids) > 30, sorted(oids)
    caught: dict[str, dict[str, str]] = {}  # function -> scenario -> how
    for f, oid in sorted(oids.items()):
        (config,) = owner_rows(world, "select (select s from unnest(p.proconfig) as s"
                                      " where s like 'search\\_path=%%') from pg_proc as p"
                                      " where p.oid = %s", (oid,))[0]  # fmt: skip
        world.owner.execute(f"alter function {f} set search_path = ''")
        try:
            assert f in settings_findings(world), f"the catalog check misses {f}"
            for scenario, reached in world.reached.items():
                if oid not in reached:
                    continue
                p = world.planter(scenario)
                p.runs.clear()
                try:
                    world.run(scenario)()
                except (AssertionError, psycopg.Error) as e:
                    how = f"failed: {str(e).splitlines()[0][:120]}"
                    caught.setdefault(f, {})[scenario] = how
                if p.escalations():
                    what, ran_as = p.escalations()[0]
                    caught.setdefault(f, {})[scenario] = f"{what} ran as {ran_as}"
        finally:
            value = config.partition("=")[2]
            world.owner.execute(f"alter function {f} set search_path = "
                                + ("''" if value == '""' else value))
    # each scenario catches every function it reached, but for the two kinds above
    for scenario, reached in world.reached.items():
        expected = set(names(world, reached)) - RESOLVES_NO_NAME - own[scenario]
        missed = {f for f in expected if scenario not in caught.get(f, {})}
        assert missed == set(), (scenario, sorted(missed), json.dumps(caught, indent=1))
    # and the list of functions that resolve no name is exact
    assert RESOLVES_NO_NAME <= set(oids) - set(caught), json.dumps(caught, indent=1)
