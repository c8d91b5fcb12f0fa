"""The `jobsdb worker` and `jobsdb worker-login` commands (cli.py calls register/dispatch)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Any

import psycopg

COMMANDS = ("worker", "worker-login")

WORKER_EPILOG = textwrap.dedent("""\
    The callable gets one dict per job (job_id, job_type, worker_pool, user_id, prompt,
    metadata, format, quality, model_type, output_bucket, attempt, max_attempts,
    lease_expires_at) and returns {"assets": [...], "metadata": {...}} or a list of assets;
    it raises jobsdb.worker.JobFailed (retried while attempts remain) or
    jobsdb.worker.PermanentJobFailure (failed for good). Any other exception is retried.
    Each slot is a child process that imports the callable once.

    connection (--url, else $DATABASE_URL, else the embedded database):
      direct / session pooler (port 5432): LISTEN jobs_wake_<pool> for wake-ups, plus polling
      transaction pooler (port 6543 or --pooler transaction): polling only, no server-side
      prepared statements, no session state
      hosted Supabase: add sslmode=require; log in as a role made by `jobsdb worker-login`

    signals: SIGTERM/SIGINT stop claiming, let running jobs finish for --grace seconds, then
    hand the rest back with release_jobs (the attempt is not spent); a second signal stops at
    once (those jobs return when their leases expire).

    exit codes:
      0  stopped by a signal or --max-jobs; every held job was reported or released
      1  unexpected error in the worker itself
      2  bad option, or the job callable cannot be imported
      3  cannot connect to the database at start
      4  refused by the database (not a jobs_worker member, pool not allowed for this login,
         or the jobsdb functions are missing)
      5  stopped at once (second signal, or the database was unreachable while stopping):
         held jobs come back when their leases expire
    """)


def _positive_float(v: str) -> float:
    f = float(v)
    if f <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return f


def _positive_int(v: str) -> int:
    i = int(v)
    if i <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return i


def _target(v: str) -> str:
    module, sep, attr = v.partition(":")
    if not (module and sep and attr):
        raise argparse.ArgumentTypeError("expected module:function, e.g. mypkg.render:run")
    return v


def _lease(v: str) -> int:
    i = int(v)
    if not 10 <= i <= 86400:
        raise argparse.ArgumentTypeError("must be between 10 and 86400")
    return i


def register(sub: Any) -> None:
    """Add the worker commands to the `jobsdb` sub-command parser."""
    w = sub.add_parser(
        "worker", help="run jobs of one pool through a Python callable",
        description="Claim jobs of POOL and run each through TARGET (module:function), "
        "CONCURRENCY at a time, with background heartbeats and graceful shutdown.",
        epilog=WORKER_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    w.add_argument("pool", help="worker pool to claim from (e.g. sdxl, wan)")
    w.add_argument("target", type=_target, help="job callable as module:function, e.g. "
                   "jobsdb.examples:render (the current folder is importable)")
    w.add_argument("--url", help="database URL (default: $DATABASE_URL, else the embedded one)")
    w.add_argument("--worker-id", default="", help="name recorded as jobs.locked_by "
                   "(default: HOSTNAME-PID)")
    w.add_argument("-c", "--concurrency", type=_positive_int, default=1,
                   help="jobs run at once, one child process each (default 1)")
    w.add_argument("--job-timeout", type=_positive_float, default=3600.0, metavar="SECONDS",
                   help="stop a job after this long (its process is killed) and report a "
                   "retryable failure (default 3600)")
    w.add_argument("--lease-seconds", type=_lease, default=60, metavar="SECONDS",
                   help="lease asked for at claim and each heartbeat; the job type's maximum "
                   "may shorten it. A crashed worker's jobs return after it (default 60)")
    w.add_argument("--heartbeat", type=_positive_float, default=None, metavar="SECONDS",
                   help="heartbeat interval (default: lease / 3)")
    w.add_argument("--poll", type=_positive_float, default=5.0, metavar="SECONDS",
                   help="claim at least this often when idle; wake-ups come sooner when "
                   "LISTEN works (default 5)")
    w.add_argument("--grace", type=float, default=30.0, metavar="SECONDS",
                   help="after SIGTERM/SIGINT, how long running jobs may finish before they "
                   "are released (default 30)")
    w.add_argument("--pooler", choices=["auto", "direct", "session", "transaction"],
                   default="auto", help="connection path; auto: transaction when the port "
                   "is 6543, else direct/session (default auto)")
    w.add_argument("--rescue-every", type=_positive_float, default=60.0, metavar="SECONDS",
                   help="when pg_cron does not schedule rescue_expired_jobs, call it this "
                   "often (default 60)")
    w.add_argument("--max-jobs", type=_positive_int, default=None,
                   help="stop (exit 0) after this many jobs")
    w.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    w.add_argument("--role", default="jobs_worker",
                   help="role the calls run as (set local role); default jobs_worker")

    wl = sub.add_parser("worker-login", help="create, list and revoke worker login roles")
    wl.add_argument("--url", help="owner database URL (default: $DATABASE_URL, else embedded)")
    wls = wl.add_subparsers(dest="wlcmd", required=True)
    c = wls.add_parser("create", help="create a LOGIN member of jobs_worker; prints its "
                       "generated password once")
    c.add_argument("name", help="role name: lower-case letters, digits, _ (max 63)")
    c.add_argument("--pools", default=None,
                   help="comma-separated pools it may claim from (default: every pool)")
    c.add_argument("--comment", default=None, help="free text kept with the login")
    wls.add_parser("list", help="list worker logins with their pools")
    r = wls.add_parser("revoke", help="disable the login, end its sessions and drop it")
    r.add_argument("name")


def _url(explicit: str | None) -> str:
    from jobsdb import embedded

    if explicit:
        return explicit
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    embedded.start(quiet=True)
    return embedded.owner_url()


def dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "worker":
        from jobsdb import runner

        opts = runner.Options(
            url=_url(args.url), pool=args.pool, target=args.target, worker_id=args.worker_id,
            concurrency=args.concurrency, job_timeout=args.job_timeout,
            lease_seconds=args.lease_seconds, heartbeat=args.heartbeat, poll=args.poll,
            grace=args.grace, pooler=args.pooler, rescue_every=args.rescue_every,
            max_jobs=args.max_jobs, log_json=args.log_json, role=args.role,
        )
        return runner.run(opts)

    from jobsdb import worker_logins

    url = _url(args.url)
    try:
        if args.wlcmd == "create":
            pools = [p.strip() for p in args.pools.split(",")] if args.pools else None
            password = worker_logins.create(url, args.name, pools, args.comment)
            print(f"created worker login {args.name} "
                  f"(pools: {', '.join(pools) if pools else 'all'})")
            print(f"password (shown once, store it in your secret manager): {password}")
            return 0
        if args.wlcmd == "list":
            rows = worker_logins.list_logins(url)
            print(f"{'login':<32} {'pools':<24} created")
            for login, pools, created in rows:
                print(f"{login:<32} {','.join(pools) if pools else 'all':<24} {created or '-'}")
            return 0
        worker_logins.revoke(url, args.name)
        print(f"revoked worker login {args.name}")
        return 0
    except worker_logins.LoginError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except psycopg.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"error: {first}", file=sys.stderr)
        return 1
