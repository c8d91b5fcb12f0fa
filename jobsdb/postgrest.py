"""Call an RPC exactly the way PostgREST does (what `supabase.rpc(name, body)` becomes).

One transaction: one statement of `set_config(..., true)` for the role, `request.jwt.claims`
and `request.method`; then the function called with named arguments taken from the JSON body's
keys (PostgREST turns the body into a record typed by the parameters: json_to_record); the
result read as JSON (an array for set-returning functions); commit. On error the transaction
is rolled back and the psycopg error (with its sqlstate) is re-raised.

A caller that must survive any stored value (a worker reading jobs other clients wrote) asks
for the rows of a set-returning function with each field left as its JSON text
(`fields_as_text=True`) and decodes them one by one: one value it cannot decode then does not
hide the rows and fields it can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CommitUncertain(psycopg.OperationalError):
    """The call ran but COMMIT failed (typically a lost connection): it may have committed."""


class _Sig(NamedTuple):
    retset: bool
    types: dict[str, str]


_SIGS: dict[tuple[str, str], _Sig] = {}  # (database, function) -> signature


def as_user(user_id: object, **app_metadata: Any) -> dict[str, Any]:
    """JWT claims of a signed-in Supabase user (role authenticated, sub = user id)."""
    return {
        "sub": str(user_id),
        "role": "authenticated",
        "aud": "authenticated",
        "app_metadata": {"provider": "email", **app_metadata},
    }


def service_claims() -> dict[str, Any]:
    """JWT claims of the service key (what edge functions use)."""
    return {"role": "service_role"}


def _signature(conn: psycopg.Connection[Any], name: str) -> _Sig:
    key = (conn.info.dbname, name)
    if key not in _SIGS:
        rows = conn.execute(
            "select p.proretset, array(select pg_catalog.format_type(a.t, null)"
            "  from unnest(p.proargtypes) with ordinality as a (t, i) order by a.i),"
            " coalesce(p.proargnames, '{}')"
            " from pg_catalog.pg_proc as p"
            " where p.proname = %s and p.pronamespace = 'public'::pg_catalog.regnamespace",
            (name,),
        ).fetchall()
        if len(rows) != 1:
            raise psycopg.errors.UndefinedFunction(
                f"{len(rows)} functions public.{name}: need exactly one"
            )
        retset, types, names = rows[0]
        _SIGS[key] = _Sig(bool(retset), dict(zip(names, types, strict=False)))
    return _SIGS[key]


def _query(
    name: str, args: dict[str, Any], sig: _Sig, fields_as_text: bool = False
) -> sql.Composed:
    for key in (name, *args):
        if not _IDENT.match(key):
            raise ValueError(f"not an identifier: {key!r}")
    unknown = [k for k in args if k not in sig.types]
    if unknown:  # PostgREST answers 404: no function with these parameter names
        raise psycopg.errors.UndefinedFunction(
            f"function public.{name} has no parameter named {', '.join(unknown)}"
        )
    named = sql.SQL(", ").join(sql.SQL("{0} := a.{0}").format(sql.Identifier(k)) for k in args)
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(k), sql.SQL(sig.types[k])) for k in args
    )
    if not args:  # json_to_record needs at least one column
        cols = sql.SQL("_unused text")
    call = sql.SQL("public.{}({})").format(sql.Identifier(name), named)
    rec = sql.SQL("json_to_record(%(body)s::json) as a ({})").format(cols)
    if sig.retset and fields_as_text:
        return sql.SQL(
            "select coalesce(jsonb_agg(t.fields), '[]') from {}, lateral {} as r,"
            " lateral (select jsonb_object_agg(f.key, f.value::text) as fields"
            " from jsonb_each(to_jsonb(r)) as f) as t"
        ).format(rec, call)
    if sig.retset:
        return sql.SQL(
            "select coalesce(jsonb_agg(to_jsonb(r)), '[]') from {}, lateral {} as r"
        ).format(rec, call)
    return sql.SQL("select to_jsonb({}) from {}").format(call, rec)


def rpc(
    conn: psycopg.Connection[Any],
    name: str,
    args: dict[str, Any] | None = None,
    role: str = "authenticated",
    claims: dict[str, Any] | None = None,
    fields_as_text: bool = False,
    body: str | None = None,
    before_commit: Callable[[psycopg.Connection[Any]], None] | None = None,
) -> Any:
    """Call public.<name>(k := v, ...) as PostgREST would; return the JSON result.

    `before_commit(conn)`, if given, runs in the call's transaction after the call (a test reads
    what the call did there, e.g. pg_stat_xact_user_functions).

    `conn` must be outside a transaction. If COMMIT itself fails (typically a lost connection)
    CommitUncertain is raised: the call may or may not have taken effect. Any other error means
    nothing was committed. Values are sent as JSON (UUIDs, datetimes: their str()).
    With `fields_as_text` a set-returning function's rows come as {column: JSON text}.
    `body` sends that JSON text as the request body instead of json.dumps(args), the way a
    client's bytes reach PostgREST (e.g. numbers no Python type holds); args then only name
    the parameters, their values unused.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise psycopg.ProgrammingError("rpc() needs a connection outside a transaction")
    args = args or {}
    body_done = False
    try:
        with conn.transaction():
            sig = _signature(conn, name)
            conn.execute(
                "select set_config('role', %s, true),"
                " set_config('request.jwt.claims', %s, true),"
                " set_config('request.method', 'POST', true)",
                (role, json.dumps(claims) if claims is not None else ""),
            )
            text = json.dumps(args, default=str) if body is None else body
            row = conn.execute(_query(name, args, sig, fields_as_text),
                               {"body": text}).fetchone()
            if before_commit is not None:
                before_commit(conn)
            body_done = True
    except psycopg.Error as e:
        if body_done:
            raise CommitUncertain(f"commit of {name} failed: {e}") from e
        raise
    return row[0] if row else None
