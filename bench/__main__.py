"""python -m bench [--secs S] [--reps N] [--history N] [--longtx-secs S] [--bytes-secs S] [--quick]
[--only GROUP ...] [--designs KEY,...] [--variant LABEL=FILE.sql ...] [--keep]"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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
    ap.add_argument("--designs", default=os.environ.get("BENCH_DESIGNS"),
                    help="throughput designs to run, by key (comma-separated: jobsdb, raw,"
                    " pgmq_record, pgmq_batched, ...; default all)")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL=FILE.sql",
                    help="also measure jobsdb with FILE.sql applied by the owner to a copy of its"
                    " database, interleaved with jobsdb in the same run (repeatable)")
    ap.add_argument("--keep", action="store_true", help="leave the bench cluster running")
    a = ap.parse_args(argv)
    variants = {}
    for v in a.variant:
        label, _, path = v.partition("=")
        if not label.isidentifier() or not Path(path).is_file():
            ap.error(f"--variant {v}: expected LABEL=FILE.sql (LABEL a word, FILE a file)")
        variants[label.lower()] = Path(path).resolve()
    only_designs = a.designs.split(",") if a.designs else None
    if a.quick:
        a.secs, a.reps, a.history, a.longtx_secs, a.bytes_secs = 1.0, 3, 20_000, 40.0, 3.0
    a.reps = max(a.reps, 3)
    clients = [int(c) for c in a.clients.split(",")]
    groups = a.only or GROUPS

    prog = Progress()
    t0 = time.monotonic()
    load_before = os.getloadavg()  # 1, 5, 15 minutes: other users of the machine
    env = workloads.Env.create(prog, keep=a.keep)
    env.variants = variants
    results: list[dict] = []
    try:
        env.setup(prog)
        if "throughput" in groups:
            results += workloads.throughput(env, prog, clients, a.secs, a.reps, only_designs)
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
        "variants": {k: str(v) for k, v in variants.items()},
        "load_before": load_before, "load_after": os.getloadavg(),
        "wall_seconds": round(time.monotonic() - t0, 1),
    }
    md = report.write(results, meta)
    print()
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
