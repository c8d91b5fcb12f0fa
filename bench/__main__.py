"""python -m bench [--secs S] [--reps N] [--history N] [--longtx-secs S] [--bytes-secs S] [--quick]
[--only GROUP ...]"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import longtx, report, storage, workloads
from bench.progress import Progress

GROUPS = ["throughput", "bytes", "longtx", "storm", "limits", "growth", "reads"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--secs", type=float, default=float(os.environ.get("BENCH_SECS", 2)),
                    help="seconds per throughput measurement (default 2)")
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", 5)),
                    help="repetitions per figure, interleaved; the figure is their median"
                    " (default 5, at least 3)")
    ap.add_argument("--history", type=int, default=int(os.environ.get("BENCH_HISTORY", 1_000_000)),
                    help="finished jobs of history for the growth and read rows (default 1000000)")
    ap.add_argument("--clients", default=os.environ.get("BENCH_CLIENTS", "1,4,8"))
    ap.add_argument("--bytes-secs", type=float,
                    default=float(os.environ.get("BENCH_BYTES_SECS", 10)),
                    help="seconds of the run per design for bytes per processed job (default 10)")
    ap.add_argument("--longtx-secs", type=float,
                    default=float(os.environ.get("BENCH_LONGTX_SECS", 300)),
                    help="seconds per long-transaction run; four runs (default 300)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 1 s, 3 reps, 20000 rows of history, 40 s per"
                    " long-transaction run, 3 s for bytes per job (numbers meaningless)")
    ap.add_argument("--only", nargs="*", default=None,
                    choices=GROUPS,
                    help="run only these groups")
    ap.add_argument("--keep", action="store_true", help="leave the bench cluster running")
    a = ap.parse_args(argv)
    if a.quick:
        a.secs, a.reps, a.history, a.longtx_secs, a.bytes_secs = 1.0, 3, 20_000, 40.0, 3.0
    a.reps = max(a.reps, 3)
    clients = [int(c) for c in a.clients.split(",")]
    groups = a.only or GROUPS

    prog = Progress()
    t0 = time.monotonic()
    env = workloads.Env.create(prog, keep=a.keep)
    results: list[dict] = []
    try:
        env.setup(prog)
        if "throughput" in groups:
            results += workloads.throughput(env, prog, clients, a.secs, a.reps)
        if "bytes" in groups:
            results += storage.bytes_per_job(env, prog, a.bytes_secs)
        if "longtx" in groups:
            results += longtx.longtx(env, prog, a.longtx_secs)
        if "storm" in groups:
            results += workloads.retry_storm(env, prog, a.reps)
        if "limits" in groups:
            results += workloads.rate_check(env, prog, a.reps)
        if "growth" in groups or "reads" in groups:
            results += workloads.growth_and_reads(env, prog, a.history, a.reps, groups)
    finally:
        env.close(prog)
    meta = env.meta | {
        "secs_per_measurement": a.secs, "reps": a.reps, "history_rows": a.history,
        "clients": clients, "longtx_secs": a.longtx_secs,
        "wall_seconds": round(time.monotonic() - t0, 1),
    }
    md = report.write(results, meta)
    print()
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
