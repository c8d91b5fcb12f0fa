"""Connection URLs: check one up front, point one at another database, name one for a person."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobsdb.errors import BadUrlError, one_line

EXAMPLE = "postgresql://USER:PASSWORD@HOST:PORT/DBNAME"


def parse(url: str, source: str = "DATABASE_URL") -> dict[str, str]:
    """The URL's parts (libpq's parser, the one psycopg connects with); BadUrlError when it is
    not a connection URL or key=value string. The message never repeats the URL (a password)."""
    try:
        parts = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except ProgrammingError as e:
        reason = one_line(str(e)).replace(f'"{url}"', "it")
        raise BadUrlError(f"{source} is not a PostgreSQL connection URL ({reason}):"
                          f" expected {EXAMPLE}") from e
    port = parts.get("port", "")
    if port and not all(p.isdigit() and 0 < int(p) < 65536 for p in port.split(",")):
        raise BadUrlError(f"{source} has port {port!r}, not a number 1-65535: expected {EXAMPLE}")
    return parts


def check(url: str, source: str = "DATABASE_URL") -> str:
    parse(url, source)
    return url


def url_for_db(url: str, dbname: str) -> str:
    """The same URL pointing at another database (works for URLs and key=value strings)."""
    if "://" in url:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    return make_conninfo(url, dbname=dbname)


def describe(url: str) -> str:
    """'database "postgres" on 127.0.0.1:5432 as role postgres' (no password)."""
    p = parse(url)
    host = p.get("host") or p.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = p.get("port") or os.environ.get("PGPORT") or "5432"
    user = p.get("user") or os.environ.get("PGUSER") or "(your OS user)"
    db = p.get("dbname") or os.environ.get("PGDATABASE") or user
    return f'database "{db}" on {host}:{port} as role {user}'
