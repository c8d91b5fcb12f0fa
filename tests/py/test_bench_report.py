"""The bench's verdicts are code: the long-transaction goal and the throughput goals are computed
from figures, so they are checked here on made-up figures (no database, no timing)."""

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


def _row(key: str, clients: int, v: float, values: list[float] | None = None) -> dict:
    return {"group": "throughput", "key": key, "clients": clients, "median": v,
            "values": values or [v]}


def test_hot_path_goals_against_raw_and_the_peers() -> None:
    rows = [_row("jobsdb", 1, 500), _row("raw", 1, 1000), _row("pgmq_record", 1, 300),
            _row("jobsdb", 8, 660), _row("raw", 8, 2000), _row("pgmq_record", 8, 450),
            _row("jobsdb_batched", 1, 1400), _row("pgmq_batched", 1, 1400),
            _row("jobsdb_batched", 8, 1980), _row("pgmq_batched", 8, 2000)]
    tg = {t["target"]: t for t in report.targets(rows, [1, 8])}
    assert tg["lifecycle jobs/s at 1 client >= 0.5 x raw baseline"]["status"] == "met"
    assert tg["lifecycle jobs/s at 8 clients >= 0.33 x raw baseline"]["ratio"] == 0.33
    assert tg["lifecycle jobs/s at 8 clients >= 0.33 x raw baseline"]["status"] == "met"
    peer = "lifecycle jobs/s at {} >= 1.5 x pgmq + the spec's record"
    assert tg[peer.format("1 client")]["status"] == "met"  # 500 / 300 = 1.67
    assert tg[peer.format("8 clients")]["status"] == "missed"  # 660 / 450 = 1.47
    batch = "batched jobs/s at {} >= 1.0 x pgmq's batch path (send_batch / read / archive of 10),"
    assert tg[batch.format("1 client") + " per job"]["status"] == "met"
    assert (tg[batch.format("8 clients") + " per job"]["status"],
            tg[batch.format("8 clients") + " per job"]["ratio"]) == ("missed", 0.99)
    own = tg["batched jobs/s at 8 clients >= 3 x jobsdb's own unbatched lifecycle"]
    assert (own["status"], own["ratio"]) == ("met", 3.0)


def test_a_goal_whose_rows_did_not_run_is_not_measured() -> None:
    tg = {t["target"]: t for t in report.targets([_row("jobsdb", 8, 600)], [8])}
    goal = tg["lifecycle jobs/s at 8 clients >= 1.5 x pgmq + the spec's record"]
    assert (goal["status"], goal["ratio"]) == ("not measured", None)


def test_a_variant_is_compared_with_jobsdb_repetition_by_repetition() -> None:
    rows = [_row("jobsdb", 8, 500, [400, 500, 600]),
            _row("jobsdb@lean", 8, 600, [480, 600, 660])]
    (v,) = [t for t in report.targets(rows, [8]) if t["target"].startswith("variant")]
    assert (v["status"], v["ratio"], v["detail"]) == ("A/B", 1.2, "per repetition 1.10-1.20")


def test_every_statement_of_a_design_script_counts_in_a_step() -> None:
    """The database time per step (bench/statements.py) is attributed by each design's regular
    expressions: every statement its pgbench script sends is one of its steps or the framing."""
    from bench import statements, workloads

    for d in workloads.DESIGNS:
        text = (workloads.SQL / d.script).read_text()
        body = "\n".join(ln for ln in text.splitlines()
                         if not ln.startswith(("--", "\\set", "\\startpipeline", "\\endpipeline")))
        stmts = [s.strip() for s in body.replace("\\gset", ";").split(";") if s.strip()]
        steps = {statements.classify(s, d.steps) for s in stmts}
        assert statements.OTHER not in steps, (d.key, stmts)
        assert {name for name, _ in d.steps} - {"consumer"} <= steps, (d.key, steps)


def _read(name: str, path: str, p95: float) -> dict:
    p = {"median": p95, "min": p95, "max": p95, "values": [p95]}
    return {"group": "reads", "key": f"{name}|{path}", "name": name, "path": path,
            "p50": p, "p95": p}


def test_the_read_goal_counts_the_calls_as_postgrest_makes_them() -> None:
    def goal(library_p95: float) -> dict:
        rows = [r for name, p95 in (("rpc: list_jobs()", 3.0), ("rpc: list_jobs() [jsonb]", 6.0),
                                    ("rpc: library_items()", library_p95))
                for r in (_read(name, "user", p95), _read(name, "owner", p95))]
        (g,) = [t for t in report.targets(rows, [8]) if t["target"].startswith("every read RPC")]
        return g

    assert (goal(4.9)["status"], goal(4.9)["detail"]) == ("met", "worst library_items() 4.90 ms")
    assert (goal(5.1)["status"], goal(5.1)["detail"]) == ("missed", "over: library_items() 5.10 ms")
