"""`jobsdb` command line.

Every error a user can cause is one line on stderr (`error: what was wrong: what to do`) with
an exit code per kind (jobsdb/errors.py, docs/operators.md "Exit codes"); `--debug` (or
JOBSDB_DEBUG=1) shows the traceback instead. Read-only commands (`db status`, `db url`,
`migrate status`, `schema dump`, `doctor`) never start or change anything; a command that
changes a database names it first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jobsdb import __version__, embedded, errors, history_cli, urls, worker_cli
from jobsdb.migrate import DURATION_RE
from jobsdb.paths import checkout_root, migrations_dir, repo_root


class Parser(argparse.ArgumentParser):
    """argparse, with a bad command line as one line (UsageError) instead of usage + exit 2."""

    def error(self, message: str):  # type: ignore[override]
        raise errors.UsageError(f"{message} (see `{self.prog} --help`)")


def duration(value: str) -> str:
    """A PostgreSQL duration setting: 500ms, 5s, 2min, 1h, or a number of milliseconds."""
    if not DURATION_RE.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a PostgreSQL duration: use e.g. 500ms, 5s, 2min, 1h"
            " (a bare number is milliseconds)"
        )
    return value.strip()


def seconds(value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        v = -1.0
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds (e.g. 30)")
    return v


def _database_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    return urls.check(url, "DATABASE_URL") if url else None


def _ensure_db(quiet: bool = True) -> None:
    """With no DATABASE_URL, make sure the embedded cluster runs (idempotent)."""
    if not _database_url():
        embedded.start(quiet=quiet)


def _target(args: argparse.Namespace, *, changes: str | None) -> str:
    """The URL a command works on: --url, DATABASE_URL, else the embedded database (started only
    when the command changes something). `changes` names what it is about to do."""
    url = getattr(args, "url", None)
    if url:
        urls.check(url, "--url")
    elif changes:
        _ensure_db()
    else:
        _database_url()
        embedded.require_running()
    url = url or embedded.owner_url()
    if changes:
        where = "" if (getattr(args, "url", None) or os.environ.get("DATABASE_URL")) else (
            " (embedded)")
        print(f"jobsdb: {changes} {urls.describe(url)}{where}", file=sys.stderr)
    return url


def _mig_common(p: argparse.ArgumentParser, top: bool = False) -> None:
    # Sub-commands use SUPPRESS so `migrate --dir X status` and `migrate status --dir X` agree.
    d = None if top else argparse.SUPPRESS
    p.add_argument("--dir", type=Path, default=d, help="migrations directory")
    p.add_argument("--url", default=d, help="database URL (default: owner URL)")


def _up_opts(p: argparse.ArgumentParser, top: bool = False) -> None:
    d = None if top else argparse.SUPPRESS
    p.add_argument("--dry-run", action="store_true", default=False if top else d)
    p.add_argument("--allow-out-of-order", action="store_true", default=False if top else d)
    p.add_argument("--lock-timeout", type=duration, default=d,
                   help="per file, a PostgreSQL duration (default 5s; dry run 500ms)")
    p.add_argument("--statement-timeout", type=duration, default=d,
                   help="per statement (default 5min)")
    p.add_argument("--wait", type=seconds, default=d, help="wait for the migration lock, s")
    p.add_argument("--release", default=d,
                   help="without --dir: the release to bring jobsdb to (default: the newest)")


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="jobsdb", description="jobsdb toolkit")
    ap.add_argument("--version", action="version", version=f"jobsdb {__version__}")
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = ap.add_subparsers(dest="cmd", required=True)

    db = sub.add_parser(
        "db", help="embedded PostgreSQL cluster; `db scratch`: a database to try jobsdb in",
        description="start | stop | status | url: the embedded cluster. scratch [NAME]: create"
        " a database (on the embedded cluster, or DATABASE_URL's server) with the Supabase shim"
        " (the platform's roles, auth schema and grants) and print its URL.")
    db.add_argument("action", choices=["start", "stop", "status", "url", "scratch"])
    db.add_argument("name", nargs="?", help="scratch: the database's name (default: random)")

    mig = sub.add_parser(
        "migrate", help="bring jobsdb to its newest release / apply a migrations directory",
        description="Without --dir: jobsdb's own releases (install, upgrade, or --release for a"
        " way back), beside whatever else the migration history holds. With --dir: every file"
        " of that directory, as the Supabase CLI applies them.")
    _mig_common(mig, top=True)
    _up_opts(mig, top=True)
    msub = mig.add_subparsers(dest="mcmd")
    up = msub.add_parser("up", help="apply pending migrations (default)")
    _mig_common(up)
    _up_opts(up)
    st = msub.add_parser("status", help="exit 0 up to date, 1 pending, 2 changed/unknown")
    _mig_common(st)
    st.add_argument("--release", default=argparse.SUPPRESS,
                    help="without --dir: the release wanted (default: the newest)")
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

    rel = sub.add_parser(
        "release", help="jobsdb's release files (releases/): build, check, cut, new, show",
        description="build: write the newest release's files from the source. check: exit 1"
        " when any release file differs from what it must be. cut: freeze the newest release."
        " new X.Y.Z: start the next release. way-back X.Y.Z: a step file from the newest"
        " release back to X.Y.Z. show NAME: print a release file (1.0.0, or A--B for a step)."
        " See docs/operators.md, \"Making a release\".")
    rel.add_argument("action", choices=["build", "check", "cut", "new", "way-back", "show",
                                        "list"])
    rel.add_argument("version", nargs="?")

    ins = sub.add_parser(
        "install", help="write jobsdb into a project's supabase/migrations",
        description="Write jobsdb's release (or the upgrade from the release the directory has)"
        " as migration files later than every file there, for `supabase db push`. A second run"
        " writes nothing.")
    ins.add_argument("--into", type=Path, required=True, help="<project>/supabase/migrations")
    ins.add_argument("--release", default=None, help="default: the newest release")
    ins.add_argument("--link", action="store_true",
                     help="symbolic links to the toolkit's files instead of copies (jobsdb's"
                     " own repository)")

    sc = sub.add_parser("schema", help="current-state tree")
    sc.add_argument("action", choices=["apply", "dump"])
    sc.add_argument("--url", default=None)

    t = sub.add_parser(
        "test", help="run pgTAP files",
        description="Run the pgTAP files on a fresh database holding jobsdb's newest release "
        "(embedded cluster or DATABASE_URL's server), or with --url on an existing Supabase "
        "database that already holds that release and pgtap: one file at a time, each rolled "
        "back, nothing left behind; a file about a table that is the project's own is skipped. "
        "Exit codes with --url: 0 passed, 1 failed, 12 not a Supabase database, 13 not the "
        "newest release, 10 no pgtap, 14 a trace was left.",
    )
    t.add_argument("-j", "--jobs", type=_positive_int, default=2)
    t.add_argument("--url", default=None, help="an existing Supabase database to test in place")
    t.add_argument("--junit", default=None)
    t.add_argument("paths", nargs="*")

    _doctor_parser(sub)
    sub.add_parser("lint", help="plpgsql_check over the built database")
    lm = sub.add_parser("lint-migrations", help="squawk over the migrations after the baseline")
    lm.add_argument("--dir", type=Path, default=None, help="migrations directory")
    sub.add_parser("demo", help="show the package at work")
    worker_cli.register(sub)
    history_cli.register(sub)
    return ap


def _doctor_parser(sub) -> None:
    from jobsdb.doctor import Limits

    d = sub.add_parser(
        "doctor", help="check a live project, read-only (exit 0 healthy, 15 findings)",
        description="The DBA's check of a live project: installed release and pending upgrade,"
        " migrations, pg_cron schedules, Realtime broadcast, the metrics roll-up, expired leases,"
        " stuck jobs, queue age, failure rate, worker logins, the Security Advisor's lints on"
        " the package's objects, app tables referencing jobs and sealed history. Read-only;"
        " run it as a login granted jobs_doctor. One line per finding on stdout. Exit codes:"
        " 0 healthy, 15 findings, 7 the role lacks jobs_doctor, 5 cannot connect.",
    )
    d.add_argument("--url", default=None,
                   help="database URL (default: $DATABASE_URL, else the embedded database)")
    lim = Limits()
    for flag, default, what in (
        ("--lease-grace", lim.lease_grace, "how long an expired lease may wait for rescue"),
        ("--max-overrun", lim.max_overrun,
         "how far past its type's max_run_seconds a job may still be processing"),
        ("--max-queue-age", lim.max_queue_age,
         "how long a pool's oldest runnable queued job may wait"),
        ("--max-rollup-lag", lim.max_rollup_lag,
         "how far the system_metrics roll-up's newest minute may lag behind"),
    ):
        d.add_argument(flag, type=_threshold, default=default, metavar="DURATION",
                       help=f"{what} (default {default})")
    d.add_argument("--max-failure-rate", type=_percent, default=lim.max_failure_rate,
                   metavar="PERCENT", help="failed share of a job type's jobs finished in the"
                   f" last hour (default {lim.max_failure_rate})")
    d.add_argument("--min-finished", type=_positive_int, default=lim.min_finished, metavar="N",
                   help="jobs a type must have finished in the last hour before its failure"
                   f" rate counts (default {lim.min_finished})")
    d.add_argument("--max-sealed-partitions", type=_count, default=lim.max_sealed_partitions,
                   metavar="N", help="partitions of jobs besides the queue's, each of which the"
                   f" hot path's key checks pass through (default {lim.max_sealed_partitions})")
    d.add_argument("--exposed-schemas", default=lim.exposed_schemas, metavar="LIST",
                   help="schemas PostgREST exposes, comma-separated (default"
                   f" {lim.exposed_schemas!r})")


def _threshold(value: str) -> str:
    from jobsdb.doctor import threshold

    try:
        return threshold(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _percent(value: str) -> str:
    try:
        v = float(value)
    except ValueError:
        v = -1.0
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError(f"{value!r} is not a percentage (0 to 100, e.g. 25)")
    return value.strip()


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return int(value)


def _count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 0 or more")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv or os.environ.get("JOBSDB_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]  # accepted anywhere on the line
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args, repo_root())
    except KeyboardInterrupt:
        return errors.INTERRUPTED
    except Exception as e:  # noqa: BLE001 - every failure becomes one line (--debug: traceback)
        if debug:
            raise
        err = errors.classify(e)
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code


def _dispatch(args: argparse.Namespace, root: Path) -> int:
    if args.cmd in worker_cli.COMMANDS:
        return worker_cli.dispatch(args)
    if args.cmd == "history":
        return history_cli.dispatch(args, _target)
    if args.cmd == "db":
        if args.action == "start":
            print(embedded.start())
            return 0
        if args.action == "stop":
            embedded.stop()
            return 0
        if args.action == "status":
            return embedded.status()
        if args.action == "scratch":
            from jobsdb import scratch

            _ensure_db()
            print(scratch.create(args.name))
            return 0
        print(embedded.owner_url())
        return 0

    if args.cmd == "migrate" and not args.dir and (args.mcmd or "up") in ("up", "status"):
        return _package_migrate(args)

    if args.cmd == "migrate":
        from jobsdb import migrate

        directory = args.dir or migrations_dir()
        cmd = args.mcmd or "up"
        if cmd == "up" and args.release:
            raise errors.UsageError("--release goes without --dir: it names a jobsdb release")
        if cmd == "new":
            _refuse_history_after_the_cut(args.dir, root)
            print(migrate.new(directory, args.name))
            return 0
        if not directory.is_dir():
            raise errors.MissingFileError(
                f"migrations directory {directory} does not exist: pass --dir DIR, or run from"
                " a checkout of jobsdb")
        if cmd == "repair" and not migrate.VERSION_RE.match(args.version):
            raise errors.UsageError(
                f"{args.version!r} is not a migration version: give the 14-digit timestamp a"
                " file name starts with (see `jobsdb migrate status`)")
        dry = cmd == "up" and args.dry_run
        doing = {"up": "dry run (rolled back) on" if dry else "migrating",
                 "repair": "repairing the migration history of",
                 "baseline": "baselining the migration history of"}.get(cmd)
        url = _target(args, changes=doing)
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

    if args.cmd == "release":
        return _release(args, root)

    if args.cmd == "install":
        from jobsdb import project

        project.install(args.into, target=_release_arg(args.release), link=args.link)
        return 0

    if args.cmd == "schema":
        from jobsdb import schema

        url = _target(args, changes="applying the current-state tree to"
                      if args.action == "apply" else None)
        if args.action == "apply":
            schema.apply(url, root)
        else:
            sys.stdout.write(schema.dump(url))
        return 0

    if args.cmd == "test":
        for p in args.paths:
            if not Path(p).exists():
                raise errors.MissingFileError(
                    f"no such test file or directory: {p} (pgTAP files are under tests/pgtap/)")
        if not args.paths and checkout_root() is None:
            raise errors.MissingFileError(
                "no tests/pgtap/ here: run `jobsdb test` in a checkout of jobsdb, or name files")
        pgtap = _dev_module("pgtap")
        if args.url:
            from jobsdb import existing

            return existing.main(urls.check(args.url, "--url"), root, args.paths, junit=args.junit)
        _ensure_db()
        _name_server("creating throw-away test databases beside")
        return pgtap.main(embedded.owner_url(), embedded.superuser_url(), root, args.paths,
                          jobs=args.jobs, junit=args.junit)

    if args.cmd == "doctor":
        from jobsdb import doctor

        limits = doctor.Limits(
            lease_grace=args.lease_grace, max_overrun=args.max_overrun,
            max_queue_age=args.max_queue_age, max_failure_rate=args.max_failure_rate,
            min_finished=str(args.min_finished), max_rollup_lag=args.max_rollup_lag,
            max_sealed_partitions=str(args.max_sealed_partitions),
            exposed_schemas=args.exposed_schemas,
        )
        return doctor.main(_target(args, changes=None), limits)

    if args.cmd == "lint":
        lint = _dev_module("lint")
        _ensure_db()
        _name_server("creating a throw-away database to lint beside")
        return lint.main(embedded.owner_url(), embedded.superuser_url(), root)

    if args.cmd == "lint-migrations":
        from jobsdb import squawk

        return squawk.main(root, args.dir or migrations_dir())

    if args.cmd == "demo":
        from jobsdb import demo

        _ensure_db()
        return demo.main()
    raise AssertionError(args.cmd)


def _refuse_history_after_the_cut(directory: Path | None, root: Path) -> None:
    """`migrate new` in a checkout writes into migrations/, the history before 1.0.0: once a
    release is cut, a schema change is a release step instead."""
    if directory is not None or checkout_root() is None:
        return
    from jobsdb import release_build

    tree = release_build.load_tree(root)
    if tree.steps and release_build.read_sums(tree):
        raise errors.UsageError(
            "migrations/ is the history before 1.0.0 and a release is cut: a schema change is"
            " a step of the next release (`jobsdb release new X.Y.Z`, docs/operators.md); for"
            " a project's own migration pass --dir")


def _release_arg(value: str | None) -> str | None:
    from jobsdb import releases

    if value is not None and (value == releases.PRE or not releases.is_version(value)):
        raise errors.UsageError(f"--release {value!r} is not a release: give e.g. 1.0.0")
    return value


def _package_migrate(args: argparse.Namespace) -> int:
    from jobsdb import package_migrate

    target = _release_arg(args.release)
    if (args.mcmd or "up") == "status":
        return package_migrate.status(_target(args, changes=None), target=target)
    doing = "dry run (rolled back) on" if args.dry_run else "migrating"
    package_migrate.up(_target(args, changes=doing), target=target, dry_run=args.dry_run,
                       lock_timeout=args.lock_timeout, statement_timeout=args.statement_timeout,
                       wait=args.wait)
    return 0


def _release(args: argparse.Namespace, root: Path) -> int:
    from jobsdb import releases

    if args.action in ("show", "list"):
        files = releases.carried()
        if args.action == "list":
            newest = releases.latest()
            # by the release a file ends at, then by the releases its name names (1.10.0
            # after 1.9.0): the upgrade into a release, its install, the way back to it
            for f in sorted(files, key=lambda f: (releases.key(f.to), [
                    releases.key(v) for v in f.path.name.removeprefix("jobsdb--")
                    .removesuffix(".sql").split("--")])):
                print(f"{f.path.name}: {f.marker.describe()}"
                      + ("  (newest)" if f.to == newest and f.marker.kind == "install" else ""))
            return 0
        if not args.version:
            raise errors.UsageError("`jobsdb release show` needs a release (1.0.0) or a step"
                                    " (pre-1.0--1.0.0)")
        for f in files:
            if f.path.name == f"jobsdb--{args.version}.sql":
                sys.stdout.write(f.text)
                return 0
        raise errors.MissingFileError(
            f"no release file jobsdb--{args.version}.sql in this toolkit (`jobsdb release list`)")
    if checkout_root() is None:
        raise errors.MissingFileError(
            f"`jobsdb release {args.action}` works on the source: run it in a checkout of jobsdb")
    from jobsdb import release_build as rb

    tree = rb.load_tree(root)
    if args.action in ("new", "way-back") and not args.version:
        raise errors.UsageError(f"`jobsdb release {args.action}` needs a release, e.g. 1.1.0")
    if args.action == "build":
        rb.build(tree)
    elif args.action == "check":
        problems = rb.check(tree)
        for p in problems:
            print(p)
        if problems:
            return errors.FAILED
        print(f"releases/: every file is what it must be (newest: jobsdb {tree.newest})")
    elif args.action == "cut":
        rb.cut(tree)
    elif args.action == "new":
        rb.new(tree, args.version)
    else:
        rb.way_back(tree, args.version)
    return 0


def _name_server(doing: str) -> None:
    print(f"jobsdb: {doing} {urls.describe(embedded.owner_url())}", file=sys.stderr)


def _dev_module(name: str):
    """A module of the test/lint tooling, which needs the [dev] extra and a checkout."""
    import importlib

    try:
        return importlib.import_module(f"jobsdb.{name}")
    except ModuleNotFoundError as e:
        raise errors.SetupError(
            f"`jobsdb {name.replace('pgtap', 'test')}` needs the test tooling ({e.name} is not"
            " installed): `pip install 'jobsdb[dev]'` (from a checkout: `make venv`)"
        ) from e


if __name__ == "__main__":
    sys.exit(main())
