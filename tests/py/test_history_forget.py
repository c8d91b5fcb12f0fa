"""`jobsdb history forget`: deleting a user deletes their cold history too. A user deleted from
auth.users (as the Auth service deletes: its own role) is recorded by the trigger, whether or not
they still have jobs; forget rewrites exactly the exported files holding their rows, verified,
leaving every other user's rows as they were; a second run changes nothing; a real SIGKILL in
the middle leaves every file old-and-whole or new-and-whole and the next run finishes; the same
against a real S3 server (SeaweedFS); every mistake is one line with its exit code."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from test_cli_errors import JOBSDB, ROOT, jobsdb, one_error_line
from test_history_export import SEED, SHAPE, s3_server  # noqa: F401 - the fixture

from jobsdb import errors, history, history_forget, history_reads
from jobsdb.testdb import Template

# Two exports that split jobs as two partitions of it would: copies of users 1 and 2's first
# 150 jobs (before SHAPE walks them on), marked, go to one table and the rest to the other, so
# both users have rows in two files and the two files together are jobs.
LEGACY = """
insert into public.jobs
select (jsonb_populate_record(null::public.jobs, to_jsonb(j) || jsonb_build_object(
    'id', gen_random_uuid(), 'idempotency_key', null,
    'metadata', j.metadata || '{"copied": true}'))).*
from public.jobs as j
where j.user_id = any(%s) and (j.metadata ->> 'seed')::int <= 150
"""
PARTS = {"public.hist_current": "not", "public.hist_legacy": ""}


def _users(url: str) -> list[str]:
    with psycopg.connect(url) as c:
        return [str(r[0]) for r in c.execute(
            "select id from auth.users where email like 'hist%%' order by email")]


@pytest.fixture(scope="module")
def world_made(template_db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Users u1..u3 with 400 jobs each in hist_current, u1 and u2 with 150 more in
    hist_legacy, u4 with none; both tables (all of jobs between them) exported to DIR, and a
    third file holding only u3's jobs (a file forget must leave alone). Made once: each test
    gets a copy of the database and of the files (`world`)."""
    with template_db.clone() as url:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(SEED)
            u1, u2, u3 = _users(url)
            c.execute(LEGACY, ([u1, u2],))
            for q in SHAPE:
                c.execute(q)
            c.execute("insert into auth.users (id, aud, role, email, created_at, updated_at)"
                      " values (gen_random_uuid(), 'authenticated', 'authenticated',"
                      " 'nojobs@example.com', now(), now()) returning id")
            u4 = str(c.execute("select id from auth.users where email = 'nojobs@example.com'"
                               ).fetchone()[0])
            c.execute("insert into public.profiles (id) values (%s)", (u4,))
            for t, neg in PARTS.items():
                c.execute(f"create table {t} as select * from public.jobs"
                          f" where {neg} metadata ? 'copied'")
            parts = sorted(PARTS)
            c.execute("create table public.u3_jobs as select * from public.jobs"
                      " where user_id = %s", (u3,))
            sizes = [c.execute(f"select count(*) from {t}").fetchone()[0] for t in parts]
            assert 0 not in sizes and sum(sizes) == c.execute(
                "select count(*) from public.jobs").fetchone()[0]
        cold = tmp_path_factory.mktemp("world") / "cold"
        for t in [*parts, "public.u3_jobs"]:
            history.export_to_dir(url, t, cold)
        base = Template(str(conninfo_to_dict(url)["dbname"]), template_db.owner_url, url)
        yield {"base": base, "dir": cold, "users": [u1, u2, u3, u4], "parts": parts}


@pytest.fixture
def world(world_made: dict, tmp_path: Path) -> Iterator[dict]:
    """A copy of the made world: its database (cloned) and its exported files."""
    cold = tmp_path / "cold"
    shutil.copytree(world_made["dir"], cold)
    with world_made["base"].clone() as url:
        yield {**world_made, "url": url, "dir": cold}


def _delete_users(url: str, *ids: str) -> None:
    """As the Auth service deletes a user: its own role, which has no right in jobs_private."""
    with psycopg.connect(url) as c:
        c.execute("set local role supabase_auth_admin")
        c.execute("delete from auth.users where id = any(%s)", (list(ids),))


def _fingerprint(path: Path, users: list[str]) -> tuple:
    m = json.loads(history.manifest_path(path).read_text())
    cols = [history.column_for(c["name"], c["pg_type"]) for c in m["columns"]]
    src = (f"read_parquet({history._lit(path)}) WHERE CAST(user_id AS VARCHAR) IN"
           f" ({', '.join(repr(u) for u in users)})")
    with duckdb.connect() as db:
        db.execute("SET TimeZone = 'UTC'")
        return db.execute(history.fingerprint_query_duck(cols, src)).fetchone()


def _held(path: Path) -> set[str]:
    with duckdb.connect() as db:
        return {str(r[0]) for r in db.execute(
            "select distinct user_id from read_parquet(?)", [str(path)]).fetchall()}


def _state(d: Path) -> dict[str, tuple[str, str]]:
    return {p.name: (history.sha256_of(p), history.manifest_path(p).read_text())
            for p in sorted(d.glob("*.parquet"))}


def test_deleting_users_records_them_and_forget_rewrites_exactly_their_files(world) -> None:
    url, d, (u1, u2, u3, u4) = world["url"], world["dir"], world["users"]
    files = sorted(d.glob("*.parquet"))
    assert [p.name for p in files] == sorted(f"{t}.parquet" for t in
                                             [*world["parts"], "public.u3_jobs"])
    assert all(u1 in _held(p) for p in files if p.name != "public.u3_jobs.parquet")
    before = _state(d)
    others = {p.name: _fingerprint(p, [u2, u3]) for p in files}
    u3_file = d / "public.u3_jobs.parquet"
    u3_stat = os.stat(u3_file)

    with psycopg.connect(url) as c:
        held = {t: c.execute(f"select count(*) from {t} where user_id = %s", (u1,)
                             ).fetchone()[0] for t in world["parts"]}
        assert c.execute("select count(*) from public.jobs where user_id = %s", (u1,)
                         ).fetchone()[0] == sum(held.values())
    current, = (t for t in world["parts"] if not t.endswith("legacy"))
    assert held == {"public.hist_legacy": 150, current: 400}
    _delete_users(url, u1, u4)
    with psycopg.connect(url) as c:
        assert {str(r[0]) for r in c.execute(
            "select user_id from jobs_private.forgotten_users")} == {u1, u4}
        assert c.execute("select count(*) from public.jobs where user_id = %s",
                         (u1,)).fetchone()[0] == 0
        per_day_pg = c.execute(
            "select (created_at at time zone 'UTC')::date, status, count(*) from public.jobs"
            " group by 1, 2 order by 1, 2").fetchall()

    # before forget has run: the files still answer u1's jobs, unless the reader asks the
    # database (--url), which knows u1 was deleted
    r = jobsdb("history", "older-jobs", str(d), u1, "--limit", "3")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3, r.stderr
    r = jobsdb("history", "older-jobs", str(d), u1, "--url", url)
    assert r.returncode == 0 and r.stdout == "" and "was deleted" in r.stderr, r.stderr
    r = jobsdb("history", "older-jobs", str(d), u2, "--limit", "3", "--url", url)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3, r.stderr

    r = jobsdb("history", "forget", str(d), "--url", url)
    assert r.returncode == 0, r.stderr
    rewritten = sorted(ln.split(":")[0] for ln in r.stdout.splitlines()[:-1])
    assert rewritten == sorted(f"{t}.parquet" for t in world["parts"]), r.stdout
    assert r.stdout.splitlines()[-1].endswith(
        "3 files checked against 2 deleted users (2 new here), 2 rewritten")
    after = _state(d)
    assert after["public.u3_jobs.parquet"] == before["public.u3_jobs.parquet"]
    assert os.stat(u3_file).st_mtime_ns == u3_stat.st_mtime_ns  # not even touched
    for p in files:
        assert u1 not in _held(p)
        assert _fingerprint(p, [u2, u3]) == others[p.name]  # every other row as it was
        v = jobsdb("history", "verify", str(p))
        assert v.returncode == 0, v.stderr
    for t in world["parts"]:  # the old manifest minus u1's rows
        old = json.loads(before[f"{t}.parquet"][1])
        new = json.loads(after[f"{t}.parquet"][1])
        assert new["rows"] == old["rows"] - held[t]
        assert new["exported_at"] == old["exported_at"] and new["sha256"] != old["sha256"]
    # the reads need no change: u1 is gone, u2 reads as in PostgreSQL
    assert history_reads.older_jobs(d, u1) == []
    with psycopg.connect(url) as c:
        want = [str(r[0]) for r in c.execute(
            "select id from public.jobs where user_id = %s order by created_at desc, id desc"
            " limit 50", (u2,))]
        applied = {str(r[0]) for r in c.execute(
            "select user_id from jobs_private.forgotten_user_destinations"
            " where destination = %s", (str(d.resolve()),))}
    assert [str(x["id"]) for x in history_reads.older_jobs(d, u2)] == want
    assert applied == {u1, u4}
    u3_file.unlink()  # per day over the partitions' files alone: PostgreSQL's answer
    history.manifest_path(u3_file).unlink()
    assert [(x["day"], x["status"], x["jobs"]) for x in history_reads.jobs_per_day(d)] == \
        per_day_pg

    # again: nothing to do, nothing changes
    again = _state(d)
    r = jobsdb("history", "forget", str(d), "--url", url)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"{d.resolve()}: 2 files checked against 2 deleted users (0 new here), 0 rewritten"]
    assert _state(d) == again
    assert not [p for p in d.iterdir() if p.name.startswith(".")], "pending files left"


def test_a_killed_run_leaves_every_file_whole_and_the_next_run_finishes(world) -> None:
    url, d, (u1, u2, u3, _) = world["url"], world["dir"], world["users"]
    # more files holding u1, so the kill lands with some rewritten and some not
    with psycopg.connect(url, autocommit=True) as c:
        for k in range(6):
            c.execute(f"create table public.copy{k} as select * from public.jobs")
    for k in range(6):
        history.export_to_dir(url, f"public.copy{k}", d)
    before = _state(d)
    others = {p.name: _fingerprint(p, [u2, u3]) for p in d.glob("*.parquet")}
    _delete_users(url, u1)

    proc = subprocess.Popen([*JOBSDB, "history", "forget", str(d), "--url", url], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if sum("rewriting" in ln for ln in seen) == 4:  # three done, the fourth under way
            proc.send_signal(signal.SIGKILL)
            break
    assert proc.wait(timeout=60) == -signal.SIGKILL, "".join(seen)

    new_whole = old_whole = 0
    for p in d.glob("*.parquet"):
        if history.sha256_of(p) == before[p.name][0]:
            old_whole += 1  # the old file, whole (its manifest may only be pending)
            history.verify_file(p, history.Manifest(**json.loads(before[p.name][1])))
        else:
            new_whole += 1  # the new file, whole: no u1, every other row as it was
            assert u1 not in _held(p) and _fingerprint(p, [u2, u3]) == others[p.name]
    assert new_whole >= 3 and old_whole >= 1, (new_whole, old_whole)

    r = jobsdb("history", "forget", str(d), "--url", url)
    assert r.returncode == 0, r.stderr
    for p in d.glob("*.parquet"):
        assert u1 not in _held(p) and _fingerprint(p, [u2, u3]) == others[p.name]
        history.verify_file(p)
    assert not [p for p in d.iterdir() if p.name.startswith(".")], "pending files left"


def test_a_kill_between_the_two_renames_is_finished_by_the_next_run(world) -> None:
    """The states a kill leaves inside one file's swap, made by hand: the new Parquet file in
    place and its manifest still pending; or both still pending (the old pair whole)."""
    url, d, (u1, *_) = world["url"], world["dir"], world["users"]
    _delete_users(url, u1)
    a, b = (d / f"{t}.parquet" for t in sorted(world["parts"], key=lambda t: "legacy" in t))
    for p in (a, b):
        old = history.Manifest(**json.loads(history.manifest_path(p).read_text()))
        pnew, mnew = history_forget._pending(p)
        new, _ = history_forget.rewrite(p, old, [u1], pnew)
        mnew.write_text(new.to_json())
    os.replace(history_forget._pending(a)[0], a)  # a: renamed; b: not yet
    with pytest.raises(history.VerifyError):
        history.verify_file(a)  # the old manifest beside the new file
    r = jobsdb("history", "forget", str(d), "--url", url)
    assert r.returncode == 0, r.stderr
    assert "rewrite finished" in r.stderr and "unfinished rewrite dropped" in r.stderr
    assert r.stdout.splitlines()[:-1] == [f"{b.name}: 150 rows of deleted users removed,"
                                          " verified"]
    for p in d.glob("*.parquet"):
        history.verify_file(p)
        assert u1 not in _held(p)
    assert not [p for p in d.iterdir() if p.name.startswith(".")]


def test_forget_in_a_bucket(world, s3_server, tmp_path: Path) -> None:  # noqa: F811
    url, d, (u1, u2, u3, _) = world["url"], world["dir"], world["users"]
    env = dict(s3_server)
    for t in world["parts"]:
        r = jobsdb("history", "export", t, "s3://history/forget/2026", "--url", url, env=env)
        assert r.returncode == 0, r.stderr
    others = {p.name: _fingerprint(p, [u2, u3]) for p in d.glob("*.parquet")}
    _delete_users(url, u1)
    r = jobsdb("history", "forget", "s3://history/forget", "--url", url, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].endswith("2 files checked against 1 deleted users"
                                              " (1 new here), 2 rewritten"), r.stdout
    back = tmp_path / "back"
    r = jobsdb("history", "fetch", "s3://history/forget", str(back), env=env)
    assert r.returncode == 0, r.stderr  # fetch verifies each file against its manifest
    for p in back.glob("*.parquet"):
        assert u1 not in _held(p) and _fingerprint(p, [u2, u3]) == others[p.name]
    # a killed run's pending manifest beside an object still old: dropped, then done again
    import boto3
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"],
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    key = f"forget/2026/{world['parts'][0]}.parquet.json"
    s3.put_object(Bucket="history", Key=key + history_forget.PENDING,
                  Body=s3.get_object(Bucket="history", Key=key)["Body"].read())
    r = jobsdb("history", "forget", "s3://history/forget", "--url", url, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].endswith("(0 new here), 0 rewritten"), r.stdout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="history",
                                                 Prefix="forget/")["Contents"]]
    assert not [k for k in keys if k.endswith(history_forget.PENDING)]


def test_bad_input_is_one_line_with_its_exit_code(world, tmp_path: Path) -> None:
    url, d, (u1, *_) = world["url"], world["dir"], world["users"]

    def forget(*args: str):
        return jobsdb("history", "forget", *args)

    for dest in ("ftp://host/x", "s3://", "s3://UPPER_case/x"):
        one_error_line(forget(dest, "--url", url), errors.USAGE)
    one_error_line(forget(str(tmp_path / "nope"), "--url", url), errors.MISSING_FILE)
    one_error_line(forget(str(d), "--url", "notaurl"), errors.BAD_URL)
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "x.parquet").write_bytes(b"PAR1")
    line = one_error_line(forget(str(stray), "--url", url), errors.MISSING_FILE)
    assert "no manifest" in line
    # a file holding a deleted user whose bytes are not its manifest's: refused, left alone
    _delete_users(url, u1)
    p = d / f"{world['parts'][0]}.parquet"
    mp = history.manifest_path(p)
    m = json.loads(mp.read_text())
    m["sha256"] = "0" * 64
    mp.write_text(json.dumps(m))
    sha = history.sha256_of(p)
    line = one_error_line(forget(str(d), "--url", url), errors.VERIFY)
    assert "nothing of it was rewritten" in line and history.sha256_of(p) == sha
    # a database older than 1.4.0 (no tombstones table)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("drop trigger jobsdb_forget_deleted_users_trg on auth.users")
        c.execute("drop table jobs_private.forgotten_users")
    line = one_error_line(forget(str(d), "--url", url), errors.PENDING)
    assert "jobsdb 1.4.0" in line


def test_api_roles_cannot_read_or_write_the_deleted_users(world) -> None:
    url, (u1, *_) = world["url"], world["users"]
    _delete_users(url, u1)
    for role in ("anon", "authenticated", "service_role"):
        with psycopg.connect(url) as c:
            c.execute(f"set local role {role}")
            c.execute("select set_config('request.jwt.claims', %s, true)",
                      (json.dumps({"sub": u1, "role": role}),))
            for q in ("select * from jobs_private.forgotten_users",
                      "delete from jobs_private.forgotten_users",
                      "select * from jobs_private.forgotten_user_destinations"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    c.execute(q)
                c.rollback()
                c.execute(f"set local role {role}")
    with psycopg.connect(url) as c:
        assert c.execute("select relrowsecurity from pg_class where oid ="
                         " 'jobs_private.forgotten_users'::regclass").fetchone()[0]


def test_with_no_deleted_user_nothing_is_touched(world) -> None:
    url, d = world["url"], world["dir"]
    before = _state(d)
    r = jobsdb("history", "forget", str(d), "--url", url)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("3 files checked against 0 deleted users (0 new here),"
                                     " 0 rewritten")
    assert _state(d) == before


def test_an_export_racing_a_deletion_does_not_bring_the_user_back(world, tmp_path: Path
                                                                  ) -> None:
    """The export's snapshot predates the deletion (it is reading while the user is deleted),
    so its rows hold the user; the file is published only under the destination's lock, after
    a check against the deleted users: it arrives without them. Made deterministic by holding
    the lock (as a forget run would) until the deletion has committed."""
    url, (u1, *_) = world["url"], world["users"]
    current, = (t for t in world["parts"] if not t.endswith("legacy"))
    dest = tmp_path / "raced"
    dest.mkdir()
    with psycopg.connect(url, autocommit=True) as lock:
        lock.execute("select pg_advisory_lock(hashtext('jobsdb history'), hashtext(%s))",
                     (str(dest.resolve()),))
        proc = subprocess.Popen([*JOBSDB, "history", "export", current, str(dest), "--url", url],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        for _ in range(600):  # until the export, its file written, waits for the lock
            if lock.execute("select count(*) from pg_stat_activity where wait_event = 'advisory'"
                            " and datname = current_database()").fetchone()[0]:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        else:
            pytest.fail("the export never waited for the destination's lock")
        work, = (p for p in dest.iterdir() if p.name.startswith(".jobsdb-export-"))
        written, = work.glob("*.parquet")
        assert u1 in _held(written)  # its snapshot saw u1's jobs
        _delete_users(url, u1)
        lock.execute("select pg_advisory_unlock_all()")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "deleted while the export ran" in err
    path = dest / f"{current}.parquet"
    assert out.strip().startswith(f"{current}: 800 rows") and u1 not in _held(path)
    history.verify_file(path)
    assert sorted(p.name for p in dest.iterdir()) == [path.name, path.name + ".json"]


def test_a_kill_after_an_object_was_replaced_is_finished_by_the_next_run(
    world, s3_server, tmp_path: Path  # noqa: F811
) -> None:
    """What a kill between the object's PUT and its manifest's leaves in a bucket, made by
    hand: the new object (with its sha256), the old manifest, the new one pending."""
    import boto3

    url, (u1, *_) = world["url"], world["users"]
    env = dict(s3_server)
    current, = (t for t in world["parts"] if not t.endswith("legacy"))
    r = jobsdb("history", "export", current, "s3://history/killed", "--url", url, env=env)
    assert r.returncode == 0, r.stderr
    _delete_users(url, u1)
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"],
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    okey = f"killed/{current}.parquet"
    old_file = tmp_path / f"{current}.parquet"
    s3.download_file("history", okey, str(old_file))
    old = history.Manifest(**json.loads(s3.get_object(Bucket="history", Key=okey + ".json")
                                        ["Body"].read()))
    new, removed = history_forget.rewrite(old_file, old, [u1], tmp_path / "new.parquet")
    assert removed == 400
    s3.put_object(Bucket="history", Key=okey + ".json" + history_forget.PENDING,
                  Body=new.to_json().encode())
    s3.upload_file(str(tmp_path / "new.parquet"), "history", okey,
                   ExtraArgs={"Metadata": {"sha256": new.sha256}})
    r = jobsdb("history", "fetch", "s3://history/killed", str(tmp_path / "before"), env=env)
    assert r.returncode == errors.VERIFY, r.stderr  # the old manifest beside the new object

    r = jobsdb("history", "forget", "s3://history/killed", "--url", url, env=env)
    assert r.returncode == 0, r.stderr
    assert "rewrite finished" in r.stderr and r.stdout.strip().endswith("0 rewritten")
    r = jobsdb("history", "fetch", "s3://history/killed", str(tmp_path / "after"), env=env)
    assert r.returncode == 0, r.stderr
    back = tmp_path / "after" / f"{current}.parquet"
    assert history.verify_file(back).sha256 == new.sha256 and u1 not in _held(back)
