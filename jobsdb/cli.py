"""`jobsdb` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jobsdb import embedded, worker_cli
from jobsdb.paths import repo_root


def _ensure_db(quiet: bool = True) -> None:
    """With no DATABASE_URL, make sure the embedded cluster runs (idempotent)."""
    if not os.environ.get("DATABASE_URL"):
        embedded.start(quiet=quiet)


def _mig_common(p: argparse.ArgumentParser, top: bool = False) -> None:
    # Sub-commands use SUPPRESS so `migrate --dir X status` and `migrate status --dir X` agree.
    d = None if top else argparse.SUPPRESS
    p.add_argument("--dir", type=Path, default=d, help="migrations directory")
    p.add_argument("--url", default=d, help="database URL (default: owner URL)")


def _up_opts(p: argparse.ArgumentParser, top: bool = False) -> None:
    d = None if top else argparse.SUPPRESS
    p.add_argument("--dry-run", action="store_true", default=False if top else d)
    p.add_argument("--allow-out-of-order", action="store_true", default=False if top else d)
    p.add_argument("--lock-timeout", default=d, help="per file (default 5s)")
    p.add_argument("--statement-timeout", default=d, help="per statement (default 5min)")
    p.add_argument("--wait", type=float, default=d, help="wait for the migration lock, s")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="jobsdb", description="jobsdb toolkit")
    sub = ap.add_subparsers(dest="cmd", required=True)

    db = sub.add_parser("db", help="embedded PostgreSQL cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])

    mig = sub.add_parser("migrate", help="apply / inspect migrations")
    _mig_common(mig, top=True)
    _up_opts(mig, top=True)
    msub = mig.add_subparsers(dest="mcmd")
    up = msub.add_parser("up", help="apply pending migrations (default)")
    _mig_common(up)
    _up_opts(up)
    st = msub.add_parser("status", help="exit 0 up to date, 1 pending, 2 changed/unknown")
    _mig_common(st)
    nw = msub.add_parser("new", help="create migrations/<timestamp>_NAME.sql")
    _mig_common(nw)
    nw.add_argument("name")
    rp = msub.add_parser("repair", help="mark a version applied/reverted without running it")
    _mig_common(rp)
    rp.add_argument("version")
    rp.add_argument("--status", required=True, choices=["applied", "reverted"])
    bl = msub.add_parser("baseline", help="record existing migrations as applied")
    _mig_common(bl)
    bl.add_argument("version", nargs="?")

    sc = sub.add_parser("schema", help="current-state tree")
    sc.add_argument("action", choices=["apply", "dump"])
    sc.add_argument("--url", default=None)

    t = sub.add_parser(
        "test", help="run pgTAP files",
        description="Run the pgTAP files on a fresh database built from migrations/ (embedded "
        "cluster or DATABASE_URL's server), or with --url on an existing Supabase database that "
        "already has the migrations and pgtap: one file at a time, each rolled back, nothing "
        "left behind. "
        "Exit codes with --url: 0 passed, 1 failed, 3 not a Supabase database, 4 migrations "
        "pending, 5 no pgtap, 6 a trace was left.",
    )
    t.add_argument("-j", "--jobs", type=int, default=2)
    t.add_argument("--url", default=None, help="an existing Supabase database to test in place")
    t.add_argument("--junit", default=None)
    t.add_argument("paths", nargs="*")

    sub.add_parser("lint", help="plpgsql_check over the built database")
    sub.add_parser("demo", help="show the package at work")
    worker_cli.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = repo_root()
    try:
        return _dispatch(args, root)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - turn known failures into one clear line
        from jobsdb.migrate import MigrateError
        from jobsdb.schema import SchemaError

        if isinstance(e, MigrateError | SchemaError | embedded.EmbeddedError):
            print(f"error: {e}", file=sys.stderr)
            return 2 if isinstance(e, MigrateError) else 1
        import psycopg

        if isinstance(e, psycopg.OperationalError):
            print(f"error: cannot connect to the database: {e}\n"
                  "hint: `jobsdb db start`, or set DATABASE_URL", file=sys.stderr)
            return 1
        raise


def _dispatch(args: argparse.Namespace, root: Path) -> int:
    if args.cmd in worker_cli.COMMANDS:
        return worker_cli.dispatch(args)
    if args.cmd == "db":
        if args.action == "start":
            print(embedded.start())
            return 0
        if args.action == "stop":
            embedded.stop()
            return 0
        if args.action == "status":
            return embedded.status()
        print(embedded.owner_url())
        return 0

    if args.cmd == "migrate":
        from jobsdb import migrate

        directory = args.dir or root / "migrations"
        cmd = args.mcmd or "up"
        if cmd == "new":
            print(migrate.new(directory, args.name))
            return 0
        if not args.url:
            _ensure_db()
        url = args.url or embedded.owner_url()
        if cmd == "up":
            migrate.up(
                url, directory, dry_run=args.dry_run, allow_out_of_order=args.allow_out_of_order,
                lock_timeout=args.lock_timeout, statement_timeout=args.statement_timeout,
                wait=args.wait,
            )
            return 0
        if cmd == "status":
            return migrate.status(url, directory)
        if cmd == "repair":
            migrate.repair(url, directory, args.version, args.status)
            return 0
        if cmd == "baseline":
            migrate.baseline(url, directory, args.version)
            return 0

    if args.cmd == "schema":
        from jobsdb import schema

        if not args.url:
            _ensure_db()
        url = args.url or embedded.owner_url()
        if args.action == "apply":
            schema.apply(url, root)
        else:
            sys.stdout.write(schema.dump(url))
        return 0

    if args.cmd == "test":
        from jobsdb import pgtap

        if args.url:
            from jobsdb import existing

            return existing.main(args.url, root, args.paths, junit=args.junit)
        _ensure_db()
        return pgtap.main(embedded.owner_url(), embedded.superuser_url(), root, args.paths,
                          jobs=args.jobs, junit=args.junit)

    if args.cmd == "lint":
        from jobsdb import lint

        _ensure_db()
        return lint.main(embedded.owner_url(), embedded.superuser_url(), root)

    if args.cmd == "demo":
        from jobsdb import demo

        _ensure_db()
        return demo.main()
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
