"""A loopback stand-in for PostgREST's HTTP hop, for the edge functions' Deno tests.

POST /rpc/<name> with {"args": {...}, "jwt": "<token>" | null, "get": bool} runs
jobsdb.postgrest.rpc() (one transaction: set_config of role and request.jwt.claims, the function
called with named arguments) on a connection that logs in as `authenticator` (PostgREST's login
role: it can only become the roles granted to it) with search_path "public, extensions", read
only for GET calls. The JWT is verified (HS256, the project's JWT secret) and its claims become
the role and request.jwt.claims, as PostgREST does; no JWT means anon.

It answers {"data": ...} or {"error": {code, message, details, hint}} (PostgREST's error body);
an argument the function does not have is PostgREST's PGRST202. HTTP status mapping is the
edge functions' own business (supabase/functions/_shared/errors.ts), so the bridge does not
invent one. What stays unproven here: PostgREST's own HTTP layer (routing, its JWT cache,
headers).

Like PostgREST, it keeps its connections (a pool per kind, read-write and read-only): each call
is one transaction whose role and claims are transaction-local, so nothing of one call is left
for the next. A new connection per call cost about 26 ms against 3 ms for the call itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobsdb.postgrest import rpc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_jwt(claims: dict[str, Any], secret: str) -> str:
    """An HS256 JWT, as Supabase Auth (users) or a deployment's signing step (workers) makes."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def verify_jwt(token: str, secret: str) -> dict[str, Any] | None:
    try:
        head, body, sig = token.split(".")
    except ValueError:
        return None
    want = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, _unb64(sig)):
        return None
    claims = json.loads(_unb64(body))
    if not isinstance(claims, dict):
        return None
    if isinstance(claims.get("exp"), int | float) and claims["exp"] < time.time():
        return None  # PostgREST: 401 PGRST301 "JWT expired"
    return claims


class Bridge:
    """Serves on 127.0.0.1 (an ephemeral port) until close(); with serve=False, only call()
    (tests/py/app_stack.py serves it under PostgREST's own paths)."""

    def __init__(self, db_url: str, jwt_secret: str, serve: bool = True) -> None:
        params = conninfo_to_dict(db_url)
        params["user"] = "authenticator"
        self._rw = make_conninfo(**params, options="-c search_path=public,extensions")
        self._ro = make_conninfo(
            **params,
            options="-c search_path=public,extensions -c default_transaction_read_only=on",
        )
        self.secret = jwt_secret
        self.calls: list[tuple[str, str]] = []  # (function, role) of every call, for tests
        self._idle: dict[str, list[psycopg.Connection[Any]]] = {self._rw: [], self._ro: []}
        self._lock = threading.Lock()
        if not serve:
            return
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", "0"))
                req = json.loads(self.rfile.read(length) or b"{}")
                answer = bridge.call(self.path.removeprefix("/rpc/"), req)
                out = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def call(self, name: str, req: dict[str, Any]) -> dict[str, Any]:
        token = req.get("jwt")
        claims = verify_jwt(token, self.secret) if token else {"role": "anon"}
        if claims is None:  # PostgREST: 401 PGRST301
            return {"error": {"code": "PGRST301", "message": "JWSError JWSInvalidSignature",
                              "details": None, "hint": None}}
        role = str(claims.get("role", "anon"))
        self.calls.append((name, role))
        try:
            with self.connection(read_only=bool(req.get("get"))) as conn:
                data = rpc(conn, name, req.get("args") or {}, role=role,
                           claims=claims)
        except psycopg.Error as e:
            code = e.diag.sqlstate
            if code is None and isinstance(e, psycopg.errors.UndefinedFunction):
                code = "PGRST202"  # rpc()'s own check: no function with these argument names
            return {"error": {"code": code or "08000", "message": e.diag.message_primary or str(e),
                              "details": e.diag.message_detail, "hint": e.diag.message_hint}}
        return {"data": data}

    @contextmanager
    def connection(self, read_only: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """An authenticator connection (autocommit) from the pool; it goes back when it is
        idle and whole, else it is closed."""
        kind = self._ro if read_only else self._rw
        with self._lock:
            conn = self._idle[kind].pop() if self._idle[kind] else None
        if conn is None:
            conn = psycopg.connect(kind, autocommit=True)
        try:
            yield conn
        finally:
            if conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.close()
            else:
                with self._lock:
                    self._idle[kind].append(conn)

    def close(self) -> None:
        with self._lock:
            for conn in (c for idle in self._idle.values() for c in idle):
                conn.close()
            for idle in self._idle.values():
                idle.clear()
        if hasattr(self, "_server"):
            self._server.shutdown()
            self._server.server_close()
