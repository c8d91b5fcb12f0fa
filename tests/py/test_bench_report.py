"""The bench's verdicts are code: the long-transaction goal and the throughput goals' ratios are
computed from figures, so they are checked here on made-up figures (no database, no timing)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not an installed package
from bench import longtx, pgbench, report  # noqa: E402


def _run(rates: list[float], secs: float = 80) -> dict:
    return {"secs": secs, "windows": [{"t": 10.0 * (i + 1), "jobs_s": r} for i, r in
                                      enumerate(rates)]}


def test_progress_lines_are_parsed() -> None:
    err = ("pgbench: starting\n"
           "progress: 10.0 s, 840.2 tps, lat 4.612 ms stddev 1.201, 0 failed\n"
           "progress: 20.0 s, 107.0 tps, lat 37.004 ms stddev 9.1, 0 failed\n")
    assert pgbench.PROGRESS.findall(err) == [("10.0", "840.2", "4.612"),
                                             ("20.0", "107.0", "37.004")]


def test_long_transaction_goal_missed_by_one_late_window() -> None:
    without = _run([50, 60, 100, 100, 100, 100, 100, 100])
    with_tx = _run([5, 5, 5, 90, 90, 40, 90, 90])  # windows ending at 10-30 s do not count
    g = longtx.goal(without, with_tx)
    assert (g["status"], g["ratio"], g["worst_t"]) == ("missed", 0.4, 60.0)


def test_long_transaction_goal_met_and_partial_window_ignored() -> None:
    without = _run([100, 100, 100, 100, 100, 100, 100, 100, 1])
    with_tx = _run([100, 100, 100, 60, 55, 50, 70, 80, 1])  # the window ending at 90 s > secs
    g = longtx.goal(without, with_tx)
    assert (g["status"], g["ratio"], g["base"]) == ("met", 0.5, 100)


def test_throughput_goal_ratios() -> None:
    def row(key: str, v: float) -> dict:
        return {"group": "throughput", "key": key, "clients": 8, "median": v}
    rows = [row("jobsdb", 600), row("raw", 1000), row("procrastinate", 600),
            row("jobsdb_batched", 1800), row("raw_batched", 3000)]
    tg = {t["target"].split(" >=")[0] + " >=" + t["target"].split(">=")[1]: t
          for t in report.targets(rows, [8])}
    assert tg["lifecycle jobs/s at 8 clients >= 0.5 x raw baseline"]["status"] == "met"
    assert tg["lifecycle jobs/s at 8 clients >= 1.2 x Procrastinate"]["status"] == "missed"
    batched = tg["batched jobs/s at 8 clients >= 3 x jobsdb's own unbatched lifecycle"]
    assert (batched["status"], batched["ratio"]) == ("met", 3.0)
