"""How the bench builds a jobsdb database: the one place to change when the package is installed
another way (e.g. from a release's install script instead of migrations/)."""

from __future__ import annotations

from jobsdb import migrate
from jobsdb.paths import repo_root
from jobsdb.shim import apply_shim

HOW = "the Supabase shim, then migrations/ (jobsdb.migrate.up) as the owner"


def jobsdb(admin_url: str, db: str, owner_url: str) -> None:
    """The Supabase shim in database `db` (superuser connection `admin_url`), then the package
    as the owner role (`owner_url`, a connection to `db`)."""
    apply_shim(admin_url, db, quiet=True)
    migrate.up(owner_url, repo_root() / "migrations", out=lambda s: None)
