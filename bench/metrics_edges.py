"""python -m bench.metrics_edges [--rates 28,116,500] [--secs 90] [--before 1.12.0] [--keep]

system_metrics while jobs finish at a steady rate (bench/README.md, "system_metrics at a
window's edges"). A throw-away cluster (bench/cluster.py) with two databases, jobsdb `--before`
and the newest release, loaded alike for each rate: 31 days of finished jobs, one every 20 s,
then the last 65 minutes at the rate (bench/scripts/metrics_edges.sql). Then each database in
turn (twice, alternated): a writer finishes jobs at the rate while the roll-up runs on its
release's pg_cron schedule on Supabase (every 15 seconds since 1.16.0, every minute since
1.12.0, every five minutes before) and an admin calls system_metrics for each window, as
PostgREST does. Reported: p50/p95 per window and release, the ratio of the p50s, and the
newest roll-up's time per run."""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import threading
import time
from typing import Any

import psycopg

from bench.cluster import Cluster
from bench.progress import Progress
from bench.scale import _url
from bench.workloads import OWNER, pct, sections
from jobsdb import package_migrate
from jobsdb.paths import repo_root
from jobsdb.shim import apply_cluster_part, apply_shim

WINDOWS = ("1 minute", "10 minutes", "1 hour", "24 hours", "7 days", "31 days")
ADMIN_CLAIMS = ('{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated",'
                ' "aud": "authenticated"}')


def schedule_s(release: str) -> int:
    """The roll-up's pg_cron schedule in a release, on Supabase's pg_cron (1.6): every five
    minutes up to 1.11.0, every minute up to 1.15.0, every 15 seconds since 1.16.0 (which rolls
    up the minute not closed yet as far as its horizon)."""
    version = tuple(int(x) for x in release.split("."))
    return 300 if version < (1, 12, 0) else 60 if version < (1, 16, 0) else 15


@functools.cache
def _script(name: str) -> str:
    return dict(sections("metrics_edges.sql"))[name]["sql"]


def _jobs(conn: psycopg.Connection[Any], n: int, every: float, upto_sql: str) -> None:
    conn.execute(_script("jobs") % {"n": n, "every": every, "upto": upto_sql})


def setup(su_url: str, dbs: dict[str, str], releases: dict[str, str | None], rate: int,
          prog: Progress) -> dict[str, str]:
    """Loads each side's database for `rate`; answers the release each side installed."""
    installed = {}
    admin = _url(su_url, "postgres")
    apply_cluster_part(admin)
    with psycopg.connect(admin, autocommit=True) as c:
        t0 = "'" + c.execute("select now()::text").fetchone()[0] + "'::timestamptz"
    for side, db in dbs.items():
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"drop database if exists {db} with (force)")
            c.execute(f"create database {db} owner {OWNER}")
        apply_shim(admin, db, quiet=True)
        package_migrate.up(_url(su_url, db, OWNER), target=releases[side],
                           rdir=repo_root() / "releases", mdir=repo_root() / "migrations",
                           out=lambda s: None)
        t = time.monotonic()
        with psycopg.connect(_url(su_url, db), autocommit=True) as c:
            c.execute(_script("admin"))
            # 31 days, one every 20 s, before the last 65 minutes; those at the rate
            _jobs(c, 31 * 86400 // 20, 20.0, f"{t0} - interval '65 minutes'")
            _jobs(c, 65 * 60 * rate, 1.0 / rate, t0)
            c.execute("vacuum analyze")
            got = c.execute("select jobs_private.installed_release()").fetchone()[0]
            installed[side] = got
        with psycopg.connect(_url(su_url, db, OWNER), autocommit=True) as c:
            c.execute("select jobs_private.rollup_job_metrics()")
        with psycopg.connect(_url(su_url, db), autocommit=True) as c:
            c.execute("vacuum analyze")  # the roll-up's tables, as autovacuum keeps them
        prog.done(f"{db}: jobsdb {got}, loaded and rolled up in {time.monotonic() - t:.0f} s")
    return installed


def _writer(url: str, rate: int, stop: threading.Event) -> None:
    """Finishes `rate` jobs a second, in batches every half second, until stopped."""
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            t = time.monotonic()
            _jobs(c, max(1, rate // 2), 1.0 / rate, "clock_timestamp()")
            stop.wait(max(0.0, 0.5 - (time.monotonic() - t)))


def _roller(url: str, every: int, stop: threading.Event, runs: list[float]) -> None:
    """The roll-up as pg_cron runs it: now, then at each multiple of `every` seconds of the
    clock (pg_cron starts a job at second 0 of its minute)."""
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            t = time.monotonic()
            c.execute("select jobs_private.rollup_job_metrics()")
            runs.append(time.monotonic() - t)
            stop.wait(every - time.time() % every)


def phase(su_url: str, db: str, every: int, rate: int, secs: int,
          lat: dict[str, list[float]], runs: list[float]) -> None:
    """`secs` seconds of the writer and the roll-up, the admin calling every window in turn."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(_url(su_url, db), rate, stop)),
        threading.Thread(target=_roller, args=(_url(su_url, db, OWNER), every, stop,
                                               runs)),
    ]
    for th in threads:
        th.start()
    try:
        with psycopg.connect(_url(su_url, db, OWNER), autocommit=True) as c:
            end = time.monotonic() + secs
            while time.monotonic() < end:
                for w in WINDOWS:
                    c.execute("begin isolation level read committed read only")
                    c.execute("select set_config('role', 'authenticated', true),"
                              " set_config('request.jwt.claims', %s, true)", (ADMIN_CLAIMS,))
                    t = time.perf_counter()
                    c.execute("select public.system_metrics(%s::interval)", (w,)).fetchall()
                    lat[w].append((time.perf_counter() - t) * 1000)
                    c.execute("commit")
                time.sleep(0.5)
    finally:
        stop.set()
        for th in threads:
            th.join()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.metrics_edges", description=__doc__)
    ap.add_argument("--rates", default="28,116,500",
                    help="jobs finished a second, one measurement each (default 28,116,500)")
    ap.add_argument("--secs", type=int, default=90, help="seconds per phase (4 per rate)")
    ap.add_argument("--before", default="1.12.0", help="the release compared (default 1.12.0)")
    ap.add_argument("--keep", action="store_true", help="leave the cluster and its data")
    a = ap.parse_args(argv)
    rates = [int(r) for r in a.rates.split(",")]
    dbs = {"before": "metrics_before", "new": "metrics_new"}
    releases: dict[str, str | None] = {"before": a.before, "new": None}
    prog = Progress()
    cluster = Cluster()
    try:
        prog.step(f"starting the bench cluster on 127.0.0.1:{cluster.port}")
        su_url = cluster.start()
        print("| jobs/s | window | before p50 / p95 ms | new p50 / p95 ms | new / before p50 |")
        print("| --- | --- | --- | --- | --- |")
        for rate in rates:
            installed = setup(su_url, dbs, releases, rate, prog)
            lat = {side: {w: [] for w in WINDOWS} for side in dbs}
            runs: dict[str, list[float]] = {side: [] for side in dbs}
            for side in ("before", "new", "before", "new"):
                prog.step(f"{rate} jobs/s: {dbs[side]}, {a.secs} s")
                every = schedule_s(installed[side])
                phase(su_url, dbs[side], every, rate, a.secs, lat[side], runs[side])
            for w in WINDOWS:
                b, n = lat["before"][w], lat["new"][w]
                print(f"| {rate} | {w} | {pct(b, 0.5):.1f} / {pct(b, 0.95):.1f}"
                      f" | {pct(n, 0.5):.1f} / {pct(n, 0.95):.1f}"
                      f" | {pct(n, 0.5) / pct(b, 0.5):.3f} |")
            r = runs["new"]
            print(f"| {rate} | roll-up run (new) | | p50 {statistics.median(r) * 1000:.0f}"
                  f" / max {max(r) * 1000:.0f} ms over {len(r)} runs | |")
            sys.stdout.flush()
    finally:
        if not a.keep:
            cluster.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
