"""Named SQL queries from .sql files: `-- name: NAME` starts a query, the next one ends it."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def load(filename: str) -> dict[str, str]:
    text = resources.files("jobsdb").joinpath("sql", filename).read_text()
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
