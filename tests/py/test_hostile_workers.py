"""A hostile worker: a LOGIN role that is a member of jobs_worker, talking SQL directly (no
PostgREST, no JWT), the way GPU workers connect. It calls every function it can execute, in every
schema, with hostile arguments; tries to move time, rescue early, claim a job in backoff or
before its run_after, claim from a pool it is not allowed, heartbeat / complete / fail a job it
does not hold (no token, another attempt's token, another worker's token, the stored digest),
and hold a lease past its bound. Every attempt is refused or changes nothing; each has a
positive control showing the same call does work when it should.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobsdb.postgrest import as_user, rpc

# Every function a plain jobs_worker login may execute outside the system schemas. A new one
# must be added here, with its hostile calls below.
WORKER_FUNCTIONS = {
    "public.claim_jobs(text,text,integer,integer)",
    "public.heartbeat_jobs(text,uuid[],uuid[],integer)",
    "public.job_callback(uuid,text,uuid,text,jsonb,jsonb,boolean)",
    "public.job_callbacks(jsonb)",
    "public.job_callback_and_claim(jsonb,text,text,integer,integer)",
    "public.rescue_expired_jobs(integer)",
    "public.release_jobs(text,uuid[],uuid[])",
    "public.rescue_is_scheduled()",
}
# SQLSTATE classes a client error may have (never 5xx-like: XX, 53, 54, 55, 57, 58, P0002)
CLIENT_ERRORS = ("22", "23", "42", "PT")


@dataclass
class Env:
    url: str  # owner
    login_url: str  # the hostile worker login (every pool)
    scoped_url: str  # a login scoped to the sdxl pool
    owner: psycopg.Connection
    hostile: psycopg.Connection
    alice: str

    def queue(self, job_type: str = "sdxl_image_fast", **args: Any) -> str:
        body = {"job_type": job_type, "prompt": "p", **args}
        return rpc(self.owner, "queue_job", body, claims=as_user(self.alice))["jobs"][0]["id"]

    def honest_claim(self, pool: str = "sdxl", worker: str = "honest") -> dict:
        (c,) = rpc(self.owner, "claim_jobs", {"worker_pool": pool, "worker_id": worker},
                   role="jobs_worker")  # fmt: skip
        return c

    def job(self, job_id: str) -> tuple:
        return self.owner.execute(
            "select status, attempts, locked_by, lease_token, lease_expires_at, run_at"
            " from public.jobs where id = %s",
            (job_id,),
        ).fetchone()

    def fingerprint(self) -> str:
        return self.owner.execute(
            "select md5(coalesce(string_agg(j::text, ',' order by j.id), ''))"
            " || (select count(*) from public.images_videos)::text from public.jobs as j"
        ).fetchone()[0]


def call(conn: psycopg.Connection, sql: str, params: Any = None) -> tuple[str, Any]:
    """('ok', rows) or ('err', sqlstate, message); one transaction, plain SQL, no role switch."""
    try:
        with conn.transaction():
            cur = conn.execute(sql, params)
            return ("ok", cur.fetchall() if cur.description else [])
    except psycopg.Error as e:
        return ("err", e.sqlstate, str(e).splitlines()[0])


@pytest.fixture
def env(fresh_db: str, superuser_url: str | None) -> Iterator[Env]:
    admin_url = superuser_url or fresh_db
    tag = secrets.token_hex(4)
    login, scoped = f"hostile_worker_{tag}", f"scoped_worker_{tag}"
    with psycopg.connect(admin_url, autocommit=True) as a:
        for r in (login, scoped):
            a.execute(f"create role {r} login in role jobs_worker")
    base = conninfo_to_dict(fresh_db)
    try:
        with psycopg.connect(fresh_db, autocommit=True) as owner:
            owner.execute(
                "insert into jobs_private.worker_logins (login, worker_pools)"
                " values (%s, '{sdxl}')",
                (scoped,),
            )
            alice = str(
                owner.execute("select tests.create_user('alice@example.com')").fetchone()[0]
            )
            owner.execute("update jobs_private.settings set max_queued_per_user = 1000")
            login_url = make_conninfo(**{**base, "user": login})
            scoped_url = make_conninfo(**{**base, "user": scoped})
            with psycopg.connect(login_url, autocommit=True) as hostile:
                yield Env(fresh_db, login_url, scoped_url, owner, hostile, alice)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as a:
            for r in (login, scoped):
                a.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                    (r,),
                )
                a.execute(f"drop role if exists {r}")


def test_the_worker_login_is_a_plain_member_of_jobs_worker(env: Env) -> None:
    who = env.hostile.execute(
        "select session_user, current_user, current_setting('request.jwt.claims', true),"
        " pg_has_role(session_user, 'jobs_worker', 'member'),"
        " pg_has_role(session_user, 'service_role', 'member')"
    ).fetchone()
    assert who[0] == who[1] and who[0].startswith("hostile_worker_")
    assert who[2] in (None, "") and who[3] is True and who[4] is False


def test_every_function_it_can_execute_is_a_worker_function(env: Env) -> None:
    rows = env.hostile.execute(
        "select p.oid::regprocedure::text from pg_proc as p"
        " join pg_namespace as n on n.oid = p.pronamespace"
        # tests: this suite's own helpers, not part of the package
        " where n.nspname not in ('pg_catalog', 'information_schema', 'tests')"
        " and n.nspname !~ '^pg_(toast|temp)'"
        " and has_schema_privilege(n.oid, 'usage') and has_function_privilege(p.oid, 'execute')"
    ).fetchall()
    found = {r[0].replace(" ", "") for r in rows}
    found = {f if "." in f.split("(")[0] else "public." + f for f in found}
    assert found == WORKER_FUNCTIONS, found ^ WORKER_FUNCTIONS
    # none takes a clock: no timestamp, date or interval argument anywhere
    clocks = env.hostile.execute(
        "select p.oid::regprocedure::text from pg_proc as p"
        " where p.oid::regprocedure::text ~ '^(public\\.)?(claim_jobs|heartbeat_jobs|job_callbacks?"
        "|job_callback_and_claim|rescue_expired_jobs)\\('"
        " and exists (select from unnest(p.proargtypes::oid[]) as t"
        " where t in ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,"
        " 'interval'::regtype))"
    ).fetchall()
    assert clocks == []
    # control: the check sees the functions it filters
    assert (
        env.hostile.execute(
            "select count(*) from pg_proc where proname in ('claim_jobs', 'rescue_expired_jobs')"
        ).fetchone()[0]
        == 2
    )


HOSTILE_CALLS = [
    # claim_jobs
    "select * from public.claim_jobs(null, 'w')",
    "select * from public.claim_jobs('sdxl', null)",
    "select * from public.claim_jobs('sdxl', repeat('w', 201))",
    "select * from public.claim_jobs('sdxl', 'w', 0)",
    "select * from public.claim_jobs('sdxl', 'w', 101)",
    "select * from public.claim_jobs('sdxl', 'w', -2147483648)",
    "select * from public.claim_jobs('sdxl', 'w', 1, 0)",
    "select * from public.claim_jobs('sdxl', 'w', 1, 2147483647)",
    "select * from public.claim_jobs('sdxl', 'w', 1, -5)",
    "select * from public.claim_jobs('sdxl', 'w', now => 'infinity')",
    "select * from public.claim_jobs('sdxl', 'w', 1, 60, '2999-01-01'::timestamptz)",
    # heartbeat_jobs
    "select * from public.heartbeat_jobs(null, array[gen_random_uuid()], array[gen_random_uuid()])",
    "select * from public.heartbeat_jobs('w', null, null)",
    "select * from public.heartbeat_jobs('w', array[gen_random_uuid()], array[]::uuid[])",
    "select * from public.heartbeat_jobs('w', (select array_agg(gen_random_uuid())"
    " from generate_series(1, 1001)), (select array_agg(gen_random_uuid())"
    " from generate_series(1, 1001)))",
    "select * from public.heartbeat_jobs('w', array[gen_random_uuid()], array[gen_random_uuid()],"
    " 86401)",
    "select * from public.heartbeat_jobs('w', array[gen_random_uuid()], array[gen_random_uuid()],"
    " now => 'infinity')",
    # job_callback
    "select public.job_callback(null, 'completed', gen_random_uuid())",
    "select public.job_callback(gen_random_uuid(), 'processing', gen_random_uuid())",
    "select public.job_callback(gen_random_uuid(), 'completed', null)",
    "select public.job_callback(gen_random_uuid(), 'completed', gen_random_uuid(), null, '[]')",
    "select public.job_callback(gen_random_uuid(), 'completed', gen_random_uuid(),"
    " assets => '[{\"url\": 1}]')",
    "select public.job_callback(gen_random_uuid(), 'completed', gen_random_uuid(),"
    " metadata => jsonb_build_object('x', repeat('a', 70000)))",
    "select public.job_callback(gen_random_uuid(), 'failed', gen_random_uuid(), now => 'infinity')",
    # job_callbacks
    "select * from public.job_callbacks(null)",
    "select * from public.job_callbacks('{}')",
    "select * from public.job_callbacks('[]')",
    "select * from public.job_callbacks('[1]')",
    "select * from public.job_callbacks((select jsonb_agg(jsonb_build_object('job_id',"
    " gen_random_uuid(), 'status', 'failed', 'lease_token', gen_random_uuid()))"
    " from generate_series(1, 101)))",
    "select * from public.job_callbacks(jsonb_build_array(jsonb_build_object('job_id',"
    " gen_random_uuid(), 'status', 'completed')))",
    "select * from public.job_callbacks(jsonb_build_array(jsonb_build_object('job_id',"
    " gen_random_uuid(), 'status', 'completed', 'lease_token', gen_random_uuid(),"
    " 'user_id', gen_random_uuid())))",
    "select * from public.job_callbacks(jsonb_build_array(jsonb_build_object('job_id',"
    " gen_random_uuid(), 'status', 'processing', 'lease_token', gen_random_uuid())))",
    "select * from public.job_callbacks(jsonb_build_array(jsonb_build_object('job_id',"
    " gen_random_uuid(), 'status', 'completed', 'lease_token', gen_random_uuid(),"
    " 'metadata', jsonb_build_object('x', repeat('a', 70000)))))",
    "select * from public.job_callbacks(jsonb_build_array(jsonb_build_object('job_id',"
    " gen_random_uuid(), 'status', 'completed', 'lease_token', gen_random_uuid())),"
    " now => 'infinity')",
    # job_callback_and_claim: a bad report or bad claim arguments refuse both (nothing claimed)
    "select * from public.job_callback_and_claim(null, 'sdxl', 'w')",
    "select * from public.job_callback_and_claim('[]', 'sdxl', 'w')",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed'), 'sdxl', 'w')",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', 'x',"
    " 'status', 'completed', 'lease_token', gen_random_uuid()), 'sdxl', 'w')",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed', 'lease_token', gen_random_uuid(), 'user_id', gen_random_uuid()),"
    " 'sdxl', 'w')",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed', 'lease_token', gen_random_uuid(), 'retryable', 'yes'), 'sdxl', 'w')",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed', 'lease_token', gen_random_uuid()), 'sdxl', 'w', 0)",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed', 'lease_token', gen_random_uuid()), 'sdxl', repeat('w', 201))",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed', 'lease_token', gen_random_uuid()), 'sdxl', 'w', 1, 2147483647)",
    "select * from public.job_callback_and_claim(jsonb_build_object('job_id', gen_random_uuid(),"
    " 'status', 'completed', 'lease_token', gen_random_uuid()), 'sdxl', 'w',"
    " now => 'infinity')",
    # rescue_expired_jobs
    "select public.rescue_expired_jobs(0)",
    "select public.rescue_expired_jobs(null)",
    "select public.rescue_expired_jobs(100001)",
    "select public.rescue_expired_jobs(now => 'infinity')",
    "select public.rescue_expired_jobs('2999-01-01'::timestamptz, 1000)",
    # release_jobs
    "select * from public.release_jobs(null, array[gen_random_uuid()], array[gen_random_uuid()])",
    "select * from public.release_jobs('w', null, null)",
    "select * from public.release_jobs('w', array[gen_random_uuid()], array[]::uuid[])",
    "select * from public.release_jobs('w', (select array_agg(gen_random_uuid())"
    " from generate_series(1, 1001)), (select array_agg(gen_random_uuid())"
    " from generate_series(1, 1001)))",
    "select * from public.release_jobs('w', array[gen_random_uuid()], array[gen_random_uuid()])",
    "select * from public.release_jobs('w', array[null]::uuid[], array[null]::uuid[])",
    # rescue_is_scheduled (no arguments; any argument is an unknown function)
    "select public.rescue_is_scheduled(true)",
]


def test_hostile_arguments_are_client_errors_or_no_ops(env: Env) -> None:
    running = env.queue()
    env.queue()
    env.honest_claim()
    before = env.fingerprint()
    for sql in HOSTILE_CALLS:
        got = call(env.hostile, sql)
        if got[0] == "err":
            assert got[1][:2] in CLIENT_ERRORS, (sql, got)
        else:  # an answer is fine as long as it changed nothing (unknown job, nothing expired)
            assert "completed" not in json.dumps(
                got[1], default=str
            ) or "unknown_job" in json.dumps(got[1], default=str), (sql, got)
        assert env.fingerprint() == before, sql
    # a clock parameter does not exist (42883 = PostgREST 404), not merely ignored
    assert call(env.hostile, "select public.rescue_expired_jobs(now => now())")[1] == "42883"
    # control: the same login does change things with honest arguments
    assert env.job(running)[0] == "processing"
    (claimed,) = call(env.hostile, "select job_id from public.claim_jobs('sdxl', 'w')")[1]
    assert env.fingerprint() != before and env.job(str(claimed[0]))[0] == "processing"


def test_it_cannot_move_time_or_rescue_a_live_lease(env: Env) -> None:
    job = env.queue()
    env.honest_claim()
    before = env.job(job)
    # settings a session can set do not move the server's clock
    for sql in (
        "set timezone = 'Pacific/Kiritimati'",
        "set jobsdb.now = '2999-01-01'",
        "select set_config('request.jwt.claims', '{\"now\": \"2999-01-01\"}', false)",
    ):
        assert call(env.hostile, sql)[0] == "ok", call(env.hostile, sql)
    assert call(env.hostile, "select public.rescue_expired_jobs(100000)")[1] == [
        ({"requeued": 0, "failed": 0},)
    ]
    assert env.job(job) == before and before[0] == "processing" and before[2] == "honest"
    # control: once the lease really ended (the owner moves it), the same call rescues it
    env.owner.execute(
        "update public.jobs set lease_expires_at = now() - interval '1 second' where id = %s",
        (job,),
    )
    assert call(env.hostile, "select public.rescue_expired_jobs(100000)")[1] == [
        ({"requeued": 1, "failed": 0},)
    ]


def test_it_cannot_claim_a_job_in_backoff_or_before_its_run_after(env: Env) -> None:
    job = env.queue()
    c = env.honest_claim()
    res = rpc(env.owner, "job_callback",
              {"job_id": job, "status": "failed", "lease_token": c["lease_token"]},
              role="jobs_worker")  # fmt: skip
    assert res["result"] == "requeued"
    # make the backoff long whatever the jitter, and queue a job to run in an hour
    env.owner.execute(
        "update public.jobs set run_at = now() + interval '1 hour' where id = %s", (job,)
    )
    admin = str(
        env.owner.execute("select tests.create_user('adm@example.com', true)").fetchone()[0]
    )
    later = rpc(env.owner, "queue_job",
                {"job_type": "sdxl_image_fast", "prompt": "p", "run_after": "2999-01-01T00:00:00Z"},
                claims=as_user(admin))["jobs"][0]["id"]  # fmt: skip
    before = env.fingerprint()
    assert call(env.hostile, "select job_id from public.claim_jobs('sdxl', 'w', 100)") == ("ok", [])
    assert env.fingerprint() == before
    # control: once due (the owner moves run_at), both are claimed by the same call
    env.owner.execute("update public.jobs set run_at = now() where id in (%s, %s)", (job, later))
    got = call(env.hostile, "select job_id::text from public.claim_jobs('sdxl', 'w', 100)")[1]
    assert sorted(r[0] for r in got) == sorted([job, later])


def test_a_scoped_login_cannot_claim_from_another_pool_even_with_forged_claims(env: Env) -> None:
    wan = env.queue("video_fast")
    sdxl = env.queue()
    with psycopg.connect(env.scoped_url, autocommit=True) as scoped:
        before = env.fingerprint()
        got = call(scoped, "select * from public.claim_jobs('wan', 'w')")
        assert got[:2] == ("err", "42501") and "may not claim from pool wan" in got[2]
        # a direct SQL login can set request.jwt.claims (and role) itself: it changes nothing
        forged = json.dumps({"role": "jobs_worker", "worker_pools": ["wan"]})
        with scoped.transaction():
            scoped.execute("select set_config('request.jwt.claims', %s, true)", (forged,))
            scoped.execute("set local role jobs_worker")
            try:
                scoped.execute("select * from public.claim_jobs('wan', 'w')")
                raise AssertionError("a forged worker_pools claim was honoured")
            except psycopg.errors.InsufficientPrivilege:
                pass
        assert env.fingerprint() == before and env.job(wan)[0] == "queued"
        # control: its own pool works
        got = call(scoped, "select job_id::text from public.claim_jobs('sdxl', 'w')")
        assert got == ("ok", [(sdxl,)])
    # a scope cannot be widened by a null pool (= any() would not exclude it)
    with pytest.raises(psycopg.errors.CheckViolation):
        env.owner.execute(
            "update jobs_private.worker_logins set worker_pools = '{sdxl,NULL}'"
            " where worker_pools = '{sdxl}'"
        )
    # control: an unscoped login claims from wan
    assert call(env.hostile, "select job_id::text from public.claim_jobs('wan', 'w')") == (
        "ok",
        [(wan,)],
    )


def test_the_jwt_path_is_scoped_by_the_worker_pools_claim(env: Env, superuser_url) -> None:
    """Through PostgREST (session_user authenticator, role jobs_worker from the JWT)."""
    wan, sdxl = env.queue("video_fast"), env.queue()
    admin_url = superuser_url or env.url
    dbname = conninfo_to_dict(env.url)["dbname"]
    with psycopg.connect(make_conninfo(admin_url, dbname=dbname), autocommit=True) as su:
        if not su.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[
            0
        ]:
            pytest.skip("needs a superuser to act as authenticator")
        su.execute("set session authorization authenticator")

        def claim(pool: str, claims: dict) -> tuple:
            with su.transaction():
                su.execute(
                    "select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),)
                )
                su.execute("set local role jobs_worker")
                try:
                    return ("ok", su.execute(
                        "select job_id::text from public.claim_jobs(%s, 'w')", (pool,)
                    ).fetchall())  # fmt: skip
                except psycopg.Error as e:
                    return ("err", e.sqlstate)

        assert claim("wan", {"role": "jobs_worker", "worker_pools": ["sdxl"]}) == ("err", "42501")
        assert claim("wan", {"role": "jobs_worker", "worker_pools": "wan"}) == ("err", "42501")
        assert env.job(wan)[0] == "queued"
        assert claim("sdxl", {"role": "jobs_worker", "worker_pools": ["sdxl"]}) == (
            "ok",
            [(sdxl,)],
        )
        assert claim("wan", {"role": "jobs_worker"}) == ("ok", [(wan,)])  # absent: every pool


def test_it_cannot_heartbeat_complete_or_fail_a_job_it_does_not_hold(env: Env) -> None:
    a, b = env.queue(), env.queue()
    honest = env.honest_claim()  # job a, held by the honest worker
    assert honest["job_id"] == a
    (mine,) = call(env.hostile, "select job_id::text, lease_token::text"
                                " from public.claim_jobs('sdxl', 'hostile')")[1]  # fmt: skip
    assert mine[0] == b
    digest = env.job(a)[3]  # what a reader of the table would see
    before = env.fingerprint()
    for token in (None, str(uuid.uuid4()), mine[1], str(digest)):
        for worker in ("hostile", "honest"):
            got = call(
                env.hostile,
                "select state from public.heartbeat_jobs(%s, array[%s::uuid],"
                " array[%s::uuid], 86400)",
                (worker, a, token),
            )
            assert got == ("ok", [("lost",)]), (token, worker, got)
        for status in ("completed", "failed"):
            got = call(env.hostile,
                       "select public.job_callback(%s, %s, %s::uuid, 'x', '{}',"
                       " jsonb_build_array(%s || '/evil.png'), false)",
                       (a, status, token, env.alice))  # fmt: skip
            if token is None:
                assert got[:3] == ("err", "42501", "a worker must present its lease_token")
            else:
                assert got == ("ok", [({"job_id": a, "result": "stale", "status": "processing"},)])
    assert env.fingerprint() == before
    # another attempt's token: after a rescue and a re-claim, the first attempt's token is dead
    env.owner.execute(
        "update public.jobs set lease_expires_at = now() - interval '1 second' where id = %s", (b,)
    )
    assert call(env.hostile, "select public.rescue_expired_jobs()")[1] == [
        ({"requeued": 1, "failed": 0},)
    ]
    env.owner.execute("update public.jobs set run_at = now() where id = %s", (b,))
    again = env.honest_claim(worker="honest-2")
    assert again["job_id"] == b and again["attempt"] == 2
    before = env.fingerprint()
    got = call(env.hostile,
               "select public.job_callback(%s, 'completed', %s::uuid,"
               " assets => jsonb_build_array(%s || '/x.png'))",
               (b, mine[1], env.alice))  # fmt: skip
    assert got[1][0][0]["result"] == "stale" and env.fingerprint() == before
    # control: the holder's own token works
    got = call(env.hostile,
               "select public.job_callback(%s, 'completed', %s::uuid,"
               " assets => jsonb_build_array(%s || '/x.png'))",
               (a, honest["lease_token"], env.alice))  # fmt: skip
    assert got[1][0][0]["result"] == "completed"


def test_it_cannot_hold_a_lease_past_its_bounds(env: Env) -> None:
    job = env.queue()
    got = call(env.hostile, "select job_id::text, lease_token::text, lease_expires_at - now()"
                            " from public.claim_jobs('sdxl', 'hostile', 1, 86400)")[1]  # fmt: skip
    ((job_id, token, length),) = got
    assert job_id == job and length.total_seconds() == 600  # sdxl_image_fast: max_lease_seconds
    # keeps heartbeating for "31 minutes": the owner moves started_at back past max_run_seconds
    beat = (
        "select state from public.heartbeat_jobs('hostile', array[%s::uuid], array[%s::uuid], 600)"
    )
    assert call(env.hostile, beat, (job, token)) == ("ok", [("extended",)])  # control
    env.owner.execute(
        "update public.jobs set started_at = now() - interval '31 minutes' where id = %s", (job,)
    )
    assert call(env.hostile, beat, (job, token)) == ("ok", [("lost",)])
    assert call(env.hostile, "select public.rescue_expired_jobs()")[1] == [
        ({"requeued": 1, "failed": 0},)
    ]
    status, attempts, locked_by, lease, _, _ = env.job(job)
    assert (status, attempts, locked_by, lease) == ("queued", 1, None, None)


def test_it_cannot_release_a_job_it_does_not_hold(env: Env) -> None:
    a, b = env.queue(), env.queue()
    honest = env.honest_claim()  # job a, held by the honest worker
    assert honest["job_id"] == a
    (mine,) = call(env.hostile, "select job_id::text, lease_token::text"
                                " from public.claim_jobs('sdxl', 'hostile')")[1]  # fmt: skip
    assert mine[0] == b
    digest = env.job(a)[3]  # what a reader of the table would see
    before = env.fingerprint()
    release = "select state from public.release_jobs(%s, array[%s::uuid], array[%s::uuid])"
    for token in (None, str(uuid.uuid4()), mine[1], str(digest)):
        for worker in ("hostile", "honest"):
            got = call(env.hostile, release, (worker, a, token))
            assert got == ("ok", [("lost",)]), (token, worker, got)
    assert env.fingerprint() == before
    assert env.job(a)[:3] == ("processing", 1, "honest")
    # control: the holder's own token hands the job back, its attempt given back
    assert call(env.hostile, release, ("honest", a, honest["lease_token"])) == (
        "ok",
        [("released",)],
    )
    assert env.job(a)[:3] == ("queued", 0, None)


def test_it_cannot_report_a_batch_for_jobs_it_does_not_hold(env: Env) -> None:
    """job_callbacks is fenced per job exactly as job_callback: no token is 42501 for the whole
    batch (its own good report included), any other token is stale for that job alone."""
    a, b = env.queue(), env.queue()
    honest = env.honest_claim()  # job a, held by the honest worker
    assert honest["job_id"] == a
    (mine,) = call(env.hostile, "select job_id::text, lease_token::text"
                                " from public.claim_jobs('sdxl', 'hostile')")[1]  # fmt: skip
    assert mine[0] == b
    digest = env.job(a)[3]
    batch = "select job_id::text, result from public.job_callbacks(%s::jsonb)"

    def report(job: str, token: str | None, status: str = "completed") -> dict:
        r = {"job_id": job, "status": status, "assets": [f"{env.alice}/evil.png"],
             "retryable": False}
        return r if token is None else r | {"lease_token": token}

    before = env.fingerprint()
    for token in (None, str(uuid.uuid4()), mine[1], str(digest)):
        for status in ("completed", "failed"):
            got = call(env.hostile, batch, (json.dumps([report(a, token, status)]),))
            if token is None:
                assert got[:2] == ("err", "42501") and "lease_token" in got[2], got
            else:
                assert got == ("ok", [(a, "stale")]), (token, got)
    # its own job b first, with its real token: still nothing written when a has no token
    got = call(env.hostile, batch, (json.dumps([report(b, mine[1]), report(a, None)]),))
    assert got[:2] == ("err", "42501") and f"reports[1] (job {a})" in got[2], got
    assert env.fingerprint() == before and env.job(b)[0] == "processing"
    # control: with a stolen token for a instead, b completes and a stays the honest worker's
    got = call(env.hostile, batch, (json.dumps([report(b, mine[1]), report(a, mine[1])]),))
    assert got == ("ok", [(b, "completed"), (a, "stale")]), got
    assert env.job(b)[0] == "completed" and env.job(a)[:3] == ("processing", 1, "honest")
    # control: the holder's own token works in a batch
    got = call(env.hostile, batch, (json.dumps([report(a, honest["lease_token"])]),))
    assert got == ("ok", [(a, "completed")])


def test_it_cannot_attach_another_users_file_to_a_job(env: Env) -> None:
    """Asset paths lie in the job owner's folder (job_types.asset_path_prefix '{user_id}/'):
    a path, a thumbnail or a climb out of it into another user's folder is 22023 naming the
    asset, alone or in a batch, and nothing is written."""
    bob = str(env.owner.execute("select tests.create_user('bob@example.com')").fetchone()[0])
    job = env.queue()
    ((_, token),) = call(env.hostile, "select job_id::text, lease_token::text"
                                      " from public.claim_jobs('sdxl', 'hostile')")[1]  # fmt: skip
    before = env.fingerprint()
    one = "select public.job_callback(%s, 'completed', %s::uuid, assets => %s::jsonb)"
    for assets in (
        [f"{bob}/private.png"],
        [{"url": f"{env.alice}/ok.png", "thumbnail_url": f"{bob}/private.png"}],
        [f"{env.alice}/../{bob}/private.png"],
        [f"{env.alice}/ok.png", f"{bob}/private.png"],
    ):
        got = call(env.hostile, one, (job, token, json.dumps(assets)))
        assert got[:2] == ("err", "22023"), got
        assert got[2].startswith(f"assets[{len(assets) - 1}]: "), got
        assert f"is not under '{env.alice}/'" in got[2] or '".." segment' in got[2], got
    batch = [{"job_id": job, "status": "completed", "lease_token": token,
              "assets": [f"{bob}/private.png"]}]
    got = call(env.hostile, "select * from public.job_callbacks(%s::jsonb)", (json.dumps(batch),))
    assert got[:2] == ("err", "22023") and got[2].startswith(f"reports[0] (job {job}): "), got
    assert env.fingerprint() == before and env.job(job)[0] == "processing"
    # control: the owner's folder is taken
    got = call(env.hostile, one, (job, token, json.dumps([f"{env.alice}/{job}.png"])))
    assert got[0] == "ok" and got[1][0][0]["result"] == "completed", got


def test_it_cannot_make_a_job_store_unbounded_outputs(env: Env) -> None:
    """A worker attached 100 assets with 900 KB of metadata each (90 MB in the owner's reads).
    Now: at most 10 assets (settings.max_assets_per_job) and 32 KiB of asset metadata per job
    (settings.max_asset_metadata_bytes), each refusal naming the bound; nothing written."""
    job = env.queue()
    ((_, token),) = call(env.hostile, "select job_id::text, lease_token::text"
                                      " from public.claim_jobs('sdxl', 'hostile')")[1]  # fmt: skip
    before = env.fingerprint()
    one = "select public.job_callback(%s, 'completed', %s::uuid, assets => %s::jsonb)"
    many = [f"{env.alice}/{i}.png" for i in range(100)]
    got = call(env.hostile, one, (job, token, json.dumps(many)))
    assert got[:2] == ("err", "22023") and "at most 10 per job" in got[2], got
    fat = [{"url": f"{env.alice}/{i}.png", "metadata": {"exif": "x" * 900_000}}
           for i in range(2)]
    got = call(env.hostile, one, (job, token, json.dumps(fat)))
    assert got[:2] == ("err", "22023") and got[2].startswith("assets[0]: the metadata of"), got
    assert "at most 32768 per job" in got[2]
    deep = [{"url": f"{env.alice}/0.png", "metadata": {"a": json.loads("[" * 40 + "]" * 40)}}]
    got = call(env.hostile, one, (job, token, json.dumps(deep)))
    assert got[:2] == ("err", "22023") and "nested deeper than 32 levels" in got[2], got
    got = call(env.hostile, "select public.job_callback(%s, 'completed', %s::uuid,"
                            " metadata => '{\"n\": 1e5000}')", (job, token))  # fmt: skip
    assert got[:2] == ("err", "22023") and "1e308 or more" in got[2], got
    assert env.fingerprint() == before and env.job(job)[0] == "processing"
    # control: ten assets with a little metadata each are stored
    ten = [{"url": f"{env.alice}/{i}.png", "metadata": {"seed": i}} for i in range(10)]
    got = call(env.hostile, one, (job, token, json.dumps(ten)))
    assert got[0] == "ok" and len(got[1][0][0]["asset_ids"]) == 10, got
