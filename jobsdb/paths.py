"""Where the repository is."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The project directory: $JOBSDB_ROOT, else the nearest parent of the current directory
    holding jobsdb's pyproject.toml, else the directory above the installed package."""
    env = os.environ.get("JOBSDB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        p = d / "pyproject.toml"
        if p.is_file() and (d / "jobsdb").is_dir():
            try:
                if 'name = "jobsdb"' in p.read_text():
                    return d
            except OSError:
                pass
    return Path(__file__).resolve().parent.parent
