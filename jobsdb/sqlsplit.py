"""Split a SQL file into statements exactly like the Supabase CLI (pkg/parser, SplitAndTrim).

The CLI stores these strings in supabase_migrations.schema_migrations.statements, so ours must
be identical for each tool to read the other's history. Each statement is kept as written
(comments included), split on top-level `;` (outside quotes, dollar quotes, comments,
parentheses and BEGIN ATOMIC ... END bodies), then the trailing `;` and surrounding whitespace
are trimmed and empty statements dropped.
"""

from __future__ import annotations

import re

_TAG_CHAR = re.compile(r"[\w]", re.UNICODE)


def _scan_dollar_tag(sql: str, i: int) -> str | None:
    """If a dollar-quote opener starts at sql[i] == '$', return it (e.g. '$$', '$fn$')."""
    j = i + 1
    while j < len(sql) and (sql[j].isalnum() or sql[j] == "_"):
        j += 1
    if j < len(sql) and sql[j] == "$":
        return sql[i : j + 1]
    return None


def _skip_quoted(sql: str, i: int) -> int:
    """From a position inside no state, skip a construct starting at i; return next index."""
    c = sql[i]
    n = len(sql)
    if c in ("'", '"'):
        j = i + 1
        while j < n:
            if sql[j] == c:
                if j + 1 < n and sql[j + 1] == c:
                    j += 2
                    continue
                return j + 1
            j += 1
        return n
    if c == "-" and sql.startswith("--", i):
        j = sql.find("\n", i)
        return n if j < 0 else j + 1
    if c == "/" and sql.startswith("/*", i):
        depth = 0
        j = i
        while j < n:
            if sql.startswith("/*", j):
                depth += 1
                j += 2
            elif sql.startswith("*/", j):
                depth -= 1
                j += 2
                if depth == 0:
                    return j
            else:
                j += 1
        return n
    if c == "$":
        tag = _scan_dollar_tag(sql, i)
        if tag:
            j = sql.find(tag, i + len(tag))
            return n if j < 0 else j + len(tag)
        return i + 1
    if c == "\\":
        return min(i + 2, n)
    return i + 1


def _raw_split(sql: str) -> list[str]:
    out: list[str] = []
    start = 0
    i = 0
    n = len(sql)
    depth = 0  # parentheses
    atomic = False
    while i < n:
        c = sql[i]
        if c in "'\"-/$\\":
            i = _skip_quoted(sql, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")" and depth > 0:
            depth -= 1
        elif (
            not atomic
            and depth == 0
            and c in "cC"
            and i >= 6
            and sql[i - 5 : i + 1].lower() == "atomic"
            and sql[i - 6].isspace()
        ):
            atomic = True
        elif (
            atomic
            and depth == 0
            and c in "dD"
            and i >= 2
            and sql[i - 2 : i + 1].lower() == "end"
        ):
            atomic = False
        elif c == ";" and depth == 0 and not atomic:
            out.append(sql[start : i + 1])
            start = i + 1
        i += 1
    if start < n:
        out.append(sql[start:])
    return out


def split(sql: str) -> list[str]:
    """The statements of `sql`, as the Supabase CLI stores them."""
    stmts = []
    for token in _raw_split(sql):
        s = token.rstrip(";").strip()
        if s:
            stmts.append(s)
    return stmts


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


def is_comment_only(stmt: str) -> bool:
    """True when a statement holds nothing but comments (the CLI's trailing-comment tokens)."""
    return not _COMMENTS.sub("", stmt).strip()


def line_of(text: str, stmt: str) -> int | None:
    """1-based line in `text` where statement `stmt` (as split) starts, after its leading
    comment lines; None when it is not found verbatim."""
    at = text.find(stmt)
    if at < 0:
        return None
    line = text.count("\n", 0, at) + 1
    for ln in stmt.splitlines():
        if ln.strip() and not ln.strip().startswith("--"):
            break
        line += 1
    return line
