"""The `jobsdb worker` runner reports its last ready outcome and claims the next job in one
job_callback_and_claim call when it has a free slot; on a database without that function
(jobsdb 1.0.0) it reports and then claims, as before; a refused combined call applied nothing,
so the report goes alone and says why."""

from __future__ import annotations

import json
from multiprocessing import Pipe

import psycopg
import pytest
from workerproc import make_user, queue, states

from jobsdb.runner import Options, Report, Runner, Slot
from jobsdb.worker import Worker


def _runner(url: str) -> tuple[Runner, object]:
    """A runner with one free slot whose job process is this test (the other pipe end)."""
    runner = Runner(Options(url=url, pool="sdxl", target="jobsdb.examples:render",
                            worker_id="gpu-1", log_json=True))  # fmt: skip
    ours, theirs = Pipe()
    runner.slots = [Slot(proc=None, conn=theirs, ready=True)]
    return runner, ours


def _events(err: str, event: str) -> list[dict]:
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    return [x for x in lines if x["event"] == event]




def test_one_outcome_and_a_free_slot_go_in_one_call(
    fresh_db: str, capsys: pytest.CaptureFixture
) -> None:
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 2)
    runner, pipe = _runner(fresh_db)
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        (first,) = w.claim(1)
        runner.reports = [Report(first, "completed", {"assets": [f"{user}/{first.job_id}.png"],
                                                      "metadata": None})]
        runner._flush_reports(w)
        assert runner.reports == []
        (nxt,) = [s.job for s in runner.slots]
        assert nxt is not None and nxt.job_id != first.job_id and nxt.job_id in w.held
        assert pipe.recv()["job_id"] == nxt.job_id  # handed to the slot's job process
    (reported,) = _events(capsys.readouterr().err, "job_reported")
    assert (reported["job_id"], reported["result"], reported["claimed"]) == (
        first.job_id, "completed", 1)
    assert states(fresh_db, ids) == {first.job_id: ("completed", 1),
                                     nxt.job_id: ("processing", 1)}  # fmt: skip


def test_a_database_without_the_function_gets_a_report_then_a_claim(
    fresh_db: str, capsys: pytest.CaptureFixture
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as c:  # the owner: as jobsdb 1.0.0 has it
        c.execute("drop function public.job_callback_and_claim(jsonb, text, text, integer,"
                  " integer)")
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 2)
    runner, pipe = _runner(fresh_db)
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        (first,) = w.claim(1)
        runner.reports = [Report(first, "completed", {"assets": [f"{user}/{first.job_id}.png"],
                                                      "metadata": None})]
        runner._flush_reports(w)
        assert runner.reports == [] and runner.report_and_claim is False
        assert runner.slots[0].job is None  # reported alone; the claim comes next
        runner._claim(w)
        nxt = runner.slots[0].job
        assert nxt is not None and pipe.recv()["job_id"] == nxt.job_id
    (reported,) = _events(capsys.readouterr().err, "job_reported")
    assert "claimed" not in reported and reported["result"] == "completed"
    assert states(fresh_db, ids) == {first.job_id: ("completed", 1),
                                     nxt.job_id: ("processing", 1)}  # fmt: skip


def test_a_refused_combined_call_reports_alone_and_says_why(
    fresh_db: str, capsys: pytest.CaptureFixture
) -> None:
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 2)
    runner, _pipe = _runner(fresh_db)
    with Worker(fresh_db, "sdxl", "gpu-1") as w:
        (bad,) = w.claim(1)
        # 22023 (an empty path): neither the report nor the claim was applied
        runner.reports = [Report(bad, "completed", {"assets": [""], "metadata": None})]
        runner._flush_reports(w)
        assert runner.reports == [] and runner.slots[0].job is None
    refused = _events(capsys.readouterr().err, "result_refused")
    assert len(refused) == 1 and refused[0]["job_id"] == bad.job_id
    got = states(fresh_db, ids)
    assert got[bad.job_id] == ("failed", 1)
    assert sorted(s for s, _ in got.values()) == ["failed", "queued"]  # nothing claimed
