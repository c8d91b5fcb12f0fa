"""Named SQL queries from .sql files: `-- name: NAME` starts a query, the next one ends it."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


@cache
def load(filename: str) -> dict[str, str]:
    """The queries of the package's jobsdb/sql/<filename> (installed with it)."""
    return parse(resources.files("jobsdb").joinpath("sql", filename).read_text())


def load_file(path: Path) -> dict[str, str]:
    """The queries of any file, e.g. the test suite's tests/queries/audit.sql."""
    return parse(path.read_text())
