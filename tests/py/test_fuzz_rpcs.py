"""Bad input never hurts: hypothesis fuzzing of every RPC a client, worker or admin can call.

Each RPC is called through `jobsdb.postgrest.rpc` exactly as PostgREST calls it (JSON body ->
json_to_record typed by the parameters -> named arguments, one transaction, role and JWT claims
set with set_config) with bodies made of: wrong types (strings for numbers, numbers for uuids,
objects for text), NULLs, huge (100k characters) and unicode strings, NUL (\\u0000), lone
surrogates, malformed JSON values (NaN, Infinity), deeply nested JSON (depth 1000-1400 in the
fuzzed bodies, 1500-2000 in the targeted cases), negative and huge numbers (2^31, 2^63, 1e308),
infinite and out-of-range timestamps and intervals, unknown job types, own / foreign / random
ids, stale and random lease tokens, missing and unknown keys.

Every call must either succeed or fail with a SQLSTATE that PostgREST maps to a 4xx status
(ALLOWED below: 22xxx, 23xxx, 42501, 42883 = unknown parameter/404, P0001, PT400..PT499); never
XX000, P0002, 55xxx, 53xxx, 54xxx, 57014 (the connection runs with authenticated's 8 s statement
timeout), 42P01 or anything else. A failed call must leave jobs, images_videos, videos, profiles
and user_roles exactly as they were (row counts and md5 checksums: audit.sql
`table_fingerprints`, taken before and after every call).

One test per RPC, each on its own fresh database (three users, jobs in every status, outputs),
nothing rolled back between examples: each rpc() commits or fails on its own.

Example counts: `test_rpc_survives_bad_input[<rpc>]` runs DEFAULT_EXAMPLES (30) examples per RPC
in the default run (`make test`); `test_rpc_survives_bad_input_full[<rpc>]`, marked `fuzz`
(`make fuzz` = `pytest -m fuzz`), runs FULL_EXAMPLES (1000) per RPC. The environment variable
JOBSDB_FUZZ_EXAMPLES overrides both counts (e.g. JOBSDB_FUZZ_EXAMPLES=200 pytest -m fuzz).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobsdb import queries
from jobsdb.postgrest import as_user, rpc

DEFAULT_EXAMPLES = 30
FULL_EXAMPLES = 1000
AUDIT = queries.load_file(Path(__file__).resolve().parents[1] / "queries" / "audit.sql")

# json.dumps of a body nested 2000 deep needs a deeper Python stack than the default 1000.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

USER_RPCS = [
    "queue_job",
    "cancel_job",
    "list_jobs",
    "get_job",
    "asset_info",
    "workspace_groups",
    "library_items",
    "job_changes_since",
]
# rescue_is_scheduled takes no argument: nothing to fuzz (test_hostile_users covers its callers)
WORKER_RPCS = [
    "claim_jobs", "heartbeat_jobs", "job_callback", "job_callbacks", "rescue_expired_jobs",
    "release_jobs",
]
ADMIN_RPCS = ["review_job", "retry_job", "purge_finished_jobs", "system_metrics"]
ALL_RPCS = USER_RPCS + WORKER_RPCS + ADMIN_RPCS


def examples(default: int) -> int:
    return int(os.environ.get("JOBSDB_FUZZ_EXAMPLES") or default)


def allowed(sqlstate: str | None) -> bool:
    """SQLSTATEs PostgREST answers with a 4xx status (SUPABASE.md's table)."""
    if not sqlstate:
        return False
    if sqlstate[:2] in ("22", "23"):  # data exceptions 400; 23505/23503 409, 23514 400
        return True
    if sqlstate in ("42501", "42883", "P0001"):  # 403/401, 404 (no such function/param), 400
        return True
    return sqlstate.startswith("PT") and sqlstate[2:].isdigit() and 400 <= int(sqlstate[2:]) <= 499


def test_allowed_catalogue() -> None:
    for ok in (
        "22023",
        "22P02",
        "22P05",
        "22003",
        "23505",
        "23514",
        "42501",
        "42883",
        "P0001",
        "PT404",
        "PT409",
        "PT429",
        "PT400",
    ):
        assert allowed(ok), ok
    for bad in (
        None,
        "",
        "XX000",
        "P0002",
        "55P03",
        "53200",
        "54001",
        "57014",
        "42P01",
        "PT500",
        "PT302",
        "25006",
        "21000",
        "40001",
        "42703",
        "0A000",
    ):
        assert not allowed(bad), bad


# ---- the world each fuzzed database starts from ----------------------------------------------


@dataclass
class World:
    user: str  # the caller of the user RPCs
    other: str  # another user (foreign ids)
    admin: str
    own_jobs: list[str] = field(default_factory=list)
    foreign_jobs: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # lease tokens of processing jobs
    processing: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    foreign_assets: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    idem_keys: list[str] = field(default_factory=list)

    def ids(self) -> list[str]:
        return (
            self.own_jobs
            + self.foreign_jobs
            + self.assets
            + self.foreign_assets
            + self.groups
            + self.projects
            + [self.user, self.other, self.admin]
        )


def _one(conn: psycopg.Connection, q: str, params: Any = None) -> Any:
    return conn.execute(q, params).fetchone()[0]


def seed(conn: psycopg.Connection) -> World:
    """Users, a project, and jobs in every status for two users, with outputs."""
    w = World(
        user=str(_one(conn, "select tests.create_user('fuzz_a@example.com')")),
        other=str(_one(conn, "select tests.create_user('fuzz_b@example.com')")),
        admin=str(_one(conn, "select tests.create_user('fuzz_admin@example.com', true)")),
    )
    w.projects.append(
        str(
            _one(
                conn,
                "insert into public.projects (user_id, name) values (%s, 'p') returning id",
                (w.user,),
            )
        )
    )
    for uid, jobs in ((w.user, w.own_jobs), (w.other, w.foreign_jobs)):
        for i, (jt, n) in enumerate(
            [
                ("sdxl_image_fast", 3),
                ("video_fast", 1),
                ("rv51_fast", 1),
                ("sdxl_image_high", 1),
                ("image_fast", 1),
                ("rv51_high", 2),
            ]
        ):
            key = f"k{i}-{uid[:8]}"
            r = rpc(
                conn,
                "queue_job",
                {"job_type": jt, "prompt": f"a cat {i}", "num_images": n, "idempotency_key": key},
                claims=as_user(uid),
            )
            jobs.extend(j["id"] for j in r["jobs"])
            w.groups.append(r["group_id"])
            w.idem_keys.append(key)
    # claim most of them; complete some with outputs, fail one for good, cancel one
    claimed = []
    for pool in ("sdxl", "wan", "rv51"):
        claimed += rpc(
            conn,
            "claim_jobs",
            {"worker_pool": pool, "worker_id": "seed-w", "max_jobs": 7},
            role="jobs_worker",
        )
    for n, c in enumerate(claimed):
        if n % 4 == 0:
            r = rpc(
                conn,
                "job_callback",
                {
                    "job_id": c["job_id"],
                    "status": "completed",
                    "lease_token": c["lease_token"],
                    "assets": [
                        {
                            "type": "video" if "video" in c["job_type"] else "image",
                            "url": f"{c['user_id']}/{c['job_id']}/0.png",
                            "thumbnail_url": f"{c['user_id']}/{c['job_id']}/t.png",
                            "metadata": {"seed": n},
                        },
                        f"{c['user_id']}/{c['job_id']}/1.png",
                    ],
                },
                role="jobs_worker",
            )
            (w.assets if c["user_id"] == w.user else w.foreign_assets).extend(r["asset_ids"])
        elif n % 4 == 1:
            rpc(
                conn,
                "job_callback",
                {
                    "job_id": c["job_id"],
                    "status": "failed",
                    "lease_token": c["lease_token"],
                    "retryable": False,
                    "error_message": "boom",
                },
                role="jobs_worker",
            )
        elif n % 4 == 2:
            rpc(conn, "cancel_job", {"job_id": c["job_id"]}, claims=as_user(c["user_id"]))
        else:
            w.processing.append(c["job_id"])
            w.tokens.append(c["lease_token"])
    return w


def fingerprint(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(AUDIT["table_fingerprints"]).fetchall()


# ---- hostile values --------------------------------------------------------------------------


def deep(depth: int, kind: str) -> Any:
    v: Any = "bottom"
    for _ in range(depth):
        v = [v] if kind == "list" else {"a": v}
    return v


SPECIAL_STRINGS = [
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "null",
    "NULL",
    "true",
    "{}",
    "[]",
    "{",
    '"',
    "'; drop table public.jobs; --",
    "') or true --",
    "%s%s%n",
    "\\",
    "$$",
    "\u202e\u0301",
    "🙂" * 10,
    "日本語",
    "infinity",
    "-infinity",
    "NaN",
    "epoch",
    "now",
    "294277-01-01",
    "4714-11-24 BC",
    "99999-12-31",
    "2026-02-30",
    "1 hour",
    "-1 day",
    "1000000000 years",
    "178000000 years",
    "1e308",
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "0x10",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "not-a-uuid",
    "{00000000-0000-0000-0000-000000000000}",
    "completed",
    "failed",
    "queued",
    "processing",
    "cancelled",
    "approved",
    "admin",
    "service_role",
    "sdxl",
    "wan",
    "rv51",
    "sdxl_image_fast",
    "video_fast",
    "unknown_type",
    "SDXL_IMAGE_FAST",
    "library",
    "workspace",
    "fast",
    "high",
    "{1,2}",
    "{{1},{2}}",
    '{"a":1}',
]
SPECIAL_NUMBERS = [
    0,
    1,
    -1,
    2,
    3,
    10,
    100,
    101,
    1000,
    10000,
    10001,
    86400,
    86401,
    100000,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    1e308,
    -1e308,
    0.5,
    -0.0,
    1e-308,
    float("nan"),
    float("inf"),
    float("-inf"),
]


def leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(SPECIAL_NUMBERS),
        st.integers(),
        st.floats(),
        st.sampled_from(SPECIAL_STRINGS),
        st.text(max_size=50),
        st.uuids().map(str),
    )


def huge_string() -> st.SearchStrategy[str]:
    return st.tuples(
        st.sampled_from(["x", "é", "🙂", "a\u0000", "/", " "]), st.integers(90_000, 110_000)
    ).map(lambda t: (t[0] * t[1])[: t[1]])


def junk(world: World) -> st.SearchStrategy[Any]:
    return st.one_of(
        leaf(),
        st.sampled_from(world.ids()),
        huge_string(),
        st.tuples(st.integers(1000, 1400), st.sampled_from(["list", "dict"])).map(
            lambda t: deep(*t)
        ),
        st.lists(leaf(), max_size=4),
        st.dictionaries(st.text(max_size=10), leaf(), max_size=4),
        st.lists(
            st.dictionaries(st.text(max_size=5), st.lists(leaf(), max_size=3), max_size=3),
            max_size=3,
        ),
    )


def typed(name: str, pgtype: str, world: World) -> st.SearchStrategy[Any]:
    """Mostly plausible values for a parameter (to reach deep into the function), often junk."""
    ids = world.ids()
    if pgtype == "uuid":
        good = st.one_of(st.sampled_from(ids), st.uuids().map(str))
    elif pgtype == "uuid[]":
        pool = st.one_of(st.sampled_from(ids + world.tokens), st.uuids().map(str), st.none())
        good = st.one_of(
            st.lists(pool, max_size=5),
            st.sampled_from([world.processing[:3]]),
            st.lists(st.uuids().map(str), min_size=1001, max_size=1002),
        )
        if name == "lease_tokens":
            good = st.one_of(good, st.just(world.tokens[:3]))
    elif pgtype in ("integer", "smallint", "bigint"):
        good = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(-5, 300))
    elif pgtype == "boolean":
        good = st.one_of(st.booleans(), st.sampled_from(["yes", "no", "t", "maybe", 1, 0]))
    elif pgtype == "timestamp with time zone":
        good = st.one_of(
            st.sampled_from(
                [
                    "infinity",
                    "-infinity",
                    "2026-01-01T00:00:00Z",
                    "1970-01-01",
                    "294277-01-01",
                    "4714-11-24 BC",
                    "2026-13-01",
                    "yesterday",
                    "2000-01-01 00:00:00+14:59",
                ]
            ),
            st.datetimes().map(lambda d: d.isoformat() + "Z"),
        )
    elif pgtype == "interval":
        good = st.sampled_from(
            [
                "1 hour",
                "1 minute",
                "59 seconds",
                "31 days",
                "32 days",
                "0",
                "-1 day",
                "1000000000 years",
                "178000000 years",
                "P1D",
                "PT1H",
                "1 mon",
                "@ 1 hour ago",
                "1e308 seconds",
                "infinity",
                3600,
            ]
        )
    elif pgtype == "jsonb" and name == "assets":
        asset = st.one_of(
            st.fixed_dictionaries(
                {"url": st.one_of(st.text(max_size=30), leaf())},
                optional={
                    "type": st.one_of(
                        st.sampled_from(["image", "video", "audio", "IMAGE"]), leaf()
                    ),
                    "thumbnail_url": st.one_of(st.text(max_size=30), leaf(), huge_string()),
                    "metadata": st.one_of(
                        st.dictionaries(
                            st.sampled_from(["user_id", "owner", "job_id", "seed", "x"]),
                            leaf(),
                            max_size=3,
                        ),
                        leaf(),
                    ),
                },
            ),
            st.text(max_size=30),
            leaf(),
            huge_string(),
        )
        good = st.one_of(
            st.lists(asset, max_size=4),
            st.lists(st.just("p.png"), min_size=101, max_size=102),
            leaf(),
        )
    elif pgtype == "jsonb":
        keys = st.sampled_from(
            [
                "prompt",
                "job_id",
                "image_index",
                "num_images",
                "user_id",
                "owner",
                "seed",
                "enhancement_time_ms",
                "quality_rating",
                "quality_improvement",
                "qwen_expansion_percentage",
                "enhancement_strategy",
                "original_prompt",
                "enhanced_prompt",
                "compel_weights",
                "negative_prompt",
            ]
        )
        good = st.one_of(
            st.dictionaries(keys, st.one_of(leaf(), st.sampled_from(ids)), max_size=5),
            st.dictionaries(keys, huge_string(), max_size=1),
            leaf(),
        )
    elif name == "job_type":
        good = st.sampled_from(
            [
                "sdxl_image_fast",
                "video_fast",
                "rv51_high",
                "nope",
                "",
                None,
                "image7b_fast_enhanced",
                "sdxl_image_fast\u0000",
            ]
        )
    elif name == "status":
        good = st.sampled_from(
            ["completed", "failed", "queued", "processing", "cancelled", "COMPLETED", "", None]
        )
    elif name == "worker_pool":
        good = st.sampled_from(["sdxl", "wan", "rv51", "nope", "", None])
    elif name == "moderation_status":
        good = st.sampled_from(["pending", "approved", "rejected", "flagged", "bad", "", None])
    elif name in ("worker_id",):
        good = st.one_of(
            st.sampled_from(["seed-w", "w1", "", "x" * 200, "x" * 201]), st.text(max_size=20)
        )
    elif name == "idempotency_key":
        good = st.one_of(
            st.sampled_from(world.idem_keys + ["x" * 200, "x" * 201, ""]), st.text(max_size=20)
        )
    elif name == "quality":
        good = st.sampled_from(["fast", "high", "medium", None])
    elif name == "destination":
        good = st.sampled_from(["library", "workspace", "moon", None])
    else:  # free text: prompt, error_message, review_notes, template_name
        good = st.one_of(st.text(max_size=100), st.sampled_from(["a cat", "x" * 10001]))
    return st.one_of(good, good, junk(world))


def valid(name: str, pgtype: str, world: World) -> st.SearchStrategy[Any]:
    """Well-typed, mostly in-range values: the base of a body that a mutation then breaks."""
    text = st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
    )
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "job_type": st.sampled_from(["sdxl_image_fast", "video_fast", "rv51_high", "image_high"]),
        "prompt": st.one_of(st.just("a cat"), text.map(lambda t: "p" + t)),
        "status": st.sampled_from(["completed", "failed"] * 3 + ["queued", "cancelled"]),
        "worker_pool": st.sampled_from(["sdxl", "wan", "rv51"]),
        "worker_id": st.sampled_from(["seed-w", "w2"]),
        "moderation_status": st.sampled_from(["pending", "approved", "rejected", "flagged"]),
        "quality": st.none(),  # derived from job_type; a mismatch is a 22023 mutation
        "api_model_id": st.none(),
        "run_after": st.none(),
        "project_id": st.one_of(st.none(), st.sampled_from(world.projects)),
        "destination": st.sampled_from(["library", "workspace"]),
        "idempotency_key": st.one_of(st.sampled_from(world.idem_keys), text.map(lambda t: "k" + t)),
        "num_images": st.integers(1, 4),
        "max_jobs": st.integers(1, 5),
        "max_rows": st.integers(-3, 300),
        "max_groups": st.integers(-3, 200),
        "batch_size": st.integers(1, 20),
        "lease_seconds": st.integers(10, 600),
        "priority": st.none(),  # admins only: setting it is a 42501 mutation for users
        "job_ids": st.just(world.processing[:3]),
        "lease_tokens": st.just(world.tokens[:3]),
        "older_than": st.sampled_from(["0", "1 second", "1 hour", "30 days"]),
        "time_window": st.sampled_from(["1 hour", "1 minute", "31 days", "1 day"]),
        "retryable": st.booleans(),
        "assets": st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    # the owners' folders (job_types.asset_path_prefix) and elsewhere
                    {"url": st.sampled_from([f"{world.user}/a.png", f"{world.other}/b.mp4",
                                             "o/a.png", "x", f"{world.user}/../x.png"])},
                    optional={
                        "type": st.sampled_from(["image", "video"]),
                        "thumbnail_url": st.sampled_from([f"{world.user}/t.png", "t.png"]),
                        "metadata": st.dictionaries(text, text, max_size=2),
                    },
                ),
                st.sampled_from([f"{world.user}/p.png", f"{world.other}/p.png", "o/p.png"]),
            ),
            max_size=3,
        ),
    }
    # job_callbacks: a list of job_callback bodies (its own shape and type checks are the
    # mutations' target: a report of another type, an unknown key, the same job twice)
    by_name["reports"] = st.lists(
        st.fixed_dictionaries(
            {
                "job_id": st.sampled_from(world.processing + world.ids()),
                "status": by_name["status"],
                "lease_token": st.sampled_from(world.tokens),
            },
            optional={
                "assets": by_name["assets"],
                "retryable": st.booleans(),
                "error_message": text,
                "metadata": st.dictionaries(text, text, max_size=2),
            },
        ),
        min_size=1,
        max_size=3,
    )
    if name in by_name:
        return by_name[name]
    if pgtype == "uuid":
        own = world.own_jobs + world.processing + world.assets + world.projects
        return st.one_of(st.sampled_from(own), st.sampled_from(world.ids()), st.uuids().map(str))
    if pgtype == "timestamp with time zone":
        return st.one_of(
            st.none(),
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
                lambda d: d.isoformat() + "Z"
            ),
        )
    if pgtype == "jsonb":
        return st.dictionaries(
            st.sampled_from(["seed", "negative_prompt", "enhancement_time_ms", "quality_rating"]),
            st.integers(0, 100),
            max_size=3,
        )
    return text


UNKNOWN_KEYS = ["user_id", "owner", "role", "status_x", "is_admin", "id", "sub"]


@st.composite
def bodies(draw: Any, sig: dict[str, tuple[str, bool]], world: World) -> dict:
    """A well-formed body (every required key, some optional ones), then: unchanged, one key
    broken, several keys broken, or replaced by a free-form hostile body with unknown keys."""
    mode = draw(st.sampled_from(["valid", "one", "one", "one", "many", "chaos"]))
    if mode == "chaos":
        keys = st.one_of(st.sampled_from(list(sig) or ["x"]), st.sampled_from(UNKNOWN_KEYS))
        return draw(st.dictionaries(keys, junk(world), max_size=4))
    body = {}
    for k, (t, has_default) in sig.items():
        if not has_default or k == "prompt" or draw(st.booleans()):
            body[k] = draw(valid(k, t, world))
    if mode == "one":
        k = draw(st.sampled_from(list(sig) * 4 + UNKNOWN_KEYS[:1]))
        if k in sig:
            body[k] = draw(typed(k, sig[k][0], world))
        else:
            body[k] = draw(junk(world))
    elif mode == "many":
        for k in list(sig):
            if draw(st.booleans()):
                body[k] = draw(typed(k, sig[k][0], world))
            elif k in body and draw(st.integers(0, 5)) == 0:
                del body[k]  # a missing required key: no such function (404)
    return body


def body_strategy(sig: dict[str, tuple[str, bool]], world: World) -> st.SearchStrategy[dict]:
    return bodies(sig, world)


def signature(conn: psycopg.Connection, name: str) -> dict[str, tuple[str, bool]]:
    row = conn.execute(
        "select array(select format_type(t, null) from unnest(proargtypes) as t),"
        " proargnames, pronargs, pronargdefaults"
        " from pg_proc where proname = %s and pronamespace = 'public'::regnamespace",
        (name,),
    ).fetchone()
    types, names, nargs, ndefaults = row
    pairs = enumerate(zip(names[:nargs], types, strict=True))  # names include OUT columns
    return {n: (t, i >= nargs - ndefaults) for i, (n, t) in pairs}


def caller(name: str, world: World) -> tuple[str, dict | None]:
    if name in WORKER_RPCS:
        return "jobs_worker", None
    if name in ADMIN_RPCS:
        return "authenticated", as_user(world.admin)
    return "authenticated", as_user(world.user)


# ---- the property ----------------------------------------------------------------------------


def check_call(conn: psycopg.Connection, name: str, body: dict, role: str, claims: Any) -> str:
    before = fingerprint(conn)
    try:
        rpc(conn, name, body, role=role, claims=claims)
    except psycopg.Error as e:
        shown = json.dumps(body, default=str)[:300]
        assert allowed(e.sqlstate), (
            f"{name}({shown}) as {role}: SQLSTATE {e.sqlstate} (not a 4xx code): {e}"[:2000]
        )
        assert not conn.closed and not conn.broken, f"{name}: connection lost: {e}"
        after = fingerprint(conn)
        assert after == before, f"{name}({shown}) failed with {e.sqlstate} but changed {after}"
        return e.sqlstate
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    return "ok"


def fuzz(template_db, name: str, n: int) -> None:
    with (
        template_db.clone() as url,
        psycopg.connect(url, autocommit=True, options="-c statement_timeout=8s") as conn,
    ):
        world = seed(conn)
        sig = signature(conn, name)
        role, claims = caller(name, world)
        claim_choices = [claims]
        if name in USER_RPCS:  # a signed-in user that has no profile / auth row
            claim_choices.append(as_user(uuid.uuid4()))

        @settings(
            max_examples=n,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
        )
        @given(body=body_strategy(sig, world), who=st.sampled_from(claim_choices))
        def run(body: dict, who: Any) -> None:
            outcomes.append(check_call(conn, name, body, role, who))

        outcomes: list[str] = []
        run()
        # hypothesis stops early when it has exhausted a strategy: the count is a guarantee
        assert len(outcomes) >= n, f"{name}: only {len(outcomes)} of {n} examples ran"
        tally = Counter(outcomes)
        print(
            f"fuzz {name}: {len(outcomes)} calls, "
            + ", ".join(f"{k} {v}" for k, v in tally.most_common())
        )


@pytest.mark.parametrize("name", ALL_RPCS)
def test_rpc_survives_bad_input(template_db, name: str) -> None:
    fuzz(template_db, name, examples(DEFAULT_EXAMPLES))


@pytest.mark.fuzz
@pytest.mark.parametrize("name", ALL_RPCS)
def test_rpc_survives_bad_input_full(template_db, name: str) -> None:
    fuzz(template_db, name, examples(FULL_EXAMPLES))


# ---- targeted cases the property must also cover ---------------------------------------------


@pytest.fixture(scope="module")
def world_conn(template_db):
    """One seeded database shared by the targeted cases below (each checks its own call)."""
    with (
        template_db.clone() as url,
        psycopg.connect(url, autocommit=True, options="-c statement_timeout=8s") as conn,
    ):
        yield conn, seed(conn)


SPECIFIC = [
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "a\u0000b"}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "x" * 100_000}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "metadata": deep(1500, "dict")}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "metadata": deep(1500, "list")}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "metadata": "not json {"}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "num_images": 2**31}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "num_images": 1e308}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "num_images": "three"}),
    ("queue_job", {"job_type": 12345, "prompt": "p"}),
    ("queue_job", {"job_type": "no_such_type", "prompt": "p"}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "project_id": 42}),
    ("queue_job", {"job_type": "sdxl_image_fast", "prompt": "p", "user_id": "x"}),
    ("cancel_job", {"job_id": 7}),
    ("cancel_job", {"job_id": None}),
    ("get_job", {"job_id": [1, 2]}),
    ("list_jobs", {"max_rows": 2**63}),
    ("claim_jobs", {"worker_pool": "sdxl", "worker_id": "w", "max_jobs": -(2**31) - 1}),
    ("claim_jobs", {"worker_pool": "sdxl", "worker_id": "w", "lease_seconds": 1e308}),
    ("heartbeat_jobs", {"worker_id": "w", "job_ids": "nope", "lease_tokens": []}),
    ("heartbeat_jobs", {"worker_id": "w", "job_ids": [[1]], "lease_tokens": [[1]]}),
    ("job_callback", {"job_id": "0", "status": "completed"}),
    (
        "job_callback",
        {"job_id": str(uuid.uuid4()), "status": "completed", "metadata": deep(2000, "dict")},
    ),
    ("job_callback", {"job_id": str(uuid.uuid4()), "status": "completed", "assets": "{not"}),
    ("job_callbacks", {"reports": "{not"}),
    ("job_callbacks", {"reports": [{"job_id": "0", "status": "completed"}]}),
    ("job_callbacks", {"reports": [{"job_id": str(uuid.uuid4()), "status": "completed",
                                    "metadata": deep(2000, "dict")}]}),
    ("job_callbacks", {"reports": [deep(1500, "list")]}),
    ("rescue_expired_jobs", {"max_jobs": 2**63}),
    ("system_metrics", {"time_window": "1e308 years"}),
    ("system_metrics", {"time_window": "infinity"}),
    ("purge_finished_jobs", {"older_than": "178000000 years"}),
    (
        "review_job",
        {"job_id": str(uuid.uuid4()), "moderation_status": "approved", "review_notes": "\u0000"},
    ),
    ("retry_job", {"job_id": 1e308}),
]


@pytest.mark.parametrize(
    "name,body", SPECIFIC, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SPECIFIC)]
)
def test_specific_hostile_bodies(world_conn, name, body) -> None:
    """Each succeeds, or fails with a 4xx SQLSTATE and changes nothing (deep JSON is valid)."""
    conn, world = world_conn
    role, claims = caller(name, world)
    check_call(conn, name, body, role, claims)


def test_worker_metadata_cannot_break_the_owners_reads(world_conn) -> None:
    """A completion report whose metadata overwrites the request keys (prompt, image_index,
    num_images, job_id) with junk must not turn the owner's later calls into errors."""
    conn, w = world_conn
    queued = rpc(
        conn,
        "queue_job",
        {"job_type": "rv51_fast", "prompt": "dog", "idempotency_key": "replay-me"},
        claims=as_user(w.user),
    )
    job_id = queued["jobs"][0]["id"]
    [c] = rpc(
        conn,
        "claim_jobs",
        {"worker_pool": "rv51", "worker_id": "w9", "max_jobs": 1},
        role="jobs_worker",
    )
    assert c["job_id"] == job_id
    r = rpc(
        conn,
        "job_callback",
        {
            "job_id": job_id,
            "status": "completed",
            "lease_token": c["lease_token"],
            "metadata": {
                "image_index": "junk",
                "num_images": {"x": 1},
                "prompt": [1],
                "job_id": "not-a-uuid",
            },
            "assets": [f"{w.user}/0.png"],
        },
        role="jobs_worker",
    )
    assert r["result"] == "completed"
    me = as_user(w.user)
    again = rpc(
        conn,
        "queue_job",
        {"job_type": "rv51_fast", "prompt": "dog", "idempotency_key": "replay-me"},
        claims=me,
    )
    assert again["deduplicated"] is True and again["group_id"] == queued["group_id"]
    assert rpc(conn, "get_job", {"job_id": job_id}, claims=me)["metadata"]["job_id"] == job_id
    for name in ("list_jobs", "workspace_groups", "library_items"):
        rpc(conn, name, {}, claims=me)


@pytest.mark.parametrize(
    "name,body",
    [
        ("queue_job", {"job_type": "rv51_fast", "prompt": "a\u0000b"}),
        ("queue_job", {"job_type": "rv51_fast", "prompt": "p", "metadata": {"k": "\u0000"}}),
        ("list_jobs", {"status": "\u0000"}),
        ("claim_jobs", {"worker_pool": "rv51", "worker_id": "w\u0000"}),
        (
            "review_job",
            {
                "job_id": str(uuid.uuid4()),
                "moderation_status": "approved",
                "review_notes": "\u0000",
            },
        ),
    ],
)
def test_nul_in_text_or_jsonb_is_22p05(world_conn, name, body) -> None:
    """Decision: a NUL (\\u0000) cannot be stored in text or jsonb; PostgreSQL refuses it while
    reading the body with 22P05 (untranslatable_character), which PostgREST answers with 400."""
    conn, world = world_conn
    role, claims = caller(name, world)
    with pytest.raises(psycopg.Error) as ei:
        rpc(conn, name, body, role=role, claims=claims)
    assert ei.value.sqlstate == "22P05"


def test_the_property_flags_a_500_class_error(world_conn) -> None:
    """Self-test: check_call fails on an internal error (so a passing fuzz run means something)."""
    conn, world = world_conn
    conn.execute(
        "create function public.fuzz_selftest_boom(x integer default 0) returns integer"
        " language plpgsql set search_path = '' as"
        " $$ begin raise exception using errcode = 'XX000', message = 'internal'; end $$"
    )
    try:
        with pytest.raises(AssertionError, match="XX000"):
            check_call(conn, "fuzz_selftest_boom", {"x": 1}, "postgres", None)
    finally:
        conn.execute("drop function public.fuzz_selftest_boom(integer)")
