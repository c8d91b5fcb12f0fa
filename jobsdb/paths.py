"""Where things are: a checkout of the repository, or the installed package."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository checkout we run in: $JOBSDB_ROOT, else the nearest parent of the current
    directory holding jobsdb's pyproject.toml and migrations/; None for an installed copy."""
    env = os.environ.get("JOBSDB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        p = d / "pyproject.toml"
        if p.is_file() and (d / "jobsdb").is_dir() and (d / "migrations").is_dir():
            try:
                if 'name = "jobsdb"' in p.read_text():
                    return d
            except OSError:
                pass
    return None


def repo_root() -> Path:
    """The checkout, else the directory above the installed package (tests/, sql/ are not
    installed: only a checkout can run `jobsdb test`, `lint` and `schema`)."""
    return checkout_root() or PACKAGE_DIR.parent


def migrations_dir() -> Path:
    """migrations/ of the checkout, else the copy installed as package data."""
    root = checkout_root()
    if root is not None:
        return root / "migrations"
    installed = Path(str(resources.files("jobsdb").joinpath("migrations")))
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "migrations"  # an editable install used outside the checkout


def home_dir() -> Path:
    """Where the embedded database lives (.jobsdb/ under it): $JOBSDB_HOME, else the checkout,
    else the current directory."""
    env = os.environ.get("JOBSDB_HOME")
    if env:
        return Path(env).resolve()
    return checkout_root() or Path.cwd().resolve()


def releases_dir() -> Path:
    """releases/ of the checkout, else the copy installed as package data."""
    root = checkout_root()
    if root is not None:
        return root / "releases"
    installed = Path(str(resources.files("jobsdb").joinpath("release_files")))
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "releases"
