"""The job's side of `jobsdb worker`: the process that runs the user's callable.

Each concurrency slot of the worker is one long-lived child process (started with `spawn`, so
it shares no connection, thread or lock with the worker). It imports the callable once (a GPU
model loads once per slot, not once per job), then runs one job at a time from its pipe and
answers with the result or the error. A job that overruns its time limit, or is cancelled, is
stopped by killing the child (a Python thread cannot be killed; a process can); the worker then
starts a fresh one. This module imports nothing heavy: it is what every child loads.

The callable's contract (see docs/workers.md, "jobsdb worker"):

    def render(job: dict) -> dict | list:
        # job: job_id, job_type, worker_pool, user_id, prompt, metadata, format, quality,
        #      model_type, output_bucket, attempt, max_attempts, lease_expires_at
        return {"assets": [{"type": "image", "url": "<path in output_bucket>",
                            "thumbnail_url": "...", "metadata": {...}}],
                "metadata": {"enhanced_prompt": "...", "quality_rating": 87.5}}

It may return a plain list of assets, or raise JobFailed (retryable) / PermanentJobFailure (not
retryable). Any other exception counts as a retryable failure. A result that is not JSON (NaN,
a cycle, nesting past the recursion limit) and a job this process cannot even read are failures
another attempt would repeat: not retryable.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any


class JobFailed(Exception):  # noqa: N818 - the name says what the callable reports
    """Raise from a job callable to report a failure; retried while attempts remain."""

    retryable = True


class PermanentJobFailure(JobFailed):
    """Raise from a job callable for a failure that another attempt would repeat."""

    retryable = False


class BadTarget(Exception):  # noqa: N818
    """The `module:function` named on the command line cannot be used."""


def load_target(target: str) -> Any:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise BadTarget(f"{target!r}: expected module:function, e.g. mypkg.render:run")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is a bad target, in one line
        raise BadTarget(f"cannot import {module_name}: {type(e).__name__}: {e}") from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BadTarget(f"{module_name} has no attribute {attr}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise BadTarget(f"{target} is not callable")
    return obj


def normalize(result: Any) -> dict[str, Any]:
    """The callable's return value as {assets, metadata}; PermanentJobFailure if unusable."""
    if isinstance(result, list | tuple):
        result = {"assets": list(result)}
    if not isinstance(result, dict) or not set(result) <= {"assets", "metadata"}:
        raise PermanentJobFailure(
            "the job callable must return a list of assets or a dict with keys assets and "
            f"metadata, not {type(result).__name__}"
        )
    assets = result.get("assets") or []
    metadata = result.get("metadata") or {}
    if not isinstance(assets, list) or not isinstance(metadata, dict):
        raise PermanentJobFailure("assets must be a list and metadata a dict")
    for a in assets:
        if not isinstance(a, str | dict):
            raise PermanentJobFailure("each asset must be a path string or a dict with url")
    out = {"assets": assets, "metadata": metadata}
    try:  # what the worker will send (jobsdb.postgrest.rpc: json.dumps with default=str)
        json.dumps(out, default=str, allow_nan=False)
    except (ValueError, TypeError, RecursionError) as e:
        raise PermanentJobFailure(
            f"the job callable's result is not JSON ({type(e).__name__}: {e}); a retry cannot"
            " fix it"[:2000]
        ) from None
    return out


def _die_with_parent() -> None:
    """Linux: SIGKILL this child when the worker dies (even by SIGKILL), so no job keeps
    running on a GPU for a worker whose lease is gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def child_main(target: str, conn: Connection, parent_pid: int) -> None:
    # Signals are the worker's business: it decides when a job stops (grace period, kill).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent_pid:
        return
    try:
        fn = load_target(target)
    except BadTarget as e:
        conn.send(("bad_target", str(e)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as e:  # noqa: BLE001 - the job arrived but cannot be unpickled
            conn.send(("error", {"message": _unreadable(e), "retryable": False}))
            continue
        try:
            result = normalize(fn(job))
        except JobFailed as e:
            conn.send(("error", {"message": str(e) or type(e).__name__,
                                 "retryable": e.retryable}))
        except Exception as e:  # noqa: BLE001 - every other error is a retryable failure
            tb = traceback.format_exception_only(type(e), e)[-1].strip()
            conn.send(("error", {"message": tb[:2000], "retryable": True}))
        else:
            try:
                conn.send(("ok", result))
            except (OSError, EOFError):
                return
            except Exception as e:  # noqa: BLE001 - pickling failed before anything was sent
                conn.send(("error", {
                    "message": f"the job callable's result cannot be sent to the worker: "
                               f"{type(e).__name__}: {e}"[:2000], "retryable": False}))
        sys.stdout.flush()


def _unreadable(e: BaseException) -> str:
    return (f"the job process cannot read this job: {type(e).__name__}: {e}; a retry cannot "
            "fix it")[:2000]
