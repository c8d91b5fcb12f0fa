"""The job process of `jobsdb worker` (jobsdb.jobproc.child_main), started with spawn as the
worker starts it: a job it cannot even read, and a result that is not JSON, come back as
failures another attempt would repeat (retryable false), and the process goes on with the next
job. (The worker's side of it, with the database: tests/py/test_worker_process.py.)"""

from __future__ import annotations

import json
import os
from multiprocessing import get_context
from typing import Any

import pytest

from jobsdb.jobproc import child_main

JOB = {"job_id": "j-1", "job_type": "sdxl_image_fast", "user_id": "u-1", "prompt": "a fox",
       "attempt": 1}


class Unreadable:
    """Pickles fine; unpickling runs json.loads on arrays nested 5,000 deep: RecursionError in
    the job process, as a payload too deep for its stack would."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (json.loads, ("[" * 5000 + "]" * 5000,))


@pytest.fixture
def job_process():
    ctx = get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=child_main, args=("jobsdb.examples:render", child, os.getpid()))
    proc.start()
    child.close()
    try:
        assert parent.poll(60) and parent.recv()[0] == "ready"
        yield parent
    finally:
        proc.kill()
        proc.join(5)
        parent.close()


def _answer(conn: Any) -> tuple[str, Any]:
    assert conn.poll(30), "the job process did not answer"
    return conn.recv()


def test_a_job_the_process_cannot_read_fails_for_good_and_the_next_one_runs(job_process) -> None:
    job_process.send(Unreadable())
    kind, detail = _answer(job_process)
    assert kind == "error" and detail["retryable"] is False
    assert detail["message"].startswith("the job process cannot read this job: RecursionError")
    job_process.send(JOB | {"metadata": {"fake_seconds": 0}})
    kind, detail = _answer(job_process)
    assert kind == "ok" and detail["assets"][0]["url"] == "u-1/j-1.png"


def test_a_result_that_is_not_json_fails_for_good(job_process) -> None:
    job_process.send(JOB | {"metadata": {"fake_seconds": 0, "fake_nan": True}})
    kind, detail = _answer(job_process)
    assert kind == "error" and detail["retryable"] is False
    assert "result is not JSON (ValueError" in detail["message"]
    job_process.send(JOB | {"metadata": {"fake_seconds": 0}})
    assert _answer(job_process)[0] == "ok"
