"""Every RPC answer and every job status broadcast has exactly the shape its TypeScript type in
app/client/types.ts says: the same keys (none missing, none extra) and values of the declared
types, in every state the package produces (each status, a reset, the nulls, refusals).

The shapes are not written here: app/tests/answer_shapes.mjs reads them from the TypeScript
types with TypeScript's own compiler. The answers are the database's, called over HTTP the way
supabase-js calls PostgREST (tests/py/app_stack.py: a login as authenticator, the JWT's role
and claims, named arguments, read-only GETs), and the broadcasts are the rows the package's
trigger wrote to realtime.messages. So a key renamed on either side fails here. Each union a
type declares (a status, a nullable value, a page's `next`) must also be met by some answer,
so a type cannot be wider than the answers either (columns typed by Supabase's generator keep
the column's nullability and are not counted).
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from app_stack import Stack, enable_realtime

from jobsdb import embedded
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT = ROOT / ".tools" / "node_modules" / "typescript"

# Union members no answer can meet, each with its reason; the test fails if one of them is met,
# or if another one is not.
NEVER_MET: set[tuple[str, str, str]] = set()


# Realtime's role is cluster-wide: dropped once this module's databases are gone (conftest).
pytestmark = pytest.mark.usefixtures("drop_realtime_role_after")


@pytest.fixture(scope="module")
def shapes() -> dict[str, Any]:
    if not TYPESCRIPT.exists():
        pytest.fail("TypeScript is not installed: run `make tools`")
    r = subprocess.run(["node", str(ROOT / "app" / "tests" / "answer_shapes.mjs"),
                        str(TYPESCRIPT)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# ---- checking a value against a shape --------------------------------------------------------


class Checker:
    def __init__(self) -> None:
        self.met: set[tuple[str, str, str]] = set()

    def check(self, fn: str, shape: dict[str, Any], value: Any) -> list[str]:
        errors: list[str] = []
        self._check(fn, "", shape, value, errors, count=True)
        return errors

    def _check(self, fn: str, path: str, s: dict[str, Any], v: Any, errors: list[str],
               count: bool) -> None:
        k = s["kind"]
        if k == "json":
            return
        if k == "union":
            for member in s["of"]:
                trial: list[str] = []
                self._check(fn, path, member, v, trial, count=False)
                if not trial:
                    if count:
                        self.met.add((fn, path or ".", _label(member)))
                        self._check(fn, path, member, v, errors, count=True)
                    return
            errors.append(f"{fn}{path}: {_short(v)} is none of "
                          f"{[_label(m) for m in s['of']]}")
            return
        ok = {
            "string": isinstance(v, str),
            "number": isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": isinstance(v, bool),
            "null": v is None,
            "literal": type(v) is type(s.get("value")) and v == s.get("value"),
            "array": isinstance(v, list),
            "object": isinstance(v, dict),
        }[k]
        if not ok:
            errors.append(f"{fn}{path}: {_short(v)} is not {_label(s)}")
            return
        if k == "array":
            for item in v:
                self._check(fn, f"{path}[]", s["items"], item, errors, count)
        elif k == "object":
            props = s["props"]
            for name, p in props.items():
                if name not in v:
                    if not p["optional"]:
                        errors.append(f"{fn}{path}: key {name!r} is missing")
                    continue
                self._check(fn, f"{path}.{name}", p["type"], v[name], errors,
                            count and not p.get("generated"))
            for name in v.keys() - props.keys():
                if "rest" in s:
                    self._check(fn, f"{path}.{name}", s["rest"], v[name], errors, False)
                else:
                    errors.append(f"{fn}{path}: key {name!r} is not in the type")


def _label(s: dict[str, Any]) -> str:
    if s["kind"] == "literal":
        return json.dumps(s["value"]).strip('"')
    return s["kind"]


def _short(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) < 80 else text[:77] + "..."


def unions(fn: str, s: dict[str, Any], path: str = "") -> Iterator[tuple[str, str, str]]:
    """Every (function, path, member) of the unions a type declares itself."""
    k = s["kind"]
    if k == "union":
        for m in s["of"]:
            yield fn, path or ".", _label(m)
            yield from unions(fn, m, path)
    elif k == "array":
        yield from unions(fn, s["items"], f"{path}[]")
    elif k == "object":
        for name, p in s["props"].items():
            if not p.get("generated"):
                yield from unions(fn, p["type"], f"{path}.{name}")


# ---- calling the functions as supabase-js does ----------------------------------------------


class Api:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.answers: list[tuple[str, Any]] = []
        self.errors: list[tuple[str, int, Any]] = []

    def call(self, fn: str, args: dict[str, Any], jwt: str | None, get: bool = False,
             expect: int = 200) -> Any:
        if get:
            query = urllib.parse.urlencode({k: v for k, v in args.items() if v is not None})
            req = urllib.request.Request(f"{self.stack.url}/rest/v1/rpc/{fn}?{query}")
        else:
            req = urllib.request.Request(f"{self.stack.url}/rest/v1/rpc/{fn}",
                                         data=json.dumps(args).encode(), method="POST",
                                         headers={"content-type": "application/json"})
        req.add_header("apikey", self.stack.anon_key)
        req.add_header("authorization", f"Bearer {jwt or self.stack.anon_key}")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status, body = res.status, json.loads(res.read())
        except urllib.error.HTTPError as e:
            status, body = e.code, json.loads(e.read())
        assert status == expect, (fn, args, status, body)
        if status == 200:
            self.answers.append((fn, body))
        else:
            self.errors.append((fn, status, body))
        return body


def test_every_answer_and_broadcast_has_exactly_its_typescript_shape(
    fresh_db: str, shapes: dict[str, Any]
) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    su_url = url_for_db(embedded.superuser_url() or "", dbname)
    enable_realtime(fresh_db, su_url)
    stack = Stack(fresh_db, su_url)
    try:
        api = run_scenario(stack, fresh_db)
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            broadcasts = [r[0] for r in conn.execute(
                "select payload from realtime.messages where event = 'job_status'"
                " order by inserted_at")]
    finally:
        stack.close()

    checker = Checker()
    problems: list[str] = []
    called = {fn for fn, _ in api.answers}
    assert called == set(shapes["functions"]), (
        "every function is called and checked", set(shapes["functions"]) ^ called)
    for fn, body in api.answers:
        problems += checker.check(fn, shapes["functions"][fn], body)
    assert len(broadcasts) >= 10
    for payload in broadcasts:
        problems += checker.check("broadcast", shapes["broadcast"], payload)
    assert len(api.errors) >= 6
    for fn, _status, body in api.errors:
        problems += checker.check(f"error of {fn}", shapes["error"], body)
    assert problems == [], "\n".join(problems)

    declared = {u for fn, s in shapes["functions"].items() for u in unions(fn, s)}
    declared |= set(unions("broadcast", shapes["broadcast"]))
    missing = declared - checker.met
    assert missing == NEVER_MET, (
        "every member of every union is met by an answer (NEVER_MET lists the exceptions);"
        "\nnot met: " + "\n  ".join(map(str, sorted(missing - NEVER_MET)))
        + "\nmet after all: " + "\n  ".join(map(str, sorted(NEVER_MET - missing))))


def run_scenario(stack: Stack, db: str) -> Api:
    """The package in every state, as users, an admin and a worker see it."""
    api = Api(stack)
    alice = stack.create_user("alice@example.com", "pw")
    bob = stack.create_user("bob@example.com", "pw")
    carol = stack.create_user("carol@example.com", "pw")
    admin_id = stack.create_user("admin@example.com", "pw", admin=True)
    a, b, c = (stack.user_jwt(u) for u in (alice, bob, carol))
    admin = stack.user_jwt(admin_id)
    worker = stack.sign({"role": "jobs_worker", "sub": "gpu-1"})

    def owner(statement: str, *params: Any) -> Any:
        """A write by the owner or the service role (not through an RPC)."""
        with psycopg.connect(db, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchone()[0] if cur.description else None

    def queue(jwt: str, job_type: str = "sdxl_image_fast", **more: Any) -> dict[str, Any]:
        return api.call("queue_job", {"job_type": job_type, "prompt": "a red fox", **more}, jwt)

    def claim(pool: str, n: int = 10) -> dict[str, str]:
        rows = api.call("claim_jobs", {"worker_pool": pool, "worker_id": "gpu-1",
                                       "max_jobs": n}, worker)
        return {r["job_id"]: r["lease_token"] for r in rows}

    def report(job_id: str, token: str, status: str, **more: Any) -> dict[str, Any]:
        return api.call("job_callback", {"job_id": job_id, "status": status,
                                         "lease_token": token, **more}, worker)

    def stale(job_id: str) -> None:
        assert report(job_id, str(uuid.uuid4()), "completed")["result"] == "stale"

    # queueing: a 1x3 set, other pools and types, an admin's job waiting for its run_after
    s3 = queue(a, num_images=3, idempotency_key="k1", destination="workspace")
    set_ids = [j["id"] for j in s3["jobs"]]
    video = queue(a, "video_fast")["jobs"][0]["id"]
    cancelled_queued = queue(a, "image_fast")["jobs"][0]["id"]
    doomed = queue(a, "sdxl_image_high", idempotency_key="k2")["jobs"][0]["id"]
    only_cancelled = queue(a, "image_high")["jobs"][0]["id"]
    queue(admin, priority=5, run_after="2100-01-01T00:00:00Z")
    start = api.call("job_changes_since", {"cursor": None}, a, get=True)
    assert start["reset"] is True
    api.call("get_job", {"job_id": set_ids[0]}, a, get=True)
    stale(set_ids[0])  # a report for a job still queued
    api.call("cancel_job", {"job_id": cancelled_queued}, a)
    api.call("cancel_job", {"job_id": only_cancelled}, a)

    # a worker at work: claims, heartbeats, every kind of report
    tokens = claim("sdxl")
    assert set(set_ids) | {doomed} <= set(tokens)
    queue(a, num_images=3, idempotency_key="k1")  # the same request again: processing
    api.call("heartbeat_jobs", {"worker_id": "gpu-1", "job_ids": set_ids,
                                "lease_tokens": [tokens[j] for j in set_ids]}, worker)
    api.call("get_job", {"job_id": set_ids[0]}, a, get=True)
    api.call("cancel_job", {"job_id": set_ids[2]}, a)
    api.call("heartbeat_jobs", {"worker_id": "gpu-1", "job_ids": set_ids,
                                "lease_tokens": [tokens[set_ids[0]], str(uuid.uuid4()),
                                                 tokens[set_ids[2]]]}, worker)
    stale(set_ids[0])  # another attempt's token, while processing
    report(set_ids[0], tokens[set_ids[0]], "completed", assets=[{
        "type": "image", "url": f"{alice}/{set_ids[0]}.png",
        "thumbnail_url": f"{alice}/{set_ids[0]}.thumb.png", "metadata": {"seed": 7}}],
        metadata={"enhanced_prompt": "a red fox, detailed"})
    report(set_ids[0], tokens[set_ids[0]], "completed", assets=[f"{alice}/{set_ids[0]}.png"])
    stale(set_ids[0])  # completed
    report(set_ids[2], tokens[set_ids[2]], "completed")
    report(str(uuid.uuid4()), str(uuid.uuid4()), "completed")
    report(set_ids[1], tokens[set_ids[1]], "failed", error_message="CUDA out of memory",
           retryable=True)
    report(doomed, tokens[doomed], "failed", error_message="the prompt cannot be rendered",
           retryable=False)
    report(doomed, tokens[doomed], "failed", error_message="the prompt cannot be rendered")
    stale(doomed)  # failed
    queue(a, "sdxl_image_high", idempotency_key="k2")  # again: failed
    vtoken = claim("wan")[video]
    report(video, vtoken, "completed", assets=[{"type": "video", "url": f"{alice}/{video}.mp4",
                                                "thumbnail_url": None}])
    # a service-role writer clears derived columns; the request repeated shows them null
    owner("update public.jobs set format = null, quality = null, model_type = null"
          " where id = %s", set_ids[2])
    queue(a, num_images=3, idempotency_key="k1")

    # batches of reports: every answer of job_callback, per element
    bobs = [j["id"] for j in queue(b, num_images=4)["jobs"]]
    btokens = claim("sdxl")
    api.call("job_callbacks", {"reports": [
        {"job_id": bobs[0], "status": "completed", "lease_token": btokens[bobs[0]],
         "assets": [f"{bob}/{bobs[0]}.png"]},
        {"job_id": bobs[1], "status": "failed", "lease_token": btokens[bobs[1]],
         "error_message": "no", "retryable": False},
        {"job_id": bobs[2], "status": "failed", "lease_token": btokens[bobs[2]],
         "error_message": "later", "retryable": True},
    ]}, worker)
    api.call("job_callbacks", {"reports": [
        {"job_id": bobs[0], "status": "completed", "lease_token": btokens[bobs[0]]},
        {"job_id": bobs[1], "status": "completed", "lease_token": str(uuid.uuid4())},
        {"job_id": str(uuid.uuid4()), "status": "completed", "lease_token": str(uuid.uuid4())},
        {"job_id": set_ids[2], "status": "completed", "lease_token": str(uuid.uuid4())},
        {"job_id": bobs[2], "status": "completed", "lease_token": str(uuid.uuid4())},
        {"job_id": bobs[3], "status": "completed", "lease_token": str(uuid.uuid4())},
    ]}, worker)

    # report and claim in one call, on pool rv51's own jobs: every answer, a job claimed or none
    def report_claim(job_id: str, token: str, status: str, **more: Any) -> list[dict[str, Any]]:
        return api.call("job_callback_and_claim", {
            "report": {"job_id": job_id, "status": status, "lease_token": token, **more},
            "worker_pool": "rv51", "worker_id": "gpu-1"}, worker)

    rv = [j["id"] for j in queue(b, "rv51_fast", num_images=4)["jobs"]]
    held = claim("rv51", 2)
    (j0, t0), (j1, t1) = sorted(held.items())
    (nxt,) = report_claim(j0, t0, "completed", assets=[f"{bob}/{j0}.png"])
    assert nxt["answer"]["result"] == "completed" and nxt["job_id"] in rv
    (last,) = report_claim(j0, t0, "completed")  # duplicate
    assert last["job_id"] in rv and last["job_id"] != nxt["job_id"]
    (none,) = report_claim(j1, t1, "failed", error_message="oom")  # requeued, in its backoff
    assert none["answer"]["result"] == "requeued" and none["job_id"] is None
    report_claim(nxt["job_id"], nxt["lease_token"], "failed", error_message="no",
                 retryable=False)
    report_claim(str(uuid.uuid4()), str(uuid.uuid4()), "completed")  # unknown_job
    report_claim(last["job_id"], str(uuid.uuid4()), "completed")  # stale, processing
    report_claim(j1, str(uuid.uuid4()), "completed")  # stale, queued
    report_claim(nxt["job_id"], str(uuid.uuid4()), "completed")  # stale, failed
    api.call("cancel_job", {"job_id": last["job_id"]}, b)
    report_claim(last["job_id"], last["lease_token"], "completed")  # ignored_cancelled

    # a stopping worker hands a job back until it has no attempt left; a lost lease, rescued
    released = queue(a, "sdxl_image_fast")["jobs"][0]["id"]
    for _ in range(8):
        t = claim("sdxl").get(released)
        if t is None:
            break
        api.call("release_jobs", {"worker_id": "gpu-1", "job_ids": [released],
                                  "lease_tokens": [t]}, worker)
        owner("update public.jobs set run_at = now() where id = %s and status = 'queued'",
              released)  # its backoff, over
    api.call("release_jobs", {"worker_id": "gpu-1", "job_ids": [released],
                              "lease_tokens": [str(uuid.uuid4())]}, worker)
    lost = queue(a, "sdxl_image_fast")["jobs"][0]["id"]
    assert lost in claim("sdxl")
    owner("update public.jobs set lease_expires_at = now() - interval '1 minute'"
          " where id = %s", lost)
    api.call("rescue_expired_jobs", {}, worker)
    api.call("rescue_is_scheduled", {}, worker)
    running = queue(a, "video_high")["jobs"][0]["id"]
    assert running in claim("wan")  # stays processing: the metrics' processing row

    # a job a service-role writer failed without a message; an admin retries both failed ones
    silent = queue(a, "sdxl_image_fast")["jobs"][0]["id"]
    assert silent in claim("sdxl")
    owner("update public.jobs set status = 'failed' where id = %s", silent)
    api.call("retry_job", {"job_id": doomed}, admin)
    api.call("retry_job", {"job_id": silent}, admin)
    retried = claim("sdxl")
    report(doomed, retried[doomed], "failed", error_message="again", retryable=False)

    # a job copied in by the service role: completed, no prompt, no image_index, no format
    copied = str(owner("insert into public.jobs (user_id, job_type, status, metadata)"
                       " values (%s, 'sdxl_image_fast', 'completed', '{}') returning id", alice))
    owner("update public.jobs set format = null, quality = null, model_type = null"
          " where id = %s", copied)
    owner("insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket,"
          " file_path, file_name) values (%s, %s, 0, 'image', 'sdxl_image_fast', %s,"
          " 'copy.png')", alice, copied, f"{alice}/copy.png")

    # admins: moderation and metrics
    for job, decision, notes in ((set_ids[0], "approved", "fine"), (video, "flagged", None),
                                 (bobs[0], "rejected", "no"), (copied, "pending", None)):
        api.call("review_job", {"job_id": job, "moderation_status": decision,
                                "review_notes": notes}, admin)
        api.call("get_job", {"job_id": job}, admin, get=True)
    api.call("system_metrics", {"time_window": "1 hour"}, admin, get=True)

    # every state through the users' reads
    for job in (set_ids + [video, cancelled_queued, doomed, silent, running, copied]):
        api.call("get_job", {"job_id": job}, a, get=True)
    api.call("get_job", {"job_id": bobs[0]}, a, get=True)  # someone else's: null
    for jwt in (a, b):
        api.call("list_jobs", {}, jwt, get=True)
        for status in ("queued", "processing", "completed", "failed", "cancelled"):
            api.call("list_jobs", {"status": status}, jwt, get=True)
    for job in (set_ids[0], video, copied):
        asset = api.call("get_job", {"job_id": job}, a, get=True)["assets"][0]["asset_id"]
        api.call("asset_info", {"asset_id": asset}, a, get=True)
    api.call("asset_info", {"asset_id": asset}, b, get=True)  # someone else's: null
    for jwt, args in ((a, {"max_rows": 1}), (c, {})):
        page = api.call("library_items", args, jwt, get=True)
        while page["next"]:
            page = api.call("library_items", {**args, **page["next"]}, jwt, get=True)
    for jwt, args in ((a, {"max_groups": 3}), (c, {})):
        page = api.call("workspace_groups", args, jwt, get=True)
        while page["next"]:
            page = api.call("workspace_groups", {**args, **page["next"]}, jwt, get=True)

    # the reconcile read: changes, removals (retention), and a reset after 500 changes
    changed = api.call("job_changes_since", {"cursor": start["cursor"]}, a, get=True)
    assert changed["reset"] is False and changed["changed"]
    assert api.call("purge_finished_jobs", {"older_than": "0 seconds"}, admin) > 0
    removed = api.call("job_changes_since", {"cursor": changed["cursor"]}, a, get=True)
    assert cancelled_queued in removed["removed"]
    owner("insert into public.jobs (user_id, job_type, metadata)"
          " select %s, 'sdxl_image_fast', '{}' from generate_series(1, 501)", alice)
    assert api.call("job_changes_since", {"cursor": removed["cursor"]}, a, get=True)["reset"]
    unindexed = owner("select id from public.jobs where user_id = %s"
                      " and not metadata ? 'image_index' and status = 'queued' limit 1", alice)
    api.call("cancel_job", {"job_id": str(unindexed)}, a)  # a broadcast without image_index

    # refusals: PostgREST's error body, with the status of the error tables
    api.call("job_changes_since", {"cursor": "yesterday"}, a, get=True, expect=400)
    api.call("cancel_job", {"job_id": str(uuid.uuid4())}, a, expect=404)
    api.call("cancel_job", {"job_id": set_ids[0]}, a, expect=409)
    api.call("retry_job", {"job_id": doomed}, a, expect=403)
    api.call("get_job", {"job_id": "not-a-uuid"}, a, get=True, expect=400)
    api.call("queue_job", {"job_type": "sdxl_image_fast", "prompt": "x"}, None, expect=401)
    api.call("queue_job", {"job_type": "nope", "prompt": "x"}, a, expect=400)
    return api
