"""The `jobsdb worker` runner sends the outcomes that are ready together in one job_callbacks
call; when the database refuses that batch (all or nothing: one result's bad assets), nothing
of it was applied and the runner reports one by one, so only the bad result becomes a failure."""

from __future__ import annotations

import json

import pytest
from workerproc import assets_per_job, make_user, queue, states

from jobsdb.runner import Options, Report, Runner
from jobsdb.worker import Worker


def _runner(url: str) -> Runner:
    return Runner(Options(url=url, pool="sdxl", target="jobsdb.examples:render",
                          worker_id="gpu-1", log_json=True))  # fmt: skip


def _events(err: str, event: str) -> list[dict]:
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    return [x for x in lines if x["event"] == event]


def test_ready_outcomes_go_in_one_call(fresh_db: str, capsys: pytest.CaptureFixture) -> None:
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 3)
    runner = _runner(fresh_db)
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        a, b, c = sorted(w.claim(3), key=lambda j: ids.index(j.job_id))
        runner.reports = [
            Report(a, "completed", {"assets": [f"{user}/{a.job_id}.png"], "metadata": None}),
            Report(b, "failed", {"error": "oom", "retryable": False}),
            Report(c, "completed", {"assets": [f"{user}/{c.job_id}.png"],
                                      "metadata": {"seed": 1}}),
        ]
        runner._flush_reports(w)
        assert runner.reports == [] and not w.held
    reported = _events(capsys.readouterr().err, "job_reported")
    assert [(e["job_id"], e["result"], e.get("batch")) for e in reported] == [
        (a.job_id, "completed", 3), (b.job_id, "failed", 3), (c.job_id, "completed", 3),
    ]  # fmt: skip
    assert runner.counts["completed"] == 2 and runner.counts["failed"] == 1
    assert states(fresh_db, ids) == {a.job_id: ("completed", 1), b.job_id: ("failed", 1),
                                     c.job_id: ("completed", 1)}  # fmt: skip


def test_a_refused_batch_falls_back_to_one_by_one(
    fresh_db: str, capsys: pytest.CaptureFixture
) -> None:
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 2)
    runner = _runner(fresh_db)
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        good, bad = sorted(w.claim(2), key=lambda j: ids.index(j.job_id))
        runner.reports = [
            Report(good, "completed", {"assets": [f"{user}/{good.job_id}.png"],
                                         "metadata": None}),
            Report(bad, "completed", {"assets": [""], "metadata": None}),  # 22023: empty path
        ]
        runner._flush_reports(w)
        assert runner.reports == []
    err = capsys.readouterr().err
    (refused,) = _events(err, "batch_refused")
    assert refused["reports"] == 2 and "reports[1]" in refused["error"]
    reported = _events(err, "job_reported")
    assert [(e["job_id"], e["result"], e.get("batch")) for e in reported] == [
        (good.job_id, "completed", None), (bad.job_id, "failed", None),
    ]  # fmt: skip
    assert states(fresh_db, ids) == {good.job_id: ("completed", 1), bad.job_id: ("failed", 1)}
    assert assets_per_job(fresh_db, ids).get(good.job_id) == 1
