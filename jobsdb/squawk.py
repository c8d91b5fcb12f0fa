"""`jobsdb lint-migrations`: squawk (the squawk-cli package) over every migration after
migrate.SAFE_SINCE and every release step of releases/ (the files that run on live databases;
an install runs on a database without jobsdb), with the checkout's .squawk.toml. A file is
linted as one transaction, the way the Supabase CLI runs it, unless it is marked
`-- jobsdb:no-transaction`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from jobsdb import migrate
from jobsdb.errors import SetupError


def squawk_bin() -> str:
    found = shutil.which("squawk") or shutil.which("squawk", path=str(Path(sys.executable).parent))
    if not found:
        raise SetupError("squawk is not installed: `pip install 'jobsdb[dev]'` (or"
                         " `pip install squawk-cli`; from a checkout: `make venv`)")
    return found


def lint(files: list[Path], config: Path | None, out=print) -> int:
    """squawk over `files`; the number of files with findings."""
    exe = squawk_bin()
    bad = 0
    for f in files:
        no_transaction = f.read_text().startswith(migrate.NO_TX_MARK)
        cmd = [exe, "--reporter", "gcc"]
        if config is not None and config.is_file():
            cmd += ["--config", str(config)]
        if not no_transaction:
            cmd.append("--assume-in-transaction")
        r = subprocess.run([*cmd, str(f)], capture_output=True, text=True)
        if r.returncode != 0:
            bad += 1
            out((r.stdout + r.stderr).rstrip())
    return bad


def main(root: Path, directory: Path, out=print) -> int:
    files = [m.path for m in migrate.load_dir(directory) if m.version > migrate.SAFE_SINCE]
    steps = sorted((root / "releases").glob("jobsdb--*--*.sql"))
    if not files and not steps:
        out(f"squawk: no migration after {migrate.SAFE_SINCE} and no release step")
        return 0
    bad = lint(files + steps, root / ".squawk.toml", out)
    out(f"squawk: {len(files)} migration(s) after {migrate.SAFE_SINCE} and {len(steps)} release"
        f" step(s), {bad} with findings")
    return 1 if bad else 0
