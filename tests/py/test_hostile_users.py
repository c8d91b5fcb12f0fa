"""Hostile users: another signed-in user, anon, and a user posing as worker or admin try every way
to read, change, cancel, complete, link outputs to, or learn of the existence of a victim's job.

All of it runs as PostgREST would: direct table access inside a transaction with `role` and
`request.jwt.claims` set locally (what a PostgREST table request or a Realtime RLS check does),
RPCs through `jobsdb.postgrest.rpc`. Every attack must be denied (42501, or 42883 for an unknown
parameter), see nothing (0 rows / null), or answer exactly as it would for a random id; and after
every attack the victim's data is unchanged (audit.sql `table_fingerprints`). Each denial has a
control (the victim or an admin doing the same succeeds), so the tests can fail.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb import queries
from jobsdb.postgrest import as_user, rpc

AUDIT = queries.load_file(Path(__file__).resolve().parents[1] / "queries" / "audit.sql")
TABLES = ["jobs", "images_videos", "videos", "profiles", "user_roles", "projects"]
OWNER_COL = {
    "jobs": "user_id",
    "images_videos": "user_id",
    "videos": "user_id",
    "profiles": "id",
    "user_roles": "user_id",
    "projects": "user_id",
}
SOME_COL = {"job_types": "description", "api_models": "display_name", "prompt_tests": "name"}


def _one(conn: psycopg.Connection, q: str, params: Any = None) -> Any:
    return conn.execute(q, params).fetchone()[0]


class W:
    """The victim's world: ids of everything the attacker must not reach."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.victim = str(_one(conn, "select tests.create_user('victim@example.com')"))
        self.attacker = str(_one(conn, "select tests.create_user('attacker@example.com')"))
        self.admin = str(_one(conn, "select tests.create_user('boss@example.com', true)"))
        self.project = str(
            _one(
                conn,
                "insert into public.projects (user_id, name) values (%s, 'secret') returning id",
                (self.victim,),
            )
        )
        self.session = str(uuid.uuid4())
        v = as_user(self.victim)

        def queue(jt: str, **kw: Any) -> dict:
            return rpc(
                conn, "queue_job", {"job_type": jt, "prompt": "victim secret", **kw}, claims=v
            )

        self.group = queue(
            "sdxl_image_fast",
            num_images=3,
            idempotency_key="victim-key",
            project_id=self.project,
            destination="workspace",
            workspace_session_id=self.session,
        )
        self.group_id = self.group["group_id"]
        vid = queue("video_fast")
        claimed = rpc(
            conn,
            "claim_jobs",
            {"worker_pool": "sdxl", "worker_id": "w", "max_jobs": 3},
            role="jobs_worker",
        )
        claimed += rpc(
            conn,
            "claim_jobs",
            {"worker_pool": "wan", "worker_id": "w", "max_jobs": 1},
            role="jobs_worker",
        )
        by_id = {c["job_id"]: c for c in claimed}
        ids = [j["id"] for j in self.group["jobs"]]
        # ids[0] completed with an image, vid completed with a video, ids[1] processing,
        # ids[2] failed; one more queued and one cancelled
        self.completed = ids[0]
        r = rpc(
            conn,
            "job_callback",
            {
                "job_id": ids[0],
                "status": "completed",
                "lease_token": by_id[ids[0]]["lease_token"],
                "assets": [{"url": f"{self.victim}/0.png", "metadata": {"s": 1}}],
            },
            role="jobs_worker",
        )
        self.asset = r["asset_ids"][0]
        self.video_job = vid["jobs"][0]["id"]
        r = rpc(
            conn,
            "job_callback",
            {
                "job_id": self.video_job,
                "status": "completed",
                "lease_token": by_id[self.video_job]["lease_token"],
                "assets": [{"type": "video", "url": f"{self.victim}/0.mp4"}],
            },
            role="jobs_worker",
        )
        self.video_asset = r["asset_ids"][0]
        self.processing, self.token = ids[1], by_id[ids[1]]["lease_token"]
        self.failed = ids[2]
        rpc(
            conn,
            "job_callback",
            {
                "job_id": ids[2],
                "status": "failed",
                "retryable": False,
                "lease_token": by_id[ids[2]]["lease_token"],
            },
            role="jobs_worker",
        )
        self.queued = queue("rv51_fast")["jobs"][0]["id"]
        self.cancelled = queue("rv51_high")["jobs"][0]["id"]
        rpc(conn, "cancel_job", {"job_id": self.cancelled}, claims=v)
        # the attacker has a job of their own (so "sees nothing" is not "sees an empty table")
        self.own = rpc(
            conn,
            "queue_job",
            {"job_type": "rv51_fast", "prompt": "mine"},
            claims=as_user(self.attacker),
        )["jobs"][0]["id"]
        self.victim_jobs = [
            self.completed,
            self.video_job,
            self.processing,
            self.failed,
            self.queued,
            self.cancelled,
            ids[1],
        ]

    @property
    def attacker_claims(self) -> dict:
        return as_user(self.attacker)

    def fingerprint(self) -> list[tuple]:
        return self.conn.execute(AUDIT["table_fingerprints"]).fetchall()


@pytest.fixture(scope="module")
def w(template_db):
    with template_db.clone() as url, psycopg.connect(url, autocommit=True) as conn:
        yield W(conn)


@pytest.fixture
def unchanged(w: W):
    """Asserts after the test that jobs, outputs, profiles and roles are exactly as before."""
    before = w.fingerprint()
    yield
    assert w.fingerprint() == before, "an attack changed the database"


def as_role(
    conn: psycopg.Connection, role: str, claims: dict | None, query: str, params: Any = None
) -> tuple[str, Any]:
    """Run one statement the way PostgREST runs a table request; commit if it succeeds.
    Returns ('ok', (rowcount, rows)) or ('err', sqlstate)."""
    try:
        with conn.transaction():
            conn.execute(
                "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                (role, json.dumps(claims) if claims is not None else ""),
            )
            cur = conn.execute(query, params)
            rows = cur.fetchall() if cur.description else None
            return "ok", (cur.rowcount, rows)
    except psycopg.Error as e:
        return "err", e.sqlstate


def call(
    conn: psycopg.Connection,
    name: str,
    args: dict,
    role: str = "authenticated",
    claims: dict | None = None,
) -> tuple:
    """('ok', result) or ('err', sqlstate, message, detail, hint)."""
    try:
        return ("ok", rpc(conn, name, args, role=role, claims=claims))
    except psycopg.Error as e:
        d = e.diag
        return ("err", e.sqlstate, d.message_primary, d.message_detail, d.message_hint)


# ---- direct table access -----------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_attacker_selects_none_of_the_victims_rows(w: W, table: str) -> None:
    q = f"select count(*) from public.{table} where {OWNER_COL[table]} = %s"
    got = as_role(w.conn, "authenticated", w.attacker_claims, q, (w.victim,))
    assert got == ("ok", (1, [(0,)]))
    # control: the victim sees their rows through the same path (user_roles: victim has none)
    status, (_, rows) = as_role(w.conn, "authenticated", as_user(w.victim), q, (w.victim,))
    assert status == "ok" and (rows[0][0] > 0) == (table != "user_roles")


def test_attacker_sees_only_their_own_jobs(w: W) -> None:
    status, (_, rows) = as_role(
        w.conn,
        "authenticated",
        w.attacker_claims,
        "select id::text, user_id::text from public.jobs",
    )
    # other tests of this module may queue more jobs for the attacker: all must be theirs
    assert status == "ok" and (w.own, w.attacker) in rows
    assert {u for _, u in rows} == {w.attacker}


def test_metadata_filters_find_nothing_of_the_victim(w: W) -> None:
    for q, p in [
        ("select count(*) from public.jobs where metadata ->> 'job_id' = %s", (w.group_id,)),
        (
            "select count(*) from public.jobs where metadata @> %s::jsonb",
            (json.dumps({"prompt": "victim secret"}),),
        ),
        ("select count(*) from public.jobs where metadata::text like '%%victim%%'", None),
        ("select count(*) from public.jobs where idempotency_key = 'victim-key'", None),
        (
            "select count(*) from public.images_videos where file_path like %s",
            (f"{w.victim}/%",),
        ),
    ]:
        assert as_role(w.conn, "authenticated", w.attacker_claims, q, p) == ("ok", (1, [(0,)])), q
        status, (_, rows) = as_role(w.conn, "authenticated", as_user(w.admin), q, p)
        assert rows[0][0] > 0, f"control (admin) finds nothing: {q}"


def test_realtime_select_path_delivers_nothing_to_the_attacker(w: W, unchanged) -> None:
    # Realtime checks each change against the SELECT policy as the subscriber: the row by key.
    q = "select id from public.jobs where id = any(%s::uuid[])"
    assert as_role(w.conn, "authenticated", w.attacker_claims, q, (w.victim_jobs,)) == (
        "ok",
        (0, []),
    )
    status, (n, _) = as_role(w.conn, "authenticated", as_user(w.victim), q, (w.victim_jobs,))
    assert n == len(set(w.victim_jobs))
    for t in ("images_videos", "videos"):
        q = f"select id from public.{t} where user_id = %s"
        got = as_role(w.conn, "authenticated", w.attacker_claims, q, (w.victim,))
        assert got == ("ok", (0, []))
    # and the policy is the only SELECT path on jobs: the publication carries jobs with RLS on
    assert _one(w.conn, "select relrowsecurity from pg_class where oid = 'public.jobs'::regclass")


WRITES = [
    # (statement, expected): 'denied' = 42501; 'nothing' = succeeds touching 0 rows
    (
        "insert into public.jobs (user_id, job_type, status)"
        " values (%(v)s, 'rv51_fast', 'completed')",
        "denied",
    ),
    ("insert into public.jobs (user_id, job_type) values (%(a)s, 'rv51_fast')", "denied"),
    ("update public.jobs set status = 'cancelled' where user_id = %(v)s", "denied"),
    ("update public.jobs set metadata = '{}' where id = %(job)s", "denied"),
    ("update public.jobs set user_id = %(a)s where id = %(job)s", "denied"),
    ("update public.jobs set image_id = %(asset)s where id = %(own)s", "denied"),
    ("delete from public.jobs where user_id = %(v)s", "denied"),
    ("truncate public.jobs cascade", "denied"),
    (
        "insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket,"
        " file_path, file_name) values (%(a)s, %(job)s, 5, 'image', 'b', 'x/y.png', 'y.png')",
        "denied",
    ),
    (
        "insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket,"
        " file_path, file_name) values (%(v)s, %(job)s, 5, 'image', 'b', 'x/y.png', 'y.png')",
        "denied",
    ),
    ("update public.images_videos set job_id = %(own)s where id = %(asset)s", "denied"),
    ("update public.images_videos set user_id = %(a)s where user_id = %(v)s", "denied"),
    ("delete from public.images_videos where user_id = %(v)s", "nothing"),
    ("delete from public.images_videos where id = %(asset)s", "nothing"),
    (
        "insert into public.videos (user_id, asset_id, file_path) values (%(a)s, %(asset)s, 'x')",
        "denied",
    ),
    ("update public.videos set user_id = %(a)s", "denied"),
    ("delete from public.videos where user_id = %(v)s", "nothing"),
    ("insert into public.profiles (id, username) values (%(v)s, 'stolen')", "denied"),
    ("update public.profiles set display_name = 'pwned' where id = %(v)s", "nothing"),
    ("update public.profiles set id = %(v)s where id = %(a)s", "denied"),
    ("delete from public.profiles where id = %(v)s", "denied"),
    ("insert into public.user_roles (user_id, role) values (%(a)s, 'admin')", "denied"),
    ("update public.user_roles set user_id = %(a)s", "denied"),
    ("delete from public.user_roles", "denied"),
    ("update public.projects set name = 'pwned' where id = %(project)s", "nothing"),
    ("delete from public.projects where id = %(project)s", "nothing"),
    ("insert into public.projects (user_id, name) values (%(v)s, 'planted')", "denied"),
    ("update jobs_private.settings set max_queued_per_user = 100000", "denied"),
    ("select * from jobs_private.settings", "denied"),
    (
        "insert into jobs_private.job_status_transitions values ('completed', 'queued', 'x')",
        "denied",
    ),
    ("select email from auth.users", "denied"),
    ("update public.job_types set worker_pool = 'evil'", "denied"),
]


@pytest.mark.parametrize("stmt,expected", WRITES, ids=[str(i) for i in range(len(WRITES))])
def test_attacker_cannot_write_the_victims_rows(w: W, unchanged, stmt: str, expected: str) -> None:
    params = {
        "v": w.victim,
        "a": w.attacker,
        "job": w.queued,
        "own": w.own,
        "asset": w.asset,
        "project": w.project,
    }
    got = as_role(w.conn, "authenticated", w.attacker_claims, stmt, params)
    if expected == "denied":
        assert got == ("err", "42501"), stmt
    else:
        assert got[0] == "ok" and got[1][0] == 0, (stmt, got)


def test_attacker_can_write_their_own_profile(w: W) -> None:
    # control for the profile/project denials: the same path works on the attacker's own rows
    got = as_role(
        w.conn,
        "authenticated",
        w.attacker_claims,
        "update public.profiles set display_name = 'me' where id = %s",
        (w.attacker,),
    )
    assert got == ("ok", (1, None))


# ---- RPCs with the victim's ids ----------------------------------------------------------------


def test_get_job_and_asset_info_of_foreign_ids_answer_like_missing_ones(w: W, unchanged) -> None:
    a = w.attacker_claims
    for j in w.victim_jobs:
        assert call(w.conn, "get_job", {"job_id": j}, claims=a) == ("ok", None)
    assert call(w.conn, "get_job", {"job_id": str(uuid.uuid4())}, claims=a) == ("ok", None)
    for asset in (w.asset, w.video_asset, str(uuid.uuid4())):
        assert call(w.conn, "asset_info", {"asset_id": asset}, claims=a) == ("ok", None)
    # control
    assert (
        call(w.conn, "get_job", {"job_id": w.completed}, claims=as_user(w.victim))[1]["id"]
        == w.completed
    )
    assert call(w.conn, "asset_info", {"asset_id": w.asset}, claims=as_user(w.victim))[1]


def _without_id(res: tuple, *ids: str) -> tuple:
    text = json.dumps(res)
    for i in ids:
        text = text.replace(i, "<id>")
    return tuple(json.loads(text))


@pytest.mark.parametrize("which", ["queued", "processing", "completed", "cancelled", "failed"])
def test_cancel_of_a_foreign_job_is_the_same_pt404_as_a_random_id(w: W, unchanged, which) -> None:
    foreign, random_id = getattr(w, which), str(uuid.uuid4())
    a = w.attacker_claims
    r1 = call(w.conn, "cancel_job", {"job_id": foreign}, claims=a)
    r2 = call(w.conn, "cancel_job", {"job_id": random_id}, claims=a)
    assert r1[:2] == ("err", "PT404")
    assert _without_id(r1, foreign) == _without_id(r2, random_id)


def test_a_user_gets_42501_from_every_worker_and_admin_rpc(w: W, unchanged) -> None:
    a = w.attacker_claims
    for name, args in [
        ("claim_jobs", {"worker_pool": "sdxl", "worker_id": "evil"}),
        (
            "heartbeat_jobs",
            {"worker_id": "w", "job_ids": [w.processing], "lease_tokens": [w.token]},
        ),
        (
            "job_callback",
            {
                "job_id": w.processing,
                "status": "completed",
                "lease_token": w.token,
                "assets": ["evil.png"],
            },
        ),
        ("job_callback", {"job_id": w.processing, "status": "failed", "retryable": False}),
        (
            "job_callbacks",
            {"reports": [{"job_id": w.processing, "status": "failed", "lease_token": w.token}]},
        ),
        (
            "job_callback_and_claim",
            {
                "report": {"job_id": w.processing, "status": "failed", "lease_token": w.token},
                "worker_pool": "sdxl",
                "worker_id": "evil",
            },
        ),
        ("rescue_expired_jobs", {"max_jobs": 1000}),
        (
            "release_jobs",
            {"worker_id": "w", "job_ids": [w.processing], "lease_tokens": [w.token]},
        ),
        ("rescue_is_scheduled", {}),
        ("review_job", {"job_id": w.completed, "moderation_status": "approved"}),
        ("retry_job", {"job_id": w.failed}),
        ("purge_finished_jobs", {"older_than": "0"}),
        ("system_metrics", {}),
    ]:
        got = call(w.conn, name, args, claims=a)
        assert got[:2] == ("err", "42501"), (name, got)
    # control: the admin may do the admin ones
    assert call(w.conn, "system_metrics", {}, claims=as_user(w.admin))[0] == "ok"


@pytest.mark.parametrize(
    "name,args",
    [
        ("review_job", {"moderation_status": "approved"}),
        ("retry_job", {}),
    ],
)
def test_admin_rpc_denials_do_not_reveal_existence(w: W, unchanged, name, args) -> None:
    a = w.attacker_claims
    r1 = call(w.conn, name, {"job_id": w.failed, **args}, claims=a)
    r2 = call(w.conn, name, {"job_id": str(uuid.uuid4()), **args}, claims=a)
    assert r1[:2] == ("err", "42501") and r1 == r2


def test_queue_job_with_the_victims_project_answers_like_a_random_one(w: W, unchanged) -> None:
    a = w.attacker_claims
    body = {"job_type": "rv51_fast", "prompt": "p"}
    r1 = call(w.conn, "queue_job", {**body, "project_id": w.project}, claims=a)
    r2 = call(w.conn, "queue_job", {**body, "project_id": str(uuid.uuid4())}, claims=a)
    assert r1[:2] == ("err", "22023") and r1 == r2


def test_lists_of_the_attacker_contain_nothing_of_the_victim(w: W, unchanged) -> None:
    a = w.attacker_claims
    secrets_ = [*w.victim_jobs, w.group_id, w.asset, w.video_asset, "victim secret", w.project]
    for name, args in [
        ("list_jobs", {}),
        ("list_jobs", {"status": "completed"}),
        ("workspace_groups", {}),
        ("library_items", {}),
        ("workspace_groups", {"workspace_session_id": w.session}),
        ("workspace_groups", {"before": "infinity", "before_group": w.group_id}),
    ]:
        status, res = call(w.conn, name, args, claims=a)
        assert status == "ok"
        text = json.dumps(res)
        assert not [s for s in secrets_ if s in text], (name, args)
    # control: the victim's own session filter finds the group
    _, res = call(
        w.conn, "workspace_groups", {"workspace_session_id": w.session}, claims=as_user(w.victim)
    )
    assert [g["group_id"] for g in res["groups"]] == [w.group_id]


def test_the_victims_idempotency_key_makes_the_attacker_a_new_job(w: W) -> None:
    status, res = call(
        w.conn,
        "queue_job",
        {"job_type": "sdxl_image_fast", "prompt": "p", "idempotency_key": "victim-key"},
        claims=w.attacker_claims,
    )
    assert status == "ok" and res["deduplicated"] is False and res["group_id"] != w.group_id
    assert not {j["id"] for j in res["jobs"]} & set(w.victim_jobs)


def test_metadata_job_id_cannot_plant_a_job_in_the_victims_group(w: W) -> None:
    status, res = call(
        w.conn,
        "queue_job",
        {"job_type": "rv51_fast", "prompt": "p", "metadata": {"job_id": w.group_id}},
        claims=w.attacker_claims,
    )
    assert status == "ok" and res["group_id"] != w.group_id
    assert res["jobs"][0]["id"] == res["group_id"]
    _, groups = call(w.conn, "workspace_groups", {}, claims=as_user(w.victim))
    mine = [g for g in groups["groups"] if g["group_id"] == w.group_id]
    assert len(mine) == 1 and len(mine[0]["jobs"]) == 3


# ---- anon: everything denied -------------------------------------------------------------------


ANON = {"role": "anon"}


@pytest.mark.parametrize("table", TABLES + ["job_types", "api_models", "prompt_tests"])
def test_anon_cannot_touch_any_table(w: W, unchanged, table: str) -> None:
    col = OWNER_COL.get(table)
    for stmt in (
        f"select * from public.{table}",
        f"delete from public.{table} where true",
        "update public.{0} set {1} = {1}".format(table, SOME_COL.get(table, col)),
        f"insert into public.{table} default values",
    ):
        assert as_role(w.conn, "anon", ANON, stmt) == ("err", "42501"), stmt


def test_anon_cannot_reach_internals(w: W, unchanged) -> None:
    for stmt in (
        "select * from jobs_private.settings",
        "select * from jobs_private.job_status_transitions",
        "select jobs_private.is_admin()",
        "select email from auth.users",
        "insert into public.user_roles (user_id, role) values (gen_random_uuid(), 'admin')",
    ):
        assert as_role(w.conn, "anon", ANON, stmt) == ("err", "42501"), stmt


def test_anon_can_execute_no_function_in_public(w: W, unchanged) -> None:
    names = [
        r[0]
        for r in w.conn.execute(
            "select proname from pg_proc where pronamespace = 'public'::regnamespace order by 1"
        )
    ]
    assert len(names) >= 15
    valid = VALID_ARGS(w)
    missing = set(names) - set(valid)
    assert not missing, f"function(s) without a hostile test: {missing}"
    for name in names:
        got = call(w.conn, name, valid[name], role="anon", claims=ANON)
        assert got[:2] == ("err", "42501"), (name, got)
        # a forged sub in anon's claims changes nothing either
        got = call(w.conn, name, valid[name], role="anon", claims={"role": "anon", "sub": w.victim})
        assert got[:2] == ("err", "42501"), (name, got)


def VALID_ARGS(w: W) -> dict[str, dict]:  # noqa: N802 - reads like the constant it is
    """Arguments each public function accepts from its rightful caller."""
    return {
        "queue_job": {"job_type": "rv51_fast", "prompt": "p"},
        "cancel_job": {"job_id": w.queued},
        "list_jobs": {},
        "get_job": {"job_id": w.completed},
        "asset_info": {"asset_id": w.asset},
        "workspace_groups": {},
        "library_items": {},
        "job_changes_since": {},
        "claim_jobs": {"worker_pool": "rv51", "worker_id": "w"},
        "heartbeat_jobs": {"worker_id": "w", "job_ids": [w.processing], "lease_tokens": [w.token]},
        "job_callback": {"job_id": w.processing, "status": "completed", "lease_token": w.token},
        "job_callbacks": {
            "reports": [{"job_id": w.processing, "status": "completed", "lease_token": w.token}]
        },
        "job_callback_and_claim": {
            "report": {"job_id": w.processing, "status": "completed", "lease_token": w.token},
            "worker_pool": "rv51",
            "worker_id": "w",
        },
        "rescue_expired_jobs": {"max_jobs": 1000},
        "release_jobs": {"worker_id": "w", "job_ids": [w.processing], "lease_tokens": [w.token]},
        "rescue_is_scheduled": {},
        "review_job": {"job_id": w.completed, "moderation_status": "approved"},
        "retry_job": {"job_id": w.failed},
        "purge_finished_jobs": {"older_than": "0"},
        "system_metrics": {},
    }


def test_a_worker_cannot_use_user_rpcs_or_tables(w: W, unchanged) -> None:
    valid = VALID_ARGS(w)
    for name in (
        "queue_job",
        "cancel_job",
        "list_jobs",
        "get_job",
        "asset_info",
        "workspace_groups",
        "library_items",
        "review_job",
        "retry_job",
        "purge_finished_jobs",
        "system_metrics",
    ):
        got = call(w.conn, name, valid[name], role="jobs_worker", claims=as_user(w.victim))
        assert got[:2] == ("err", "42501"), (name, got)
    for table in TABLES:
        assert as_role(w.conn, "jobs_worker", None, f"select * from public.{table}") == (
            "err",
            "42501",
        )


# ---- privilege escalation through parameters and claims ----------------------------------------


@pytest.mark.parametrize("key", ["user_id", "owner", "status", "attempts", "id", "role"])
def test_queue_job_rejects_ownership_keys_as_unknown_parameters(w: W, unchanged, key) -> None:
    got = call(
        w.conn,
        "queue_job",
        {"job_type": "rv51_fast", "prompt": "p", key: w.victim},
        claims=w.attacker_claims,
    )
    assert got[:2] == ("err", "42883")


@pytest.mark.parametrize(
    "extra",
    [{"priority": 100}, {"priority": 0}, {"run_after": "2020-01-01"}, {"run_after": "infinity"}],
)
def test_a_user_cannot_set_priority_or_run_after(w: W, unchanged, extra) -> None:
    got = call(
        w.conn,
        "queue_job",
        {"job_type": "rv51_fast", "prompt": "p", **extra},
        claims=w.attacker_claims,
    )
    assert got[:2] == ("err", "42501")


@pytest.mark.parametrize(
    "claims",
    [
        {"app_metadata": {"role": "admin", "provider": "email"}},
        {"user_metadata": {"role": "admin", "is_admin": True}},
        {"role": "service_role"},
        {"role": "supabase_admin", "is_admin": True},
    ],
)
def test_forged_claims_do_not_make_an_admin(w: W, unchanged, claims) -> None:
    c = {**w.attacker_claims, **claims}
    for name, args in [
        ("system_metrics", {}),
        ("retry_job", {"job_id": w.failed}),
        ("purge_finished_jobs", {"older_than": "0"}),
    ]:
        assert call(w.conn, name, args, claims=c)[:2] == ("err", "42501"), (name, claims)
    # cancel_job's trusted-caller path is the pg role, not the claim
    assert call(w.conn, "cancel_job", {"job_id": w.queued}, claims=c)[:2] == ("err", "PT404")
    q = "select count(*) from public.jobs where user_id = %s"
    assert as_role(w.conn, "authenticated", c, q, (w.victim,)) == ("ok", (1, [(0,)]))


def test_self_made_admin_row_is_denied_and_grants_nothing(w: W, unchanged) -> None:
    got = as_role(
        w.conn,
        "authenticated",
        w.attacker_claims,
        "insert into public.user_roles (user_id, role) values (%s, 'admin')",
        (w.attacker,),
    )
    assert got == ("err", "42501")
    assert call(w.conn, "system_metrics", {}, claims=w.attacker_claims)[:2] == ("err", "42501")


def test_callback_payload_owner_fields_do_not_change_ownership(template_db) -> None:
    """A worker's payload naming another user in metadata/assets: outputs still belong to the
    job's owner; the named user sees none of it."""
    with template_db.clone() as url, psycopg.connect(url, autocommit=True) as conn:
        ww = W(conn)
        a, v = ww.attacker, ww.victim
        planted = {"user_id": a, "owner": a, "owner_id": a, "job_id": str(uuid.uuid4())}
        res = rpc(
            conn,
            "job_callback",
            {
                "job_id": ww.processing,
                "status": "completed",
                "lease_token": ww.token,
                "metadata": planted,
                "assets": [
                    {"url": f"{v}/0.png", "metadata": planted},
                    {"type": "video", "url": f"{v}/1.mp4", "metadata": {"user_id": a}},
                ],
            },
            role="jobs_worker",
        )
        assert res["result"] == "completed" and len(res["asset_ids"]) == 2
        owners = conn.execute(
            "select distinct user_id::text from public.images_videos where job_id = %s",
            (ww.processing,),
        ).fetchall()
        assert owners == [(v,)]
        row = conn.execute(
            "select user_id::text, metadata ->> 'job_id' from public.jobs where id = %s",
            (ww.processing,),
        ).fetchone()
        assert row == (v, ww.group_id)
        for asset in res["asset_ids"]:
            assert rpc(conn, "asset_info", {"asset_id": asset}, claims=as_user(a)) is None
            assert (
                rpc(conn, "asset_info", {"asset_id": asset}, claims=as_user(v))["asset_id"] == asset
            )
        assert rpc(conn, "get_job", {"job_id": ww.processing}, claims=as_user(a)) is None
        assert (
            len(rpc(conn, "get_job", {"job_id": ww.processing}, claims=as_user(v))["assets"]) == 2
        )
        _, groups = call(conn, "workspace_groups", {}, claims=as_user(a))
        assert all(g["group_id"] != ww.group_id for g in groups["groups"])


# ---- one user's load and what no reader can read ----------------------------------------------


def _new_user(conn: psycopg.Connection, email: str) -> str:
    return str(_one(conn, "select tests.create_user(%s)", (email,)))


def test_queueing_and_cancelling_in_rounds_is_held_to_the_rate_of_new_jobs(w: W) -> None:
    """The attack: rounds of 25 queue_job calls, each job cancelled at once, so the queued cap
    never bites (500 jobs in 1.7 s before). Now the token bucket (default: 30 at once, then 60
    per minute) counts every job made, cancelled or not: PT429 with the wait, and the jobs made
    stay within burst + rate x elapsed."""
    spammer = _new_user(w.conn, "rounds@example.com")
    made, refused = 0, []
    started = time.monotonic()
    for _round in range(5):
        for i in range(25):
            got = call(w.conn, "queue_job", {"job_type": "sdxl_image_fast", "prompt": f"s{i}"},
                       claims=as_user(spammer))
            if got[0] == "err":
                refused.append(got)
                continue
            made += 1
            assert call(w.conn, "cancel_job", {"job_id": got[1]["jobs"][0]["id"]},
                        claims=as_user(spammer))[0] == "ok"
    elapsed = time.monotonic() - started
    assert made <= 30 + 60 * elapsed / 60, (made, elapsed)
    assert made >= 30 and len(refused) == 125 - made
    code, message, detail, hint = refused[0][1:]
    assert code == "PT429" and message.startswith("too many new jobs: at most 60 per minute")
    assert re.fullmatch(r"retry_after_seconds=[1-9][0-9]*", detail) and "Retry-After" in hint
    assert _one(w.conn, "select count(*) from public.jobs where user_id = %s", (spammer,)) == made
    # another user is not held back by the spammer's bucket
    assert call(w.conn, "queue_job", {"job_type": "rv51_fast", "prompt": "mine"},
                claims=as_user(_new_user(w.conn, "bystander@example.com")))[0] == "ok"


def test_concurrent_connections_of_one_user_cannot_pass_the_rate(template_db) -> None:
    """Eight connections of one user queue and cancel as fast as they can for 2 s: the jobs made
    never exceed burst + rate x elapsed (queue_job's per-user lock and the bucket row's lock
    make the check exact), and the rate is reached, not merely refused."""
    with template_db.clone() as url, psycopg.connect(url, autocommit=True) as owner:
        owner.execute("update jobs_private.settings set jobs_per_minute = 600, job_burst = 5")
        user = _new_user(owner, "racer@example.com")
        made: list[int] = []
        errors: list[str] = []
        barrier = threading.Barrier(8)

        def hammer() -> None:
            n = 0
            with psycopg.connect(url, autocommit=True) as c:
                barrier.wait()
                stop = time.monotonic() + 2.0
                while time.monotonic() < stop:
                    try:
                        r = rpc(c, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "r"},
                                claims=as_user(user))
                        rpc(c, "cancel_job", {"job_id": r["jobs"][0]["id"]},
                            claims=as_user(user))
                        n += 1
                    except psycopg.Error as e:
                        if e.sqlstate != "PT429":
                            errors.append(f"{e.sqlstate}: {e}")
            made.append(n)

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        total = _one(owner, "select count(*) from public.jobs where user_id = %s", (user,))
    assert errors == [] and total == sum(made)
    assert total <= 5 + 10 * elapsed, (total, elapsed)  # 600 per minute: 10 per second
    assert total >= 5 + 10 * 1.5, (total, elapsed)  # the bucket refilled and was used


def test_metadata_no_reader_can_read_is_refused_with_22023(w: W, unchanged) -> None:
    """{"n": 1e5000} (13 bytes; stored, a 5,001-digit integer) and arrays nested 2,000 deep
    stopped every Python worker of a pool. Both are refused, as PostgREST sends them."""
    args = {"job_type": None, "prompt": None, "metadata": None}
    for metadata, why in (
        ('{"n": 1e5000}', "absolute value is 1e308 or more"),
        ('{"a": ' + "[" * 2000 + "]" * 2000 + "}", "nested deeper than 32 levels"),
    ):
        body = f'{{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {metadata}}}'
        with pytest.raises(psycopg.Error) as e:
            rpc(w.conn, "queue_job", args, claims=w.attacker_claims, body=body)
        assert e.value.sqlstate == "22023" and why in str(e.value)


def test_a_body_nested_30000_deep_fails_in_postgresqls_json_parser_before_any_package_code(
    w: W, unchanged,
) -> None:
    """PostgREST passes the request body to PostgreSQL as one json parameter; PostgreSQL's
    recursive JSON parser (PostgreSQL 15, max_stack_depth 2 MB) runs out of stack (objects
    between 12,000 and 14,000 levels, arrays between 14,000 and 16,000) and raises 54001 while
    reading that parameter: no function of the package has started (no PL/pgSQL context), and
    PostgREST answers 500 (class 54). Arrays 12,000 deep still reach queue_job, which refuses
    them (22023). README: Limits."""
    args = {"job_type": None, "prompt": None, "metadata": None}

    def body(depth: int) -> str:
        deep = "[" * depth + "]" * depth
        return f'{{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {{"a": {deep}}}}}'

    with pytest.raises(psycopg.Error) as e:
        rpc(w.conn, "queue_job", args, claims=w.attacker_claims, body=body(30_000))
    assert e.value.sqlstate == "54001"
    context = e.value.diag.context or ""
    assert "parameter $1" in context and "PL/pgSQL" not in context, context
    with pytest.raises(psycopg.Error) as e:
        rpc(w.conn, "queue_job", args, claims=w.attacker_claims, body=body(12_000))
    assert e.value.sqlstate == "22023" and "jobs_api.queue_job" in (e.value.diag.context or "")
