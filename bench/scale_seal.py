"""The history at scale as release 1.8.0 keeps it (bench/README.md, "The history at scale,
sealed"): `python -m bench.scale --seal 7` seals the loaded history out of the hot leaf into a
partition per period, oldest first, with the package's own `jobsdb history seal` (each seal's
steps timed), then vacuums the leaf its deletes left; `--retire K` retires the K oldest sealed
partitions with `jobsdb history retire` while pgbench runs the lifecycle, and reports what each
step took, the lifecycle's latencies and the longest wait for a lock any session had."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.progress import Progress
from bench.seal import lifecycle, window
from jobsdb import history_retire, history_seal

SEALED = history_retire.SEALED


def _steps(marks: list[tuple[str, float]], end: float) -> dict[str, float]:
    """Seconds from each logged step to the next (the last to `end`), by the step's first word."""
    out: dict[str, float] = {}
    for (what, t), nxt in zip(marks, [m[1] for m in marks[1:]] + [end], strict=True):
        key = what.split(" ")[0]
        out[key] = out.get(key, 0.0) + nxt - t
    return out


def seal_periods(url: str, period_days: int, keep_days: int, prog: Progress) -> dict[str, Any]:
    """Seal the hot leaf's history a period at a time, oldest first, until `keep_days` of it
    stay in the leaf; then vacuum the leaf. `url` connects as the owner."""
    with psycopg.connect(url, autocommit=True) as c:
        oldest = c.execute("select extract(epoch from now() - min(created_at)) / 86400"
                           " from jobs_private.jobs_hot").fetchone()[0]
    ages = list(range(int(oldest) - period_days, keep_days - 1, -period_days))
    per: list[dict[str, float]] = []
    t0 = time.monotonic()
    for age in ages:
        marks: list[tuple[str, float]] = []
        result = history_seal.seal(url, f"{age} days",
                                   lambda s, m=marks: m.append((s, time.monotonic())))
        steps = _steps(marks, time.monotonic())
        steps["jobs"] = float(result.split()[1]) if result.startswith("sealed") else 0.0
        per.append(steps)
        took = ", ".join(f"{k} {v:.1f}" for k, v in steps.items() if k != "jobs")
        prog.done(f"seal older than {age} days: {result} ({took} s)")
    facts: dict[str, Any] = {"seals": len(per), "seal total s": round(time.monotonic() - t0, 1)}
    for key in ("copying", "adding", "bounding", "moving", "checking") if per else ():
        xs = [p.get(key, 0.0) for p in per]
        facts[f"seal step '{key}' median s (min-max)"] = (
            f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})")
    if per:
        facts["jobs per seal (median)"] = int(statistics.median(p["jobs"] for p in per))
    with psycopg.connect(url, autocommit=True) as c:
        t = time.monotonic()
        c.execute("vacuum (analyze) jobs_private.jobs_hot")
        facts["vacuum of the hot leaf after the seals s"] = round(time.monotonic() - t, 1)
        c.execute("analyze public.jobs")
        facts["sealed partitions"] = len(c.execute(SEALED).fetchall())
        jobs, heap, idx = c.execute(
            "select (select count(*) from jobs_private.jobs_hot),"
            " pg_relation_size('jobs_private.jobs_hot') / 1048576,"
            " pg_indexes_size('jobs_private.jobs_hot') / 1048576").fetchone()
        facts["hot leaf: jobs, heap MB, indexes MB"] = f"{jobs:,}, {heap:,}, {idx:,}"
    prog.done(f"sealed into {facts['sealed partitions']} partitions in {facts['seal total s']} s;"
              f" the hot leaf vacuumed in {facts['vacuum of the hot leaf after the seals s']} s")
    return facts


def _older_than_all_but(c: psycopg.Connection, k: int) -> tuple[list[str], str]:
    """The k oldest sealed partitions and an age that only they are older than."""
    parts = [p for (p,) in c.execute(SEALED).fetchall()]
    if len(parts) <= k:
        raise RuntimeError(f"--retire {k}: only {len(parts)} sealed partitions (seal first)")
    # halfway between the newest jobs of the last to go and the first to stay: the age does
    # not move past either while the retire runs
    minutes = c.execute(
        f"select ((extract(epoch from now() - (select max(created_at) from {parts[k - 1]}))"
        f" + extract(epoch from now() - (select max(created_at) from {parts[k]}))) / 120)::int"
        ).fetchone()[0]
    return parts[:k], f"{minutes} minutes"


def watch_waits(url: str, stop: threading.Event, waits: dict[tuple, float]) -> None:
    """Every 5 ms, each lock wait in progress (pid, lock, since): the longest seen of each."""
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            for pid, what, app, secs in c.execute(
                    "select l.pid, l.locktype || ' ' || coalesce(l.relation::regclass::text, '')"
                    " || ' ' || l.mode, a.application_name,"
                    " extract(epoch from clock_timestamp() - l.waitstart)"
                    " from pg_locks as l join pg_stat_activity as a on a.pid = l.pid"
                    " where not l.granted and l.waitstart is not null").fetchall():
                key = (pid, what, app)
                waits[key] = max(waits.get(key, 0.0), float(secs))
            time.sleep(0.005)


def _lifecycle_until(url: str, clients: int, logs: str, stop: threading.Event,
                     errors: list[str]) -> None:
    """pgbench's lifecycle in 5-second runs, back to back, until told to stop: a run's
    per-transaction log is complete only when pgbench ends by itself."""
    n = 0
    while not stop.is_set():
        d = Path(logs) / f"run{n}"
        d.mkdir()
        _, err = lifecycle(url, clients, 5, str(d)).communicate()
        errors += [line for line in err.splitlines() if "ERROR" in line or "abort" in line]
        n += 1


def _latencies(logs: str) -> tuple[list[tuple[float, float]], list[float]]:
    """(end time, ms) of each lifecycle transaction pgbench logged, and when those that
    failed ended."""
    ok, failed = [], []
    for f in Path(logs).rglob("lat*"):
        for line in f.read_text().splitlines():
            p = line.split()
            end = int(p[4]) + int(p[5]) / 1e6
            if p[2].isdigit():
                ok.append((end, int(p[2]) / 1000))
            else:
                failed.append(end)
    return sorted(ok), sorted(failed)


def retire_oldest(url: str, k: int, clients: int, prog: Progress) -> dict[str, Any]:
    """Retire the k oldest sealed partitions (export to a temporary directory, detach, drop)
    while pgbench runs the lifecycle with `clients` clients; what each took, the lifecycle's
    latencies before and during, and the longest lock wait of any session."""
    with psycopg.connect(url, autocommit=True) as c:
        parts, older_than = _older_than_all_but(c, k)
        sizes = {p: c.execute(f"select count(*), pg_total_relation_size('{p}') / 1048576"
                              f" from {p}").fetchone() for p in parts}
    facts: dict[str, Any] = {}
    waits: dict[tuple, float] = {}
    errors: list[str] = []
    marks: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as logs, tempfile.TemporaryDirectory() as dest:
        stop, done = threading.Event(), threading.Event()
        threads = [threading.Thread(target=watch_waits, args=(url, done, waits)),
                   threading.Thread(target=_lifecycle_until,
                                    args=(url, clients, logs, stop, errors))]
        for th in threads:
            th.start()
        try:
            time.sleep(10)
            marks.append(("start", time.time()))
            lines = history_retire.retire(url, dest, older_than,
                                          lambda s: marks.append((s, time.time())))
            marks.append(("done", time.time()))
            time.sleep(5)
        finally:
            stop.set()
            threads[1].join()
            done.set()
            threads[0].join()
        lat, failed = _latencies(logs)
    for line in lines:
        prog.done(line)
    t_start, t_done = marks[0][1], marks[-1][1]
    # a partition's lines run from the first that names it to the first naming the next one
    firsts = [next(i for i, m in enumerate(marks) if p in m[0]) for p in parts]
    for p, a, b in zip(parts, firsts, firsts[1:] + [len(marks) - 1], strict=True):
        rows, mb = sizes[p]
        facts[f"retire {p} ({rows:,} jobs, {mb:,} MB) s"] = round(marks[b][1] - marks[a][1], 1)
    detach = [m for m in marks if "detaching" in m[0]]
    facts["retire steps (s each)"] = "; ".join(
        f"{m[0][:70]} {nxt[1] - m[1]:.1f}" for m, nxt in zip(marks[1:-1], marks[2:], strict=True))
    facts["lifecycle before (jobs/s | p50 | p99 | max ms)"] = window(lat, t_start - 8, t_start)
    facts["lifecycle while retiring"] = window(lat, t_start, t_done)
    if detach:
        facts["lifecycle within 2 s of each detach and drop"] = "; ".join(
            window(lat, m[1] - 0.5, m[1] + 2) for m in detach)
    facts["lifecycle transactions failed while retiring"] = sum(
        1 for t in failed if t_start <= t <= t_done)
    facts["lifecycle errors (first 3)"] = " | ".join(errors[:3]) or "none"
    longest = sorted(waits.items(), key=lambda kv: -kv[1])[:5]
    facts["longest lock waits (ms: what, who)"] = "; ".join(
        f"{secs * 1000:.0f}: {what}, {app or 'the retire'}" for (_, what, app), secs in longest
    ) or "none seen"
    facts["longest lock wait of the lifecycle ms"] = round(1000 * max(
        (s for (_, _, app), s in waits.items() if app == "pgbench"), default=0.0), 1)
    prog.done(f"retired {k} partitions in {t_done - t_start:.1f} s; the lifecycle's longest lock"
              f" wait {facts['longest lock wait of the lifecycle ms']} ms")
    return facts
