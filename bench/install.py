"""How the bench builds a jobsdb database: the one place to change when the package is installed
another way."""

from __future__ import annotations

from jobsdb import package_migrate
from jobsdb.paths import repo_root
from jobsdb.shim import apply_shim

HOW = "the Supabase shim, then the newest release from releases/ (jobsdb's migrate) as the owner"


def jobsdb(admin_url: str, db: str, owner_url: str) -> None:
    """The Supabase shim in database `db` (superuser connection `admin_url`), then the package's
    newest release, installed as the owner role (`owner_url`, a connection to `db`) the way
    `jobsdb migrate` installs it."""
    apply_shim(admin_url, db, quiet=True)
    package_migrate.up(owner_url, rdir=repo_root() / "releases", mdir=repo_root() / "migrations",
                       out=lambda s: None)
