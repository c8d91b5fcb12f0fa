"""Run a pgbench custom script and read its throughput (and, with progress, its 10-s windows)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from jobsdb.embedded import find_bin

SQL = Path(__file__).resolve().parent / "scripts"
PROGRESS = re.compile(r"^progress: ([0-9.]+) s, ([0-9.]+) tps, lat ([0-9.]+) ms", re.M)


class PgbenchError(RuntimeError):
    pass


def start(conninfo: str, script: str, clients: int, secs: float,
          options: str = "", progress: int = 0,
          defines: tuple[tuple[str, str], ...] = ()) -> subprocess.Popen[str]:
    """pgbench in the background; with progress > 0 it prints a line every `progress` s;
    `defines` are -D variables (each client's starting values)."""
    args = [
        find_bin("pgbench"), "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
        "-T", str(max(1, round(secs))), "-f", str(SQL / script), conninfo,
    ]
    if progress:
        args[1:1] = ["--progress", str(progress)]
    for name, value in defines:
        args[1:1] = ["-D", f"{name}={value}"]
    env = os.environ | {"PGOPTIONS": options} if options else None
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _communicate(p: subprocess.Popen[str], script: str) -> tuple[float, int, str]:
    out, err = p.communicate()
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    n = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if p.returncode != 0 or not tps or not n or (failed and int(failed.group(1)) > 0):
        tail = "\n".join((out + err).splitlines()[-15:])
        raise PgbenchError(f"pgbench {script} failed (exit {p.returncode}):\n{tail}")
    return float(tps.group(1)), int(n.group(1)), err


def finish(p: subprocess.Popen[str], script: str) -> tuple[float, int]:
    """(transactions per second, transactions) of a finished pgbench; raise on any error."""
    return _communicate(p, script)[:2]


def finish_windows(p: subprocess.Popen[str], script: str
                   ) -> tuple[float, int, list[tuple[float, float, float]]]:
    """finish() plus the progress windows: (end second, tps, mean latency ms) each."""
    tps, n, err = _communicate(p, script)
    return tps, n, [(float(t), float(r), float(lat)) for t, r, lat in PROGRESS.findall(err)]


def run(conninfo: str, script: str, clients: int, secs: float, options: str = "") -> float:
    return finish(start(conninfo, script, clients, secs, options), script)[0]
