"""The `jobsdb history` commands (cli.py calls register/dispatch): export a table to verified
Parquet, verify a file again, copy a bucket's files here, and read the cold history."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path

from jobsdb import errors

EPILOG = """\
destination: a local directory, or s3://bucket/prefix with boto3's environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3).
exit codes: 0 done; 2 bad command line or destination; 5 cannot connect; 6 bad --url;
7 a directory it may not write; 8 no such table, file or directory; 10 DuckDB or boto3
missing (pip install 'jobsdb[history]'); 16 the Parquet does not match the table (or its
manifest): nothing is left under the final name; 17 the object store refused or cannot be
reached; forget: 1 another forget of DEST is running, 13 the database is older than 1.4.0;
seal, retire: 11 the database refused (e.g. 55P03: no brief lock; 55000: rows of a table
whose key refuses deletes reference the jobs), 13 older than 1.8.0."""


def _timestamp(value: str) -> datetime.datetime:
    try:
        t = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a timestamp: give e.g. 2026-11-30T12:00:00+00:00") from None
    return t if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def _limit(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number from 1 to 10000")
    return int(value)


def _tries(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 100000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number from 1 to 100000")
    return int(value)


def register(sub) -> None:
    h = sub.add_parser(
        "history", help="finished history to Parquet (verified), and reading it back",
        description="export TABLE DEST: one table or partition to DEST/<schema.table>.parquet"
        " and its manifest (.parquet.json), proven equal to the table (row count, checksum,"
        " min/max id) before it gets its final name. verify FILE: check a file against its"
        " manifest again. fetch S3URL DIR: copy a bucket's exported files here, verified."
        " forget DEST: deleted users' rows out of every exported file of DEST."
        " older-jobs DIR USER_ID: a user's jobs, newest first. per-day DIR: jobs per day and"
        " status. seal: finished jobs out of the queue's partition into one of their own."
        " retire DEST: sealed partitions older than an age exported, then dropped.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    hs = h.add_subparsers(dest="hcmd", required=True)
    ex = hs.add_parser("export", help="one table or partition to verified Parquet",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("table", help="schema-qualified table or partition, e.g. public.jobs")
    ex.add_argument("dest", help="a directory, or s3://bucket/prefix")
    ex.add_argument("--url", default=None,
                    help="database URL (default: $DATABASE_URL, else the embedded database)")
    fg = hs.add_parser("forget", help="deleted users' rows out of every exported file of DEST",
                       description="Rewrite every exported Parquet file of DEST that holds"
                       " rows of a deleted user (jobs_private.forgotten_users) without them,"
                       " verified, and record that DEST applied them. Safe to run again, and"
                       " after a killed run.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    fg.add_argument("dest", help="a directory, or s3://bucket/prefix, as given to export")
    fg.add_argument("--url", default=None,
                    help="database URL (default: $DATABASE_URL, else the embedded database)")
    se = hs.add_parser("seal", help="finished jobs older than --older-than out of the hot leaf",
                       description="Move the finished jobs made more than --older-than ago"
                       " (up to the oldest unfinished job) out of jobs_private.jobs_hot, the"
                       " partition the queue works on, into a new partition of public.jobs"
                       " (the queue waits for one brief lock)."
                       " Run as the owner role. Safe to run again, and after a killed run.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    se.add_argument("--older-than", default="7d",
                    help="age of the newest job sealed: a number and d, h or m (default 7d)")
    se.add_argument("--lock-tries", type=_tries, default=200,
                    help="tries of each brief lock (default 200; the move's, three rounds)")
    se.add_argument("--url", default=None,
                    help="database URL (default: $DATABASE_URL, else the embedded database)")
    rt = hs.add_parser("retire", help="sealed partitions older than --older-than: to DEST, then"
                       " out of the database",
                       description="Each sealed partition of jobs (made by `history seal`) whose"
                       " newest job is older than --older-than: exported to DEST (verified),"
                       " the rows referencing its jobs handled as a delete of them would (outputs"
                       " keep their files, job_id set null), its removal recorded for"
                       " job_changes_since, then detached concurrently and dropped. Run as the"
                       " owner role. Safe to run again, and after a killed run.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rt.add_argument("dest", help="a directory, or s3://bucket/prefix")
    rt.add_argument("--older-than", default="90d",
                    help="age of the newest job retired: a number and d, h or m (default 90d)")
    rt.add_argument("--lock-tries", type=_tries, default=200,
                    help="tries of each brief lock (the detach's, the drop's), three rounds"
                    " (default 200)")
    rt.add_argument("--url", default=None,
                    help="database URL (default: $DATABASE_URL, else the embedded database)")
    ve = hs.add_parser("verify", help="a Parquet file against its manifest")
    ve.add_argument("file", type=Path)
    fe = hs.add_parser("fetch", help="copy the files under s3://bucket/prefix into DIR")
    fe.add_argument("source")
    fe.add_argument("dir", type=Path)
    ol = hs.add_parser("older-jobs", help="a user's jobs from the Parquet files, newest first")
    ol.add_argument("dir", type=Path)
    ol.add_argument("user_id")
    ol.add_argument("--limit", type=_limit, default=50)
    ol.add_argument("--before", type=_timestamp, default=None,
                    help="only jobs created before this (the last one shown: the next page)")
    ol.add_argument("--url", default=None,
                    help="also ask this database whether the user was deleted: a deleted user's"
                    " jobs are not shown, even before `history forget` has removed them")
    pd = hs.add_parser("per-day", help="jobs per day and status from the Parquet files")
    pd.add_argument("dir", type=Path)


def _log(s: str) -> None:
    print(f"jobsdb: {s}", file=sys.stderr)


def dispatch(args: argparse.Namespace, target: Callable[..., str]) -> int:
    from jobsdb import history, history_reads, history_store

    if args.hcmd == "export":
        history_store.parse(args.dest)  # a bad destination is refused before connecting
        where, m = history_store.export(target(args, changes=None), args.table, args.dest, _log)
        print(f"{m.table}: {m.rows} rows, checksum {m.checksum}, verified: {where}")
        return 0
    if args.hcmd == "forget":
        from jobsdb import history_forget

        history_store.parse(args.dest)  # a bad destination is refused before connecting
        o = history_forget.forget(target(args, changes=None), args.dest, _log)
        for name, removed in o.rewritten:
            print(f"{name}: {removed} rows of deleted users removed, verified")
        print(f"{o.destination}: {o.files} files checked against {o.users} deleted users"
              f" ({o.new_users} new here), {len(o.rewritten)} rewritten")
        return 0
    if args.hcmd == "seal":
        from jobsdb import history_seal

        older_than = history_seal.interval(args.older_than)  # refused before connecting
        print(history_seal.seal(target(args, changes=None), older_than, _log, args.lock_tries))
        return 0
    if args.hcmd == "retire":
        from jobsdb import history_retire, history_seal

        history_store.parse(args.dest)  # a bad destination is refused before connecting
        older_than = history_seal.interval(args.older_than)
        for line in history_retire.retire(target(args, changes=None), args.dest, older_than,
                                          _log, args.lock_tries):
            print(line)
        return 0
    if args.hcmd == "verify":
        if not args.file.is_file():
            raise errors.MissingFileError(f"no file {args.file}")
        m = history.verify_file(args.file)
        print(f"{args.file}: {m.rows} rows, checksum {m.checksum}: matches its manifest")
        return 0
    if args.hcmd == "fetch":
        place = history_store.parse(args.source)
        if isinstance(place, Path):
            raise errors.UsageError(f"{args.source!r} is not an s3://bucket/prefix URL")
        for p in history_store.download(place, args.dir, _log):
            print(p)
        return 0
    if args.hcmd == "older-jobs":
        rows = history_reads.older_jobs(args.dir, args.user_id, args.limit, args.before)
        if args.url and rows:
            from jobsdb import history_forget

            if history_forget.was_deleted(target(args, changes=None), args.user_id):
                _log(f"user {args.user_id} was deleted: their jobs are not shown (`jobsdb"
                     " history forget` removes them from the files)")
                rows = []
        for r in rows:
            print(json.dumps(r, default=str))
        return 0
    for r in history_reads.jobs_per_day(args.dir):
        print(f"{r['day']}\t{r['status']}\t{r['jobs']}")
    return 0
