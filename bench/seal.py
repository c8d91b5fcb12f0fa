"""python -m bench.seal [--history N] [--fraction F] [--clients N] [--secs S] [--port P]
[--rules-on-parent | --package]

A measurement for partitioned history (bench/README.md, "A hot leaf"): while pgbench runs the
lifecycle on a partitioned jobs whose hot path names its newest partition (the hot leaf), a
period of finished history is sealed out of that leaf into a partition of its own: copied
aside, then in one transaction removed from the leaf, the leaf's bound moved up and the copy
attached below it. Prints what each step took, how long the tables were locked against the hot
path, and the lifecycle's latency (pgbench's per-transaction log) before, during and after.

With --package: the release's own seal instead of these scripts (jobsdb 1.8.0 and later:
`jobsdb history seal`, the functions in functions/private/seal_*.sql) on the bench's
partitioned jobs as the release makes it, with every foreign key and trigger in force and the
owner role running it; the history below the queue is sealed whole, up to the oldest queued job.
A watcher samples pg_locks every few milliseconds for how long the seal held the hot leaf.
With --retire the sealed partition is then retired too (`jobsdb history retire`: exported to a
temporary directory, detached concurrently, dropped), still under the lifecycle.

Needs the cluster a bench run kept (`python -m bench --quick --only throughput --designs
jobsdb --clients 1 --keep`): its bench_jobsdb is the template. Measurement only: the database
it makes (seal_jobsdb) is a throw-away copy, left for inspection."""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench.cluster import Cluster
from bench.workloads import OWNER, SQL, sql_file
from jobsdb.embedded import find_bin
from jobsdb.sqlsplit import is_comment_only, split

DB = "seal_jobsdb"
HISTORY_BELOW = "00000000-0001-0000-0000-000000000000"  # history ids have counter 0


def statements(name: str, **params: str) -> list[str]:
    return [s for s in split(sql_file(name, **params)) if not is_comment_only(s)]


def label(name: str, stmt: str) -> str:
    first = next(line for line in stmt.splitlines() if line and not line.startswith("--"))
    return f"{name}: {first[:50]}"


def timed(c: psycopg.Connection, name: str, marks: list[tuple[str, float, float]],
          skip: str | None = None, **params: str) -> tuple | None:
    """Run a script's statements one by one (leaving out those that contain `skip`), noting
    (what, wall-clock start, seconds) each; returns the last row a statement answered."""
    row = None
    for s in statements(name, **params):
        if skip and skip in s:
            continue
        t, p = time.time(), time.perf_counter()
        cur = c.execute(s)
        marks.append((label(name, s), t, time.perf_counter() - p))
        row = cur.fetchone() if cur.description else row
    return row


def make_db(su: str, owner: str, history: int, rules_on_parent: bool) -> tuple[str, int]:
    """seal_jobsdb: bench_jobsdb with about `history` finished jobs below its queue, then
    partitioned with a hot leaf (and its rules on the parent); returns its hot leaf's lowest
    id and the history size."""
    with psycopg.connect(su, autocommit=True) as c:
        c.execute(f"drop database if exists {DB} with (force)")
        c.execute(f"create database {DB} template bench_jobsdb owner {OWNER}")
    with psycopg.connect(su.replace("/postgres", f"/{DB}"), autocommit=True) as c:
        done = c.execute("select count(*) from public.jobs where status = 'completed'").fetchone()
        copies = max(1, math.ceil(history / max(1, done[0] if done else 1)))
        c.execute(sql_file("seal_history.sql", copies=str(copies)))
    with psycopg.connect(owner, autocommit=True) as c:
        c.execute((SQL / "variant_partitioned.sql").read_text())
        c.execute((SQL / "variant_partitioned_leaf_functions.sql").read_text())
        if rules_on_parent:
            c.execute((SQL / "variant_partitioned_parent_rules.sql").read_text())
        c.execute("vacuum analyze jobs_private.jobs_hot")
        low, n = c.execute(
            "select min(h.id::text), count(*) from jobs_private.jobs_hot as h where h.id < %s",
            (HISTORY_BELOW,)).fetchone()
    return low, n


def cut_at(owner: str, fraction: float, n: int) -> str:
    with psycopg.connect(owner) as c:
        row = c.execute(
            "select h.id::text from jobs_private.jobs_hot as h where h.id < %s"
            " order by h.id offset %s limit 1", (HISTORY_BELOW, int(n * fraction))).fetchone()
    return row[0] if row else HISTORY_BELOW


def lifecycle(url: str, clients: int, secs: int, logdir: str) -> subprocess.Popen[str]:
    """pgbench running the lifecycle, logging every transaction's latency into logdir."""
    return subprocess.Popen(
        [find_bin("pgbench"), "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
         "-T", str(secs), "-l", f"--log-prefix={logdir}/lat",
         "-f", str(SQL / "pgbench_jobsdb.sql"), url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def latencies(logdir: Path) -> list[tuple[float, float]]:
    """(end time, latency ms) of every lifecycle pgbench logged."""
    out = []
    for f in logdir.glob("lat*"):
        for line in f.read_text().splitlines():
            p = line.split()
            out.append((int(p[4]) + int(p[5]) / 1e6, int(p[2]) / 1000))
    return sorted(out)


def window(lat: list[tuple[float, float]], a: float, b: float) -> str:
    xs = sorted(ms for end, ms in lat if a <= end < b)
    if not xs:
        return "| - | - | - | - |"
    rate = len(xs) / max(b - a, 1e-9)
    return (f"| {rate:,.0f} | {statistics.median(xs):.1f} | {xs[int(0.99 * (len(xs) - 1))]:.1f}"
            f" | {xs[-1]:.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--history", type=int, default=570_000, help="finished jobs in the hot leaf")
    ap.add_argument("--fraction", type=float, default=0.5, help="share of them sealed")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--secs", type=int, default=45)
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--rules-on-parent", action="store_true",
                    help="no foreign keys into jobs, its triggers on the parent, the seal run by"
                    " the owner with every trigger in force (not the superuser's replica mode)")
    ap.add_argument("--package", action="store_true",
                    help="the release's own seal (jobsdb history seal) on the release's schema")
    ap.add_argument("--retire", action="store_true",
                    help="with --package: then retire the sealed partition (jobsdb history"
                    " retire), still under the lifecycle")
    a = ap.parse_args()
    if a.package:
        return package_main(a)
    cluster = Cluster(a.port)
    su = cluster.superuser_url
    su_db = su.replace("/postgres", f"/{DB}")
    owner_url = f"postgresql://{OWNER}@127.0.0.1:{cluster.port}/{DB}"
    low, n = make_db(su, owner_url, a.history, a.rules_on_parent)
    cut = cut_at(owner_url, a.fraction, n) if a.fraction < 1 else HISTORY_BELOW
    params = {"low": low, "cut": cut}
    print(f"seal_jobsdb: {n:,} finished jobs below the queue in the hot leaf;"
          f" sealing [{low}, {cut})")
    marks: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench = lifecycle(owner_url, a.clients, a.secs, tmp)
        t_start = time.time()
        stop = threading.Event()
        seen: list[tuple[float, int]] = []
        reader = threading.Thread(target=watch, args=(owner_url, params, stop, seen))
        reader.start()
        try:
            t_lock, t_done = seal(owner_url if a.rules_on_parent else su_db, params, marks,
                                  a.rules_on_parent)
        finally:
            out, err = bench.communicate()
            stop.set()
            reader.join()
        if bench.returncode != 0:
            print(out + err, file=sys.stderr)
            return 1
        lat = latencies(Path(tmp))
    report(marks, lat, t_start, t_lock, t_done, t_start + a.secs)
    return judge(seen, t_lock, t_done)


def watch(url: str, params: dict[str, str], stop: threading.Event,
          seen: list[tuple[float, int]]) -> None:
    """Count the sealed range through the parent, over and over, until told to stop: each
    count is one statement (its own snapshot), so a seal that showed the range in both
    partitions, or in neither, at any moment would be counted twice or not at all."""
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            n = c.execute("select count(*) from public.jobs as j where j.id >= %(low)s"
                          " and j.id < %(cut)s", params).fetchone()
            seen.append((time.time(), n[0] if n else -1))


def judge(seen: list[tuple[float, int]], t_lock: float, t_done: float) -> int:
    counts = sorted({n for _, n in seen})
    near = sum(1 for t, _ in seen if t_lock - 0.5 <= t <= t_done + 0.5)
    print(f"\nthe sealed range counted through public.jobs {len(seen)} times by another"
          f" session ({near} within 0.5 s of the lock): counts seen {counts}")
    if len(counts) != 1:
        print("FAILED: the range was not seen whole, exactly once, at every moment")
        return 1
    return 0


def seal(url: str, params: dict[str, str], marks: list[tuple[str, float, float]],
         triggers_on: bool) -> tuple[float, float]:
    """Copy aside, then seal (with every trigger in force, or in the superuser's replica mode);
    returns when the lock was first tried and when it committed."""
    time.sleep(10)
    with psycopg.connect(url, autocommit=True) as c:
        # seal_lock.sql's notice says how many tries the lock took
        c.add_notice_handler(lambda d: marks.append((f"  ({d.message_primary})", time.time(), 0.0)))
        timed(c, "seal_prepare.sql", marks, **params)
        with c.transaction():
            timed(c, "seal_lock.sql", marks, **params)
            timed(c, "seal_bound.sql", marks, **params)
        marks.append(("  (committed)", time.time(), 0.0))
        time.sleep(5)
        with c.transaction():
            # the check's answer is the script's only row (its validation that follows answers
            # none); a refusal rolls the whole seal back
            moved, unfinished, changed, copied = timed(
                c, "seal.sql", marks, "session_replication_role" if triggers_on else None,
                **params)
            if unfinished or changed or moved != copied:
                raise SystemExit(f"seal refused: {moved} moved, {copied} copied,"
                                 f" {unfinished} unfinished, {changed} changed")
            t_lock = time.time()
            timed(c, "seal_lock.sql", marks, **params)
            timed(c, "seal_move.sql", marks, **params)
        t_done = time.time()
        marks.append(("  (committed)", t_done, 0.0))
    return t_lock, t_done


def report(marks: list[tuple[str, float, float]], lat: list[tuple[float, float]],
           t_start: float, t_lock: float, t_done: float, end: float) -> None:
    print("\n| step | started at (s) | took (ms) |\n|---|---|---|")
    for what, t, secs in marks:
        print(f"| {what} | {t - t_start:.2f} | {secs * 1000:,.1f} |")
    got = max(t for w, t, _ in marks if w.startswith("  (tries"))
    print(f"\nthe lock: tried for {(got - t_lock) * 1000:.1f} ms, then held"
          f" {(t_done - got) * 1000:.1f} ms (to the commit's return)")
    prep = next(t for w, t, _ in marks if w.startswith("seal_prepare"))
    seal0 = next(t for w, t, _ in marks if w.startswith("seal.sql"))
    print("\n| lifecycle (pgbench) | jobs/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for what, x, y in [("before (from 5 s)", t_start + 5, prep),
                        ("copying aside", prep, seal0 - 5),
                        ("sealing transaction", seal0, t_done),
                        ("lock tries and hold +- 0.5 s", t_lock - 0.5, t_done + 0.5),
                        ("after", t_done, end)]:
        print(f"| {what} {window(lat, x, y)}")
    slow = sorted(lat, key=lambda e: -e[1])[:8]
    print("\nslowest lifecycles, ended at (s from the commit) and took (ms): "
          + ", ".join(f"{end - t_done:+.2f} {ms:.0f}" for end, ms in sorted(slow)))


def package_main(a: argparse.Namespace) -> int:
    """The release's seal under the lifecycle: steps timed by the driver's log, the lock's hold
    sampled from pg_locks, the lifecycle's latencies around it, the sealed range counted."""
    from jobsdb import history_seal

    cluster = Cluster(a.port)
    su = cluster.superuser_url
    owner_url = f"postgresql://{OWNER}@127.0.0.1:{cluster.port}/{DB}"
    with psycopg.connect(su, autocommit=True) as c:
        c.execute(f"drop database if exists {DB} with (force)")
        c.execute(f"create database {DB} template bench_jobsdb owner {OWNER}")
    with psycopg.connect(su.replace("/postgres", f"/{DB}"), autocommit=True) as c:
        done = c.execute("select count(*) from public.jobs where status = 'completed'").fetchone()
        copies = max(1, math.ceil(a.history / max(1, done[0] if done else 1)))
        c.execute(sql_file("seal_history.sql", copies=str(copies)))
        c.execute("vacuum analyze jobs_private.jobs_hot")
        n = c.execute("select count(*) from public.jobs where id < %s",
                      (HISTORY_BELOW,)).fetchone()[0]
    params = {"low": "00000000-0000-0000-0000-000000000000", "cut": HISTORY_BELOW}
    print(f"seal_jobsdb: {n:,} finished jobs below the queue in the hot leaf")
    marks: list[tuple[str, float, float]] = []
    held: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench = lifecycle(owner_url, a.clients, a.secs, tmp)
        t_start = time.time()
        stop = threading.Event()
        seen: list[tuple[float, int]] = []
        threads = [threading.Thread(target=watch, args=(owner_url, params, stop, seen)),
                   threading.Thread(target=watch_lock, args=(owner_url, stop, held))]
        for t in threads:
            t.start()
        try:
            time.sleep(10)

            def log(what: str) -> None:
                marks.append((what, time.time(), 0.0))

            result = history_seal.seal(owner_url, "0 minutes", log)
            log(result)
            if a.retire:
                from jobsdb import history_retire

                time.sleep(5)
                log("retire: the partition just sealed, exported to a temporary directory")
                for line in history_retire.retire(owner_url, tmp, "0 minutes", log):
                    log(line)
        finally:
            out, err = bench.communicate()
            stop.set()
            for t in threads:
                t.join()
        if bench.returncode != 0:
            print(out + err, file=sys.stderr)
            return 1
        lat = latencies(Path(tmp))
    print("\n| step | started at (s) |\n|---|---|")
    for what, t, _ in marks:
        print(f"| {what} | {t - t_start:.2f} |")
    if a.retire:
        t_ret = next(t for w, t, _ in marks if w.startswith("retire:"))
        t_end = marks[-1][1]
        print("\n| lifecycle while retiring | jobs/s | p50 ms | p99 ms | max ms |\n"
              "|---|---|---|---|---|")
        print(f"| retiring {window(lat, t_ret, t_end)}")
        slow = sorted((e for e in lat if t_ret <= e[0] <= t_end), key=lambda e: -e[1])[:8]
        print("slowest while retiring, ended at (s from the start) and took (ms): "
              + ", ".join(f"{end - t_start:.2f} {ms:.0f}" for end, ms in sorted(slow)))
    t_move = next(t for w, t, _ in marks if w.startswith("moving"))
    t_keys = next(t for w, t, _ in marks if w.startswith("checking"))
    bursts: list[list[float]] = []
    for t in held:
        if bursts and t - bursts[-1][-1] < 0.05:
            bursts[-1].append(t)
        else:
            bursts.append([t])
    print("\nthe hot leaf held in ACCESS EXCLUSIVE mode (samples 2 ms apart, bursts): "
          + ", ".join(f"at {b[0] - t_start:.2f} s for {(b[-1] - b[0]) * 1000:.1f} ms"
                      f" ({len(b)} samples)" for b in bursts))
    print("\n| lifecycle (pgbench) | jobs/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    t0 = next(t for w, t, _ in marks if w.startswith("copying"))
    # the move's lock: the last burst before the key checks (a failed try of a brief lock
    # holds the tables it got meanwhile, and shows as a shorter burst)
    lock = [b for b in bursts if b[0] <= t_keys][-1] if bursts else [t_keys]
    for what, x, y in [("before (from 5 s)", t_start + 5, t0), ("copying", t0, t_move),
                        ("moving", t_move, t_keys),
                        ("+- 0.5 s of the lock", lock[0] - 0.5, lock[-1] + 0.5),
                        ("after the seal", t_keys, t_keys + 5)]:
        print(f"| {what} {window(lat, x, y)}")
    slow = sorted(lat, key=lambda e: -e[1])[:8]
    print("\nslowest lifecycles, ended at (s from the move's start) and took (ms): "
          + ", ".join(f"{end - t_move:+.2f} {ms:.0f}" for end, ms in sorted(slow)))
    # the sealed range is counted until the retire begins (which removes it)
    t_ret = next((t for w, t, _ in marks if w.startswith("retire:")), float("inf"))
    return judge([e for e in seen if e[0] < t_ret], t_move, t_keys)


def watch_lock(url: str, stop: threading.Event, held: list[float]) -> None:
    """When the hot leaf is held in ACCESS EXCLUSIVE mode by anyone, sampled every 2 ms."""
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            if c.execute("select exists (select from pg_locks where granted"
                         " and locktype = 'relation' and mode = 'AccessExclusiveLock'"
                         " and database = (select oid from pg_database"
                         "  where datname = current_database())"
                         " and relation = 'jobs_private.jobs_hot'::regclass)").fetchone()[0]:
                held.append(time.time())
            time.sleep(0.002)


if __name__ == "__main__":
    sys.exit(main())
