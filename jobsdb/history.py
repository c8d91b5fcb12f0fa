"""Finished history out of PostgreSQL: one table (a partition of jobs, or any table) becomes one
Parquet file that DuckDB reads, proven equal to the table before anything may drop it.

How: inside one repeatable-read transaction (one snapshot), PostgreSQL computes the table's
fingerprint (row count, an order-independent checksum, min/max id), then streams the rows with
COPY ... TO STDOUT (COPY to a server file needs a superuser, which a Supabase project does not
have) through a named pipe into DuckDB, which types them and writes Parquet under a temporary
name. DuckDB then reads that file back and computes the same fingerprint; only when both agree is
the file renamed to its final name and its manifest written. No row is held in Python's memory.

The checksum: for every row, md5 over a canonical text of every column (each value as
`v<bytes>:<text>`, a null as `n`, so no two rows can run together), its first 30 hex digits taken
as two 60-bit numbers, each summed over the table. Sums are order-independent and count a
repeated row twice. Each engine writes the canonical text its own way (canonical_pg /
canonical_duck): timestamps as epoch microseconds, json as PostgreSQL's text of it (kept byte
for byte in the Parquet), decimals and uuids as their text.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from jobsdb import __version__, errors

CHUNK = 1 << 20
# Rows per Parquet row group. The file is sorted by user_id, so a user's jobs fall in one or two
# groups and DuckDB skips the others by their min/max: smaller groups mean less read per user
# (on 1,000,000 jobs, DuckDB's default of 122,880 took about 5 times as long per user as this),
# for a file about 3% larger.
ROW_GROUP = 16384


class VerifyError(errors.UserError):
    exit_code = errors.VERIFY


def need_duckdb():
    """DuckDB (the `history` extra): the runtime commands need psycopg alone."""
    try:
        import duckdb
    except ModuleNotFoundError as e:
        raise errors.SetupError(
            "`jobsdb history` needs DuckDB (the `history` extra): pip install 'jobsdb[history]'"
        ) from e
    return duckdb


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # format_type(), e.g. "numeric(6,2)", "timestamp with time zone"
    kind: str  # the canonical form's family: uuid, text, int, bool, ts, date, json, ...
    duck_type: str  # the Parquet column's DuckDB type

    @property
    def ident(self) -> str:
        return '"' + self.name.replace('"', '""') + '"'


@dataclass
class Fingerprint:
    rows: int
    checksum: str
    min_id: str | None
    max_id: str | None


@dataclass
class Manifest:
    table: str  # schema-qualified, as PostgreSQL names it
    file: str
    rows: int
    checksum: str
    min_id: str | None
    max_id: str | None
    bytes: int
    sha256: str
    exported_at: str
    jobsdb_release: str | None  # the release installed in the database, if any
    toolkit: str
    columns: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


_SIMPLE = {
    "uuid": ("uuid", "UUID"), "text": ("text", "VARCHAR"), "character varying": ("text", "VARCHAR"),
    "character": ("text", "VARCHAR"), "name": ("text", "VARCHAR"), "citext": ("text", "VARCHAR"),
    "smallint": ("int", "SMALLINT"), "integer": ("int", "INTEGER"), "bigint": ("int", "BIGINT"),
    "boolean": ("bool", "BOOLEAN"), "timestamp with time zone": ("ts", "TIMESTAMPTZ"),
    "timestamp without time zone": ("ts", "TIMESTAMP"), "date": ("date", "DATE"),
    "jsonb": ("json", "JSON"), "json": ("json", "JSON"), "bytea": ("bytea", "BLOB"),
    "double precision": ("float", "DOUBLE"), "real": ("float", "FLOAT"),
}
_ARRAY_OF = {"uuid": "UUID", "text": "VARCHAR", "character varying": "VARCHAR",
             "smallint": "SMALLINT", "integer": "INTEGER", "bigint": "BIGINT",
             "boolean": "BOOLEAN"}
_DECIMAL = re.compile(r"^numeric\((\d+),(\d+)\)$")


def column_for(name: str, pg_type: str) -> Column:
    """How a PostgreSQL column is kept in Parquet. numeric(p,s) up to 38 digits is a DECIMAL;
    unconstrained numeric stays exact as text (DuckDB's DECIMAL stops at 38 digits); a type
    without a counterpart here is kept as PostgreSQL's text of it."""
    base = re.sub(r"\(\d+\)$", "", pg_type)  # character varying(50) -> character varying
    if base in _SIMPLE:
        kind, duck = _SIMPLE[base]
        return Column(name, pg_type, kind, duck)
    m = _DECIMAL.match(pg_type)
    if m and int(m.group(1)) <= 38:
        return Column(name, pg_type, "decimal", f"DECIMAL({m.group(1)},{m.group(2)})")
    if pg_type.endswith("[]") and re.sub(r"\(\d+\)", "", pg_type[:-2]) in _ARRAY_OF:
        return Column(name, pg_type, "array",
                      _ARRAY_OF[re.sub(r"\(\d+\)", "", pg_type[:-2])] + "[]")
    return Column(name, pg_type, "text", "VARCHAR")


def columns(conn: psycopg.Connection[Any], table: str) -> tuple[str, list[Column]]:
    """The table's qualified name and columns; MissingFileError when there is no such table."""
    row = conn.execute(
        "select c.oid, format('%%I.%%I', n.nspname, c.relname) from pg_catalog.pg_class as c"
        " join pg_catalog.pg_namespace as n on n.oid = c.relnamespace"
        " where c.oid = pg_catalog.to_regclass(%s) and c.relkind in ('r', 'p')",
        (table,),
    ).fetchone()
    if row is None:
        raise errors.MissingFileError(
            f"no table {table!r} in this database: name a table or partition, schema-qualified"
            " (e.g. public.jobs)")
    cols = conn.execute(
        "select attname, pg_catalog.format_type(atttypid, atttypmod) from pg_catalog.pg_attribute"
        " where attrelid = %s and attnum > 0 and not attisdropped order by attnum",
        (row[0],),
    ).fetchall()
    return row[1], [column_for(n, t) for n, t in cols]


# ---- the canonical text of a value, in each engine -------------------------------------------


def canonical_pg(c: Column) -> str:
    x = c.ident
    return {
        "bool": f"case when {x} then 'true' when not {x} then 'false' end",
        "ts": f"case when isfinite({x}) then (extract(epoch from {x}) * 1000000)::bigint::text"
              f" else {x}::text end",
        "bytea": f"encode({x}, 'hex')",
        "array": f"array_to_json({x})::text",
    }.get(c.kind, f"{x}::text")


def canonical_duck(c: Column) -> str:
    x = c.ident
    return {
        "ts": f"CASE WHEN isfinite({x}) THEN CAST(epoch_us({x}) AS VARCHAR)"
              f" ELSE CAST({x} AS VARCHAR) END",
        "bytea": f"lower(hex({x}))",
        "float": _float_duck(x),
        "array": f"CAST(to_json({x}) AS VARCHAR)",
    }.get(c.kind, f"CAST({x} AS VARCHAR)")


def _float_duck(x: str) -> str:
    """PostgreSQL's text of a float (shortest digits that round-trip, as DuckDB's; exponent
    form from 1e15 on, where DuckDB starts at 1e16; no '.0' on whole numbers)."""
    s = f"CAST({x} AS VARCHAR)"
    digits = f"rtrim(regexp_replace({s}, '[-.]', '', 'g'), '0')"
    exp15 = (f"(CASE WHEN {x} < 0 THEN '-' ELSE '' END || left({digits}, 1)"
             f" || CASE WHEN length({digits}) > 1 THEN '.' || substr({digits}, 2) ELSE '' END"
             " || 'e+15')")
    return (f"CASE WHEN isnan({x}) THEN 'NaN' WHEN isinf({x}) AND {x} > 0 THEN 'Infinity'"
            f" WHEN isinf({x}) THEN '-Infinity' WHEN abs({x}) >= 1e15 AND abs({x}) < 1e16"
            f" THEN {exp15} ELSE regexp_replace({s}, '\\.0$', '') END")


def _row_text_pg(cols: list[Column]) -> str:
    """Over columns c0, c1, ... holding each column's canonical text (see fingerprint_pg)."""
    parts = [f"coalesce('v' || octet_length(c{i}) || ':' || c{i}, 'n')" for i in range(len(cols))]
    return "concat(" + ", ".join(parts) + ")"


def _row_text_duck(cols: list[Column]) -> str:
    parts = [f"coalesce('v' || CAST(strlen({e}) AS VARCHAR) || ':' || {e}, 'n')"
             for e in (canonical_duck(c) for c in cols)]
    return "concat(" + ", ".join(parts) + ")"


def _has_id(cols: list[Column]) -> bool:
    return any(c.name == "id" for c in cols)


def fingerprint_pg(conn: psycopg.Connection[Any], table: str, cols: list[Column]) -> Fingerprint:
    ids = ('min(id::text collate "C"), max(id::text collate "C")' if _has_id(cols)
           else "null, null")
    # each canonical text computed once (offset 0 keeps the planner from inlining the inner
    # select, which would compute it twice: its length, then the text); jsonb's text is the
    # dear part
    canon = ", ".join(f"{canonical_pg(c)} as c{i}" for i, c in enumerate(cols))
    id_col = ", id" if _has_id(cols) else ""
    q = (f"select count(*), coalesce(sum(('x0' || substr(h, 1, 15))::bit(64)::bigint), 0)"
         f" || '-' || coalesce(sum(('x0' || substr(h, 16, 15))::bit(64)::bigint), 0), {ids}"
         f" from (select md5({_row_text_pg(cols)}) as h{id_col}"
         f" from (select {canon}{id_col} from {table} offset 0) as v) as t")
    n, checksum, lo, hi = conn.execute(q).fetchone()  # type: ignore[misc]
    return Fingerprint(n, checksum, lo, hi)


def fingerprint_query_duck(cols: list[Column], source: str) -> str:
    """DuckDB's query of the fingerprint over `source` (a table expression with the columns)."""
    ids = ("min(CAST(id AS VARCHAR)), max(CAST(id AS VARCHAR))" if _has_id(cols)
           else "NULL, NULL")
    return (f"SELECT count(*), CAST(coalesce(sum(CAST('0x' || substr(h, 1, 15) AS BIGINT)), 0)"
            f" AS VARCHAR) || '-' || CAST(coalesce(sum(CAST('0x' || substr(h, 16, 15) AS"
            f" BIGINT)), 0) AS VARCHAR), {ids}"
            f" FROM (SELECT md5({_row_text_duck(cols)}) AS h, * FROM {source})")


def fingerprint_parquet(path: Path | str, cols: list[Column]) -> Fingerprint:
    """The same fingerprint over a Parquet file; VerifyError when DuckDB cannot read it."""
    duckdb = need_duckdb()
    q = fingerprint_query_duck(cols, "read_parquet(?)")
    try:
        with duckdb.connect() as db:
            db.execute("SET TimeZone = 'UTC'")
            db.execute("SET enable_progress_bar = false")
            n, checksum, lo, hi = db.execute(q, [str(path)]).fetchone()  # type: ignore[misc]
    except (duckdb.Error, UnicodeDecodeError) as e:  # a damaged file: bytes in the message too
        raise VerifyError(f"{path}: DuckDB cannot read it as this table's Parquet:"
                          f" {errors.one_line(str(e))[:300]}") from e
    return Fingerprint(n, checksum, lo, hi)


def compare(want: Fingerprint, got: Fingerprint, what: str) -> None:
    for name in ("rows", "checksum", "min_id", "max_id"):
        if getattr(want, name) != getattr(got, name):
            raise VerifyError(
                f"{what} does not match the table: {name} {getattr(got, name)} in the Parquet,"
                f" {getattr(want, name)} in PostgreSQL; nothing may be dropped on it")


def verify_file(parquet: Path, manifest: Manifest | None = None) -> Manifest:
    """Check a written Parquet file against its manifest (<file>.json beside it): the bytes'
    sha256, the row count, the checksum, min/max id. Raises VerifyError."""
    if manifest is None:
        mpath = manifest_path(parquet)
        if not mpath.is_file():
            raise errors.MissingFileError(f"no manifest {mpath} beside {parquet}")
        manifest = Manifest(**json.loads(mpath.read_text()))
    digest = sha256_of(parquet)
    if digest != manifest.sha256:
        raise VerifyError(f"{parquet}: its bytes changed since the export (sha256 {digest[:12]}…,"
                          f" the manifest says {manifest.sha256[:12]}…)")
    cols = [column_for(c["name"], c["pg_type"]) for c in manifest.columns]
    compare(Fingerprint(manifest.rows, manifest.checksum, manifest.min_id, manifest.max_id),
            fingerprint_parquet(parquet, cols), str(parquet))
    return manifest


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(CHUNK):
            h.update(b)
    return h.hexdigest()


def file_name(table: str) -> str:
    """public.jobs -> public.jobs.parquet (quotes dropped; the name as PostgreSQL shows it)."""
    return table.replace('"', "") + ".parquet"


def manifest_path(parquet: Path) -> Path:
    return parquet.with_name(parquet.name + ".json")


# ---- the export -----------------------------------------------------------------------------


def _copy_select(table: str, cols: list[Column]) -> str:
    exprs = []
    for c in cols:
        if c.kind == "array":
            exprs.append(f"array_to_json({c.ident})::text")
        elif c.kind == "bytea":
            exprs.append(f"encode({c.ident}, 'hex')")
        else:
            exprs.append(c.ident)
    return f"select {', '.join(exprs)} from {table}"


def _duck_select(cols: list[Column], source: str) -> str:
    """DuckDB's SELECT over the CSV stream: the stream's columns are text where DuckDB's CSV
    reader cannot parse PostgreSQL's form (arrays arrive as JSON, bytea as hex)."""
    outs = []
    for c in cols:
        if c.kind == "array":
            outs.append(f"CAST(CAST({c.ident} AS JSON) AS {c.duck_type}) AS {c.ident}")
        elif c.kind == "bytea":
            outs.append(f"unhex({c.ident}) AS {c.ident}")
        else:
            outs.append(c.ident)
    order = " ORDER BY user_id, id" if {"user_id", "id"} <= {c.name for c in cols} else ""
    return f"SELECT {', '.join(outs)} FROM {source}{order}"


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _csv_types(cols: list[Column]) -> str:
    def t(c: Column) -> str:
        return "VARCHAR" if c.kind in ("array", "bytea") else c.duck_type
    return "{" + ", ".join(f"'{c.name.replace(chr(39), chr(39) * 2)}': '{t(c)}'"
                           for c in cols) + "}"


def write_parquet(conn: psycopg.Connection[Any], table: str, cols: list[Column],
                  out: Path, workdir: Path) -> None:
    """Stream the table (in conn's transaction) into a Parquet file at `out`, through a named
    pipe: a thread copies PostgreSQL's CSV into it while DuckDB reads it."""
    duckdb = need_duckdb()

    fifo = workdir / f".copy-{os.getpid()}-{threading.get_ident()}.csv"
    os.mkfifo(fifo, 0o600)
    failure: list[BaseException] = []

    def feed() -> None:
        try:
            with open(fifo, "wb") as pipe, conn.cursor().copy(
                sql.SQL("copy ({}) to stdout (format csv, force_quote *)").format(
                    sql.SQL(_copy_select(table, cols)))  # type: ignore[arg-type]
            ) as copy:
                for chunk in copy:
                    pipe.write(chunk)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            failure.append(e)

    feeder = threading.Thread(target=feed, name="jobsdb-history-copy", daemon=True)
    feeder.start()
    source = (f"read_csv({_lit(fifo)}, header = false, delim = ',', quote = '\"', escape = '\"',"
              f" nullstr = '', allow_quoted_nulls = false, auto_detect = false,"
              f" columns = {_csv_types(cols)})")
    try:
        with duckdb.connect() as db:
            db.execute("SET TimeZone = 'UTC'")
            db.execute("SET enable_progress_bar = false")
            db.execute("SET temp_directory = ?", [str(workdir / ".duckdb-spill")])
            db.execute("SET preserve_insertion_order = false")
            db.execute(f"COPY ({_duck_select(cols, source)}) TO {_lit(out)}"
                       f" (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP})")
    except duckdb.Error as e:
        if failure:
            raise failure[0] from e
        raise VerifyError(f"DuckDB could not write {table} as Parquet:"
                          f" {errors.one_line(str(e))[:300]}") from e
    finally:
        # a DuckDB that stopped early leaves the writer blocked on the pipe: open and close its
        # reading end so the writer gets a broken pipe and ends
        try:
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
        feeder.join()
        fifo.unlink(missing_ok=True)
    if failure:
        raise failure[0]


def export_to_dir(url: str, table: str, directory: Path,
                  log: Callable[[str], None] = lambda s: None) -> tuple[Path, Manifest]:
    """Export `table` to <directory>/<schema.table>.parquet and its manifest (.parquet.json).
    Nothing is under the final names unless the file was verified; an earlier export of the
    same table is replaced only by a verified one. Raises VerifyError on a mismatch."""
    _check_writable(directory)
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("set transaction isolation level repeatable read, read only")
        conn.execute("set local timezone = 'UTC'")
        conn.execute("set local datestyle = 'ISO, YMD'")
        conn.execute("set local intervalstyle = 'postgres'")
        conn.execute("set local extra_float_digits = 1")
        qualified, cols = columns(conn, table)
        release = _installed_release(conn)
        final = directory / file_name(qualified)
        tmp = directory / f".{final.name}.tmp-{os.getpid()}"
        log(f"fingerprint of {qualified} in PostgreSQL")
        want = fingerprint_pg(conn, qualified, cols)
        log(f"{want.rows} rows; streaming them to Parquet")
        try:
            with tempfile.TemporaryDirectory(dir=directory, prefix=".jobsdb-history-") as work:
                write_parquet(conn, qualified, cols, tmp, Path(work))
            conn.rollback()
            log("reading the Parquet back")
            compare(want, fingerprint_parquet(tmp, cols), f"the Parquet of {qualified}")
            manifest = Manifest(
                table=qualified, file=final.name, rows=want.rows, checksum=want.checksum,
                min_id=want.min_id, max_id=want.max_id, bytes=tmp.stat().st_size,
                sha256=sha256_of(tmp),
                exported_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                jobsdb_release=release, toolkit=__version__,
                columns=[{"name": c.name, "pg_type": c.pg_type, "parquet_type": c.duck_type}
                         for c in cols],
            )
            mtmp = directory / f".{final.name}.json.tmp-{os.getpid()}"
            mtmp.write_text(manifest.to_json())
            manifest_path(final).unlink(missing_ok=True)  # no old manifest beside a new file
            os.replace(tmp, final)
            os.replace(mtmp, manifest_path(final))
        finally:
            tmp.unlink(missing_ok=True)
            (directory / f".{final.name}.json.tmp-{os.getpid()}").unlink(missing_ok=True)
    return final, manifest


def _installed_release(conn: psycopg.Connection[Any]) -> str | None:
    if conn.execute("select to_regprocedure('jobs_private.installed_release()')").fetchone()[0]:
        return conn.execute("select jobs_private.installed_release()").fetchone()[0]
    return None


def _check_writable(directory: Path) -> None:
    """Before any work: the directory exists or can be made, and a file can be written in it
    (a real write: as root, permission bits say nothing)."""
    if directory.exists() and not directory.is_dir():
        raise errors.UsageError(f"{directory} is not a directory: give a directory or an"
                                " s3://bucket/prefix URL")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".jobsdb-history-probe-"):
            pass
    except OSError as e:
        raise errors.PrivilegeError(
            f"cannot write into {directory}: {e.strerror or e}; give a directory this user may"
            " write") from None
