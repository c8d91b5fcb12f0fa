"""`jobsdb history forget DEST`: deleted users' rows out of every exported Parquet file of DEST
(a directory or s3://bucket/prefix), so that deleting a user deletes their cold history too.

Who was deleted: jobs_private.forgotten_users, filled by a trigger on auth.users. Every run
checks every file of DEST against every deleted user (DuckDB reads only the user_id column, and
skips row groups by their statistics), not only against the users DEST has not applied yet: an
export whose snapshot predates a deletion can bring the user's rows into DEST after a run
recorded the user as applied there, and the next run must still find them.

A file holding any of them is rewritten without their rows (DuckDB COPY into a pending file)
and verified before it replaces the old one: the new file's row count and checksum must be the
manifest's minus those of the removed rows (the checksum is a sum over rows, so it subtracts),
its min/max id those of the kept rows. Then, in a directory: the new manifest is written under a
pending name, the Parquet file renamed over the old one, the manifest renamed over the old
manifest. A run killed anywhere leaves every file old-and-whole or new-and-whole; the next run
first finishes (or drops) what a killed one left pending. In a bucket the same order: the new
manifest under a pending key, the object replaced (one PUT: readers see the old object or the
new one), checked, the manifest replaced, the pending key deleted.

When every file of DEST is without every deleted user read at the start, the run records
(DEST, user) in jobs_private.forgotten_user_destinations. A second run rewrites nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from jobsdb import errors, history, history_store

PENDING = ".forget-new"  # suffix of a rewrite's pending files (never matched by *.parquet)
Log = Callable[[str], None]


@dataclasses.dataclass
class Outcome:
    destination: str
    users: int  # deleted users the database knows
    new_users: int  # of them, not yet applied to this destination
    files: int  # exported files in the destination
    rewritten: list[tuple[str, int]]  # (file, rows removed)


# ---- the database's side ---------------------------------------------------------------------


def destination_key(place: Path | history_store.S3Place) -> str:
    """How the database names a destination: an absolute directory, or s3://bucket/prefix/."""
    return str(place.resolve()) if isinstance(place, Path) else str(place)


def deleted_users(conn: psycopg.Connection[Any], key: str) -> tuple[list[str], int]:
    """Every deleted user's id, and how many of them the destination has not applied."""
    if conn.execute("select to_regclass('jobs_private.forgotten_users')").fetchone()[0] is None:
        raise errors.UserError(
            "this database has no jobs_private.forgotten_users: bring it to jobsdb 1.4.0 or"
            " later first (jobsdb migrate)", exit_code=errors.PENDING)
    ids = [str(r[0]) for r in conn.execute(
        "select user_id from jobs_private.forgotten_users order by user_id")]
    new, = conn.execute(
        "select count(*) from jobs_private.forgotten_users as f where not exists ("
        " select from jobs_private.forgotten_user_destinations as d"
        " where d.destination = %s and d.user_id = f.user_id)", (key,)).fetchone()
    return ids, new


def was_deleted(url: str, user_id: str) -> bool:
    """Whether the user is among the deleted (False on a database older than 1.4.0)."""
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('jobs_private.forgotten_users')"
                        ).fetchone()[0] is None:
            return False
        return bool(conn.execute(
            "select exists (select from jobs_private.forgotten_users where user_id::text = %s)",
            (user_id.strip().lower(),)).fetchone()[0])


def record_applied(conn: psycopg.Connection[Any], key: str, ids: list[str]) -> None:
    conn.execute(
        "insert into jobs_private.forgotten_user_destinations (destination, user_id)"
        " select %s, u from unnest(%s::uuid[]) as u on conflict do nothing", (key, ids))


# ---- one file --------------------------------------------------------------------------------


def _duck(ids: list[str]):
    duckdb = history.need_duckdb()
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    db.execute("SET enable_progress_bar = false")
    db.execute("CREATE TEMP TABLE gone AS"
               " SELECT DISTINCT CAST(unnest(CAST(? AS VARCHAR[])) AS UUID) AS user_id", [ids])
    return duckdb, db


def held_users(path: Path, ids: list[str]) -> list[str]:
    """The deleted users that have rows in the file (none for a file without user_id)."""
    if not ids:
        return []
    duckdb, db = _duck(ids)
    try:
        with db:
            names = [r[0] for r in db.execute(
                "SELECT name FROM parquet_schema(?)", [str(path)]).fetchall()]
            if "user_id" not in names:
                return []
            return [str(r[0]) for r in db.execute(
                "SELECT DISTINCT f.user_id FROM read_parquet(?) AS f"
                " WHERE f.user_id IN (SELECT user_id FROM gone) ORDER BY 1",
                [str(path)]).fetchall()]
    except duckdb.Error as e:
        raise history.VerifyError(f"{path}: DuckDB cannot read it:"
                                  f" {errors.one_line(str(e))[:300]}") from e


def _minus(a: str, b: str) -> str:
    x, y = (int(v) for v in a.split("-"))
    p, q = (int(v) for v in b.split("-"))
    return f"{x - p}-{y - q}"


def rewrite(path: Path, manifest: history.Manifest, users: list[str], out: Path
            ) -> tuple[history.Manifest, int]:
    """The file without the users' rows, at `out`, verified; its manifest and the rows
    removed. VerifyError when the new file is not the old one minus those rows."""
    cols = [history.column_for(c["name"], c["pg_type"]) for c in manifest.columns]
    keep = "WHERE user_id NOT IN (SELECT user_id FROM gone)"
    order = " ORDER BY user_id, id" if {"id", "user_id"} <= {c.name for c in cols} else ""
    src = history._lit(path)
    duckdb, db = _duck(users)
    try:
        with db:
            n, checksum, _lo, _hi = db.execute(history.fingerprint_query_duck(
                cols, f"read_parquet({src}) WHERE user_id IN (SELECT user_id FROM gone)"
            )).fetchone()  # type: ignore[misc]
            lo, hi = db.execute(
                f"SELECT min(CAST(id AS VARCHAR)), max(CAST(id AS VARCHAR))"
                f" FROM read_parquet({src}) {keep}").fetchone() \
                if history._has_id(cols) else (None, None)  # type: ignore[misc]
            db.execute(f"COPY (SELECT * FROM read_parquet({src}) {keep}{order})"
                       f" TO {history._lit(out)} (FORMAT parquet, COMPRESSION zstd,"
                       f" ROW_GROUP_SIZE {history.ROW_GROUP})")
    except duckdb.Error as e:
        raise history.VerifyError(f"{path}: DuckDB could not rewrite it:"
                                  f" {errors.one_line(str(e))[:300]}") from e
    want = history.Fingerprint(manifest.rows - n, _minus(manifest.checksum, checksum), lo, hi)
    history.compare(want, history.fingerprint_parquet(out, cols), f"the rewritten {path.name}")
    new = dataclasses.replace(manifest, rows=want.rows, checksum=want.checksum, min_id=lo,
                              max_id=hi, bytes=out.stat().st_size, sha256=history.sha256_of(out))
    return new, n


def _manifest(text: str) -> history.Manifest:
    return history.Manifest(**json.loads(text))


def _check_whole(path: Path, manifest: history.Manifest) -> None:
    """The old file is the one its manifest describes (the expected checksum comes from it)."""
    if history.sha256_of(path) != manifest.sha256:
        raise history.VerifyError(f"{path}: its bytes are not those of its manifest (jobsdb"
                                  " history verify says more); nothing of it was rewritten")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- a directory -----------------------------------------------------------------------------


def _pending(path: Path) -> tuple[Path, Path]:
    """A rewrite's pending Parquet file and manifest beside `path` (NAME.parquet)."""
    return (path.with_name(f".{path.name}{PENDING}"),
            path.with_name(f".{path.name}.json{PENDING}"))


def recover_dir(directory: Path, log: Log) -> None:
    """Finish or drop what a killed run left: a pending manifest beside a pending Parquet file
    means the swap had not begun (the old pair is whole: both dropped); a pending manifest
    alone means the new Parquet file is in place and its manifest must follow."""
    for mnew in sorted(directory.glob(f".*.parquet.json{PENDING}")):
        path = directory / mnew.name[1:-len(".json" + PENDING)]
        pnew, _ = _pending(path)
        if pnew.exists():
            pnew.unlink()
            mnew.unlink()
            log(f"{path.name}: a killed run's unfinished rewrite dropped (the file is whole)")
            continue
        m = _manifest(mnew.read_text())
        if not (path.is_file() and history.sha256_of(path) == m.sha256):
            raise history.VerifyError(
                f"{path}: a killed run left {mnew.name}, which does not describe the file; move"
                " it away and check the file with `jobsdb history verify`")
        os.replace(mnew, history.manifest_path(path))
        log(f"{path.name}: a killed run's rewrite finished (its manifest put in place)")
    for stray in directory.glob(f".*.parquet{PENDING}"):
        stray.unlink()  # a rewrite killed before its manifest was written
    for stray in directory.glob(f".*{PENDING}.part"):
        stray.unlink()


def _exported(directory: Path) -> list[Path]:
    files = sorted(directory.glob("*.parquet"))
    for p in files:
        if not history.manifest_path(p).is_file():
            raise errors.MissingFileError(
                f"no manifest {history.manifest_path(p).name} beside {p}: forget rewrites only"
                " files `jobsdb history export` wrote (it verifies each against its manifest)")
    return files


def rewrite_in_dir(path: Path, users: list[str], log: Log) -> int:
    mpath = history.manifest_path(path)
    old = _manifest(mpath.read_text())
    _check_whole(path, old)
    before = os.stat(path)
    pnew, mnew = _pending(path)
    part = mnew.with_name(mnew.name + ".part")
    swapped = False
    try:
        log(f"{path.name}: rewriting without {len(users)} deleted user(s)")
        new, removed = rewrite(path, old, users, pnew)
        part.write_text(new.to_json())
        _fsync(part)
        _fsync(pnew)
        os.replace(part, mnew)
        now = os.stat(path)
        if (now.st_ino, now.st_mtime_ns, now.st_size) != (
                before.st_ino, before.st_mtime_ns, before.st_size):
            raise history.VerifyError(f"{path}: replaced while it was being rewritten (an"
                                      " export?); run forget again")
        os.replace(pnew, path)
        swapped = True
        os.replace(mnew, mpath)
        _fsync(path.parent)
    finally:
        if not swapped:
            for p in (pnew, part, mnew):
                p.unlink(missing_ok=True)
    log(f"{path.name}: {removed} row(s) removed, verified ({new.rows} rows left)")
    return removed


def forget_dir(directory: Path, ids: list[str], log: Log) -> tuple[int, list[tuple[str, int]]]:
    if not directory.is_dir():
        raise errors.MissingFileError(f"no directory {directory} (where `jobsdb history export`"
                                      " wrote the files)")
    recover_dir(directory, log)
    files = _exported(directory)
    done = []
    for p in files:
        users = held_users(p, ids)
        if users:
            done.append((p.name, rewrite_in_dir(p, users, log)))
    return len(files), done


# ---- a bucket --------------------------------------------------------------------------------


def forget_s3(place: history_store.S3Place, ids: list[str], log: Log
              ) -> tuple[int, list[tuple[str, int]]]:
    """Each exported object downloaded, checked, rewritten here when it holds deleted users,
    and put back in the order the module's docstring gives."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as be

    history_store.check_bucket(place)
    s3 = history_store.client()
    done = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=place.bucket,
                                                              Prefix=place.prefix)
        keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
        for pkey in (k for k in keys if k.endswith(f".parquet.json{PENDING}")):
            _recover_object(s3, place.bucket, pkey, log)
        mkeys = [k for k in keys if k.endswith(".parquet.json")]
        with tempfile.TemporaryDirectory(prefix="jobsdb-forget-") as work:
            for mkey in mkeys:
                okey = mkey.removesuffix(".json")
                folder, _, name = okey.rpartition("/")
                local = Path(work) / name
                s3.download_file(place.bucket, mkey, str(history.manifest_path(local)))
                old = _manifest(history.manifest_path(local).read_text())
                s3.download_file(place.bucket, okey, str(local))
                users = held_users(local, ids)
                if users:
                    _check_whole(local, old)
                    log(f"s3://{place.bucket}/{okey}: rewriting without {len(users)} deleted"
                        " user(s)")
                    pnew = Path(work) / "new" / name
                    pnew.parent.mkdir(exist_ok=True)
                    new, removed = rewrite(local, old, users, pnew)
                    mnew = history.manifest_path(pnew)
                    mnew.write_text(new.to_json())
                    s3.put_object(Bucket=place.bucket, Key=mkey + PENDING,
                                  Body=new.to_json().encode(), ContentType="application/json")
                    here = history_store.S3Place(place.bucket, folder + "/" if folder else "")
                    history_store.upload(pnew, mnew, here, new.sha256, log)
                    s3.delete_object(Bucket=place.bucket, Key=mkey + PENDING)
                    log(f"s3://{place.bucket}/{okey}: {removed} row(s) removed, verified"
                        f" ({new.rows} rows left)")
                    done.append((okey, removed))
                    pnew.unlink()
                local.unlink()
    except (be.BotoCoreError, be.ClientError, S3UploadFailedError) as e:
        raise history_store.storage_error(e, place) from e
    return len(mkeys), done


def _recover_object(s3, bucket: str, pkey: str, log: Log) -> None:
    """A killed run's pending manifest: put in place if the object is already the new one (its
    sha256 metadata says so), else dropped (the object and its manifest are the old pair)."""
    mkey = pkey.removesuffix(PENDING)
    okey = mkey.removesuffix(".json")
    m = _manifest(s3.get_object(Bucket=bucket, Key=pkey)["Body"].read().decode())
    head = s3.head_object(Bucket=bucket, Key=okey)
    if head.get("Metadata", {}).get("sha256") == m.sha256 and head["ContentLength"] == m.bytes:
        s3.put_object(Bucket=bucket, Key=mkey, Body=m.to_json().encode(),
                      ContentType="application/json")
        log(f"s3://{bucket}/{okey}: a killed run's rewrite finished (its manifest put in place)")
    else:
        log(f"s3://{bucket}/{okey}: a killed run's unfinished rewrite dropped (the object is"
            " whole)")
    s3.delete_object(Bucket=bucket, Key=pkey)


# ---- the command -----------------------------------------------------------------------------


def lock_key(place: Path | history_store.S3Place) -> str:
    """What forget and export serialize on: the directory, or the whole bucket (a run over
    s3://b/jobs and an export to s3://b/jobs/2026-12 see the same objects)."""
    return str(place.resolve()) if isinstance(place, Path) else f"s3://{place.bucket}"


@contextlib.contextmanager
def destination_lock(url: str, place: Path | history_store.S3Place, wait: bool
                     ) -> Iterator[psycopg.Connection[Any]]:
    """A session advisory lock on the destination, for the connection's life: forget runs one
    at a time, and an export publishes its file only between them (see without_forgotten)."""
    with psycopg.connect(url, autocommit=True) as conn:
        args = (lock_key(place),)
        if wait:
            conn.execute("select pg_advisory_lock(hashtext('jobsdb history'), hashtext(%s))",
                         args)
        elif not conn.execute("select pg_try_advisory_lock(hashtext('jobsdb history'),"
                              " hashtext(%s))", args).fetchone()[0]:
            raise errors.UserError(f"another `jobsdb history forget`, or an export, into"
                                   f" {lock_key(place)} is running: run forget again after it",
                                   exit_code=errors.FAILED)
        yield conn


def without_forgotten(conn: psycopg.Connection[Any], path: Path, manifest: history.Manifest,
                      log: Log) -> history.Manifest:
    """An export's verified file, just before it is published under the destination's lock:
    rows of users deleted after the export's snapshot (a deletion racing the export) removed
    the way forget removes them. A deletion committed later than this check is seen by the
    next forget run, which lists the destination after reading the deleted users (and cannot
    run while the file is being published)."""
    if conn.execute("select to_regclass('jobs_private.forgotten_users')").fetchone()[0] is None:
        return manifest
    users = held_users(path, [str(r[0]) for r in conn.execute(
        "select user_id from jobs_private.forgotten_users order by user_id")])
    if not users:
        return manifest
    log(f"{len(users)} user(s) deleted while the export ran: their rows leave the file")
    rewrite_in_dir(path, users, log)
    return _manifest(history.manifest_path(path).read_text())


def forget(url: str, dest: str, log: Log = lambda s: None) -> Outcome:
    """Every deleted user's rows out of every exported file of `dest`; then recorded."""
    place = history_store.parse(dest)
    key = destination_key(place)
    if isinstance(place, Path) and not place.is_dir():
        raise errors.MissingFileError(f"no directory {place} (where `jobsdb history export`"
                                      " wrote the files)")
    with destination_lock(url, place, wait=False) as conn:
        # the deleted users are read before the destination is listed: a file published after
        # the listing was checked by its export against at least these
        ids, new = deleted_users(conn, key)
        log(f"{len(ids)} deleted user(s), {new} not yet applied to {key}")
        if isinstance(place, Path):
            files, done = forget_dir(place, ids, log)
        else:
            files, done = forget_s3(place, ids, log)
        record_applied(conn, key, ids)
    return Outcome(key, len(ids), new, files, done)
