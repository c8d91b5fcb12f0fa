"""A local stack for the example web app (app/web) and the client's tests: the real database,
and stand-ins for the Supabase services that cannot run here, under the paths supabase-js uses,
on one origin (http://127.0.0.1:PORT):

  /rest/v1/rpc/<fn>   PostgREST: the RPC as PostgREST runs it, through postgrest_bridge (a
                      login as authenticator, the JWT's role and claims, named arguments,
                      read-only for GET), with PostgREST's error body and HTTP status
  /rest/v1/<table>    PostgREST's plain select, the subset the app uses: select=columns,
                      <column>=eq.<value>, order=<column>.asc|desc, limit=N, under RLS
  /auth/v1/...        Auth: password sign-in, refresh, the user, sign-out, admin user creation;
                      users are written to auth.users as Auth writes them; HS256 JWTs
  /realtime/v1/websocket  Realtime Broadcast from the database (realtime_stand_in.py)
  /storage/v1/object/sign/...  Storage's signed URLs for the outputs: signing is allowed when
                      the user can see the output (images_videos under RLS); the file is a
                      generated picture (no file was ever uploaded)
  /functions/v1/<name>  the edge functions' own handlers (supabase/functions), served by Deno
                      (supabase/functions/tests/gateway.ts) with the production supabase-js
                      client pointed back at this stack's /rest/v1
  /                   the example app (app/web/dist), and /app-config.json (URL and anon key)

What each stand-in leaves unproven is listed in docs/app.md ("The example app's local stack").
Run it by hand with `make app-example` (python tests/py/app_stack.py).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import mimetypes
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from postgrest_bridge import Bridge, sign_jwt, verify_jwt
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from realtime_stand_in import Realtime, WebSocket, accept_key

from jobsdb.testdb import drop_realtime_role

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
DENO = TOOLS / "node_modules" / ".bin" / "deno"
WEB = ROOT / "app" / "web"
REALTIME_FIXTURE = ROOT / "tests" / "fixtures" / "supabase_realtime.sql"
TOKEN_SECONDS = 3600


def http_status(code: str, anonymous: bool) -> int:
    """PostgREST's status for an error code (as supabase/functions/_shared/http.ts statusFor)."""
    if m := re.fullmatch(r"PT([1-5][0-9][0-9])", code):
        return int(m.group(1))
    if code == "42501":
        return 401 if anonymous else 403
    if code in ("23505", "23503"):
        return 409
    if code.startswith("22") or code in ("23514", "P0001"):
        return 400
    if code == "25006":
        return 405
    if code in ("42883", "PGRST202"):
        return 404
    if code in ("PGRST301", "PGRST302"):
        return 401
    if code in ("PGRST100", "PGRST116"):
        return 400
    return 500


def _error(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": None, "hint": hint}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    raw: bytes | None = None


class Stack:
    """The stand-ins for one database; serve() answers on 127.0.0.1:port until close()."""

    def __init__(self, owner_url: str, superuser_url: str, port: int = 0,
                 jwt_secret: str | None = None, functions: bool = False,
                 static_dir: Path | None = None, controls: bool = False) -> None:
        self.owner_url = owner_url
        self.superuser_url = superuser_url
        self.secret = jwt_secret or secrets.token_urlsafe(32)
        self.bridge = Bridge(owner_url, self.secret, serve=False)
        self.anon_key = self.sign({"role": "anon", "iss": "supabase"}, days=3650)
        self.service_key = self.sign({"role": "service_role", "iss": "supabase"}, days=3650)
        self.passwords: dict[str, tuple[str, str]] = {}  # email -> (salt, digest)
        self.refresh_tokens: dict[str, str] = {}  # token -> user id
        self.calls: list[tuple[str, str, str | None]] = []  # (function, role, sub)
        self.static_dir = static_dir
        self.controls = controls  # the tests' /_stand_in/ endpoints
        self.realtime = Realtime(superuser_url, self.secret)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.gateway: subprocess.Popen[str] | None = None
        self.gateway_url: str | None = None
        if functions:
            self._start_gateway()

    # ---- tokens and users ---------------------------------------------------------------

    def sign(self, claims: dict[str, Any], days: float = 0, seconds: int = TOKEN_SECONDS) -> str:
        now = int(time.time())
        exp = now + (int(days * 86400) if days else seconds)
        return sign_jwt({**claims, "iat": now, "exp": exp}, self.secret)

    def user_jwt(self, user_id: str, email: str = "", seconds: int = TOKEN_SECONDS) -> str:
        return self.sign({"sub": user_id, "role": "authenticated", "aud": "authenticated",
                          "email": email, "app_metadata": {"provider": "email"},
                          "user_metadata": {}, "session_id": str(uuid.uuid4())},
                         seconds=seconds)

    def create_user(self, email: str, password: str, admin: bool = False) -> str:
        """A user as Auth creates one (auth.users and auth.identities), with a password this
        stand-in checks; an admin also gets the package's admin role (user_roles)."""
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            user_id = str(conn.execute("select tests.create_auth_user(%s)",
                                       (email,)).fetchone()[0])
        if admin:
            self.make_admin(user_id)
        salt = secrets.token_hex(8)
        self.passwords[email.lower()] = (salt, self._digest(salt, password))
        return user_id

    def make_admin(self, user_id: str) -> None:
        """The package's admin role, as docs/app.md makes one (user_roles needs a profile)."""
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            conn.execute("insert into public.profiles (id) values (%s) on conflict do nothing",
                         (user_id,))
            conn.execute("insert into public.user_roles (user_id, role) values (%s, 'admin')",
                         (user_id,))

    @staticmethod
    def _digest(salt: str, password: str) -> str:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()

    def _user(self, user_id: str) -> dict[str, Any] | None:
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            row = conn.execute(
                "select id, email, raw_app_meta_data, raw_user_meta_data, created_at"
                " from auth.users where id = %s", (user_id,)).fetchone()
        if row is None:
            return None
        return {"id": str(row[0]), "aud": "authenticated", "role": "authenticated",
                "email": row[1], "app_metadata": row[2] or {}, "user_metadata": row[3] or {},
                "identities": [], "created_at": row[4].isoformat(),
                "updated_at": row[4].isoformat(), "email_confirmed_at": row[4].isoformat()}

    def _session(self, user: dict[str, Any]) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = user["id"]
        return {"access_token": self.user_jwt(user["id"], user["email"]),
                "token_type": "bearer", "expires_in": TOKEN_SECONDS,
                "expires_at": int(time.time()) + TOKEN_SECONDS, "refresh_token": refresh,
                "user": user}

    # ---- HTTP --------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _dispatch(self) -> None:
                if self.path.startswith("/realtime/v1/websocket"):
                    self._websocket()
                    return
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    reply = stack.route(self.command, self.path, dict(self.headers), body)
                except Exception as e:  # noqa: BLE001 (a stand-in fault: an opaque 500)
                    print(f"app stack: {self.command} {self.path}: {e!r}", file=sys.stderr)
                    reply = Reply(500, _error("internal", "stand-in error"))
                raw = reply.raw if reply.raw is not None else (
                    b"" if reply.body is None and reply.status == 204
                    else json.dumps(reply.body).encode())
                self.send_response(reply.status)
                headers = {"content-type": "application/json", **(reply.headers or {})}
                headers.setdefault("access-control-allow-origin", "*")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(raw)

            def _websocket(self) -> None:
                key = self.headers.get("sec-websocket-key")
                if not key or self.headers.get("upgrade", "").lower() != "websocket":
                    self.send_error(400)
                    return
                if stack.realtime.paused:
                    self.send_error(503)
                    return
                self.send_response(101, "Switching Protocols")
                self.send_header("upgrade", "websocket")
                self.send_header("connection", "Upgrade")
                self.send_header("sec-websocket-accept", accept_key(key))
                self.end_headers()
                self.wfile.flush()
                stack.realtime.serve(WebSocket(self.connection, self.rfile))
                self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PATCH = do_DELETE = do_OPTIONS = _dispatch  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        headers = {k.lower(): v for k, v in headers.items()}
        url = urlsplit(path)
        if method == "OPTIONS":
            return Reply(204, None, {
                "access-control-allow-origin": "*",
                "access-control-allow-headers": headers.get("access-control-request-headers",
                                                            "*"),
                "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS"})
        p = url.path
        if p.startswith("/rest/v1/rpc/"):
            return self._rpc(method, p.removeprefix("/rest/v1/rpc/"), url.query, headers, body)
        if p.startswith("/rest/v1/"):
            return self._select(method, p.removeprefix("/rest/v1/"), url.query, headers)
        if p.startswith("/auth/v1/"):
            return self._auth(method, p.removeprefix("/auth/v1/"), url.query, headers, body)
        if p.startswith("/storage/v1/object/sign/"):
            return self._storage(method, unquote(p.removeprefix("/storage/v1/object/sign/")),
                                 url.query, headers, body)
        if p.startswith("/functions/v1/"):
            return self._function(method, path, headers, body)
        if p.startswith("/_stand_in/") and self.controls:
            return self._control(method, p.removeprefix("/_stand_in/"), body)
        if p == "/app-config.json":
            return Reply(200, {"supabaseUrl": self.url, "anonKey": self.anon_key})
        return self._static(p)

    # -- PostgREST

    def _claims(self, headers: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
        """The request's JWT claims (Authorization, else the apikey), or None when invalid."""
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else headers.get("apikey")
        if not token:
            return {"role": "anon"}, None
        return verify_jwt(token, self.secret), token

    def _rpc(self, method: str, fn: str, query: str, headers: dict[str, str],
             body: bytes) -> Reply:
        get = method in ("GET", "HEAD")
        if get:
            args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        else:
            try:
                args = json.loads(body or b"{}")
            except json.JSONDecodeError:
                return Reply(400, _error("PGRST102", "Empty or invalid json"))
        claims, token = self._claims(headers)
        role = str((claims or {}).get("role", "anon"))
        self.calls.append((fn, role, (claims or {}).get("sub")))
        answer = self.bridge.call(fn, {"args": args, "jwt": token, "get": get})
        if "error" in answer:
            err = answer["error"]
            return Reply(http_status(err["code"] or "", role == "anon"), err)
        return Reply(200, answer["data"])

    def _select(self, method: str, table: str, query: str, headers: dict[str, str]) -> Reply:
        if method not in ("GET", "HEAD"):
            return Reply(405, _error("PGRST000", "the stand-in serves selects only"))
        claims, _ = self._claims(headers)
        if claims is None:
            return Reply(401, _error("PGRST301", "JWSError JWSInvalidSignature"))
        role = str(claims.get("role", "anon"))
        with self.bridge.connection(read_only=True) as conn:
            columns = {r[0] for r in conn.execute(
                "select a.attname from pg_catalog.pg_attribute as a"
                " join pg_catalog.pg_class as c on c.oid = a.attrelid"
                " where c.relnamespace = 'public'::regnamespace and c.relname = %s"
                " and a.attnum > 0 and not a.attisdropped", (table,))}
            if not columns:
                return Reply(404, _error("42P01", f'relation "public.{table}" does not exist'))
            select, where, order, limit, params = ["*"], [], [], None, []
            for key, value in parse_qsl(query, keep_blank_values=True):
                if key == "select":
                    select = [c.strip() for c in value.split(",") if c.strip()]
                elif key == "order":
                    for part in value.split(","):
                        col, _, direction = part.partition(".")
                        order.append((col, direction.split(".")[0] or "asc"))
                elif key == "limit":
                    limit = int(value)
                elif value.startswith("eq."):
                    where.append(key)
                    params.append(value[3:])
                else:
                    return Reply(400, _error("PGRST100", f"the stand-in has no filter {value}"))
            used = set(where) | {c for c, _ in order} | (set(select) - {"*"})
            if used - columns or any(d not in ("asc", "desc") for _, d in order):
                return Reply(400, _error("PGRST100", f"unknown column in {sorted(used)}"))
            q = sql.SQL("select coalesce(json_agg(t), '[]') from (select {} from public.{}{}{}{})"
                        " as t").format(
                sql.SQL("*") if select == ["*"] else
                sql.SQL(", ").join(map(sql.Identifier, select)),
                sql.Identifier(table),
                sql.SQL(" where ") + sql.SQL(" and ").join(
                    sql.SQL("{}::text = %s").format(sql.Identifier(c)) for c in where)
                if where else sql.SQL(""),
                sql.SQL(" order by ") + sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(d)) for c, d in order)
                if order else sql.SQL(""),
                sql.SQL(" limit {}").format(sql.Literal(limit)) if limit is not None
                else sql.SQL(""),
            )
            try:
                with conn.transaction():
                    conn.execute("select set_config('role', %s, true),"
                                 " set_config('request.jwt.claims', %s, true)",
                                 (role, json.dumps(claims)))
                    rows = conn.execute(q, params).fetchone()[0]
            except psycopg.Error as e:
                code = e.diag.sqlstate or "XX000"
                return Reply(http_status(code, role == "anon"),
                             _error(code, e.diag.message_primary or str(e)))
        return Reply(200, rows)

    # -- Auth

    def _auth(self, method: str, path: str, query: str, headers: dict[str, str],
              body: bytes) -> Reply:
        data = json.loads(body or b"{}")
        q = dict(parse_qsl(query))
        if path == "token" and q.get("grant_type") == "password":
            email = str(data.get("email", "")).lower()
            known = self.passwords.get(email)
            if not known or self._digest(known[0], str(data.get("password", ""))) != known[1]:
                return Reply(400, {"code": 400, "error_code": "invalid_credentials",
                                   "msg": "Invalid login credentials"})
            with psycopg.connect(self.owner_url, autocommit=True) as conn:
                user_id = str(conn.execute("select id from auth.users where lower(email) = %s",
                                           (email,)).fetchone()[0])
            user = self._user(user_id)
            assert user is not None
            return Reply(200, self._session(user))
        if path == "token" and q.get("grant_type") == "refresh_token":
            user_id = self.refresh_tokens.pop(str(data.get("refresh_token")), None)
            user = self._user(user_id) if user_id else None
            if user is None:
                return Reply(400, {"code": 400, "error_code": "refresh_token_not_found",
                                   "msg": "Invalid Refresh Token: Refresh Token Not Found"})
            return Reply(200, self._session(user))
        claims, _ = self._claims(headers)
        if path == "user" and method == "GET":
            user = self._user(str(claims.get("sub"))) if claims and claims.get("sub") else None
            if user is None:
                return Reply(401, {"code": 401, "error_code": "bad_jwt",
                                   "msg": "invalid JWT"})
            return Reply(200, user)
        if path == "logout":
            return Reply(204)
        if path == "admin/users" and method == "POST":
            if not claims or claims.get("role") != "service_role":
                return Reply(403, {"code": 403, "error_code": "not_admin",
                                   "msg": "User not allowed"})
            user_id = self.create_user(str(data["email"]), str(data["password"]))
            return Reply(200, self._user(user_id))
        return Reply(404, {"code": 404, "error_code": "not_found", "msg": f"no {path}"})

    # -- Storage

    def _storage(self, method: str, object_path: str, query: str, headers: dict[str, str],
                 body: bytes) -> Reply:
        bucket, _, name = object_path.partition("/")
        if method == "POST":
            claims, _ = self._claims(headers)
            if claims is None or not self._may_read_object(claims, bucket, name):
                return Reply(400, {"statusCode": "404", "error": "not_found",
                                   "message": "Object not found"})
            expires = int(json.loads(body or b"{}").get("expiresIn", 60))
            token = self.sign({"url": f"{bucket}/{name}"}, seconds=expires)
            return Reply(200, {"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})
        token = dict(parse_qsl(query)).get("token", "")
        claims = verify_jwt(token, self.secret)
        if not claims or claims.get("url") != f"{bucket}/{name}":
            return Reply(400, {"statusCode": "403", "error": "InvalidSignature",
                               "message": "invalid signature"})
        label = html.escape(name.rsplit("/", 1)[-1][:28])
        hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256">'
               f'<rect width="256" height="256" fill="hsl({hue},60%,55%)"/>'
               f'<text x="128" y="136" font-size="12" text-anchor="middle" fill="#fff">'
               f'{label}</text></svg>')
        return Reply(200, raw=svg.encode(), headers={"content-type": "image/svg+xml",
                                                      "cache-control": "max-age=3600"})

    def _may_read_object(self, claims: dict[str, Any], bucket: str, name: str) -> bool:
        """The output (or its thumbnail) is one the user can see: images_videos under RLS."""
        with self.bridge.connection(read_only=True) as conn, conn.transaction():
            conn.execute("select set_config('role', %s, true),"
                         " set_config('request.jwt.claims', %s, true)",
                         (str(claims.get("role", "anon")), json.dumps(claims)))
            try:
                return conn.execute(
                    "select exists (select from public.images_videos"
                    " where bucket = %s and (file_path = %s or thumbnail_path = %s))",
                    (bucket, name, name)).fetchone()[0]
            except psycopg.errors.InsufficientPrivilege:
                return False

    # -- Edge functions

    def _start_gateway(self) -> None:
        env = {**os.environ, "DENO_DIR": str(TOOLS / "deno"), "NO_COLOR": "1",
               "SUPABASE_URL": self.url, "SUPABASE_ANON_KEY": self.anon_key,
               "SUPABASE_SERVICE_ROLE_KEY": self.service_key,
               "JOB_CALLBACK_SECRETS": secrets.token_urlsafe(33)}
        self.gateway = subprocess.Popen(
            [str(DENO), "run", "--frozen", "--cached-only", "--no-prompt", "--allow-env",
             "--allow-net=127.0.0.1", "tests/gateway.ts"],
            cwd=ROOT / "supabase" / "functions", env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
            # a group of its own: npm's `deno` is a launcher that runs the real binary as its
            # child, which a signal to the launcher alone would leave running
            start_new_session=True)
        assert self.gateway.stdout is not None
        line = self.gateway.stdout.readline()  # "listening on http://127.0.0.1:PORT"
        if "listening on" not in line:
            os.killpg(self.gateway.pid, signal.SIGKILL)
            rest = self.gateway.stdout.read()
            raise RuntimeError(f"the edge functions' gateway did not start: {line}{rest}")
        self.gateway_url = line.split("listening on", 1)[1].strip()
        threading.Thread(target=self._drain_gateway, daemon=True).start()

    def _drain_gateway(self) -> None:
        assert self.gateway is not None and self.gateway.stdout is not None
        for line in self.gateway.stdout:
            print(f"gateway: {line.rstrip()}", file=sys.stderr)

    def _function(self, method: str, path: str, headers: dict[str, str],
                  body: bytes) -> Reply:
        if not self.gateway_url:
            return Reply(404, _error("not_found", "edge functions are not served"))
        req = urllib.request.Request(
            self.gateway_url + path, data=body if method not in ("GET", "HEAD") else None,
            method=method,
            headers={k: v for k, v in headers.items()
                     if k in ("authorization", "apikey", "content-type", "x-client-info")})
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                status, raw, ctype = res.status, res.read(), res.headers.get("content-type")
        except urllib.error.HTTPError as e:
            status, raw, ctype = e.code, e.read(), e.headers.get("content-type")
        return Reply(status, raw=raw, headers={"content-type": ctype or "application/json"})

    # -- test controls (only with controls=True)

    def _control(self, method: str, what: str, body: bytes) -> Reply:
        data = json.loads(body or b"{}")
        if what == "faults" and method == "POST":
            self.realtime.set_faults(**data)
            return Reply(200, {})
        if what == "disconnect" and method == "POST":
            return Reply(200, {"cut": self.realtime.disconnect_all()})
        if what == "promote" and method == "POST":
            self.make_admin(str(data["user_id"]))
            return Reply(200, {})
        if what == "pause" and method == "POST":
            self.realtime.pause(bool(data.get("on")))
            return Reply(200, {})
        if what == "stats":
            return Reply(200, {
                "faults": self.realtime.faults.counts,
                "calls": [list(c) for c in self.calls],
                "deliveries": self.realtime.deliveries,
                "joins": [list(j) for j in self.realtime.joins],
                "sessions": len(self.realtime.sessions),
            })
        return Reply(404, _error("not_found", what))

    # -- the example app

    def _static(self, path: str) -> Reply:
        if self.static_dir is None:
            return Reply(404, _error("not_found", path))
        name = "index.html" if path in ("", "/") else path.lstrip("/")
        file = (self.static_dir / name).resolve()
        if not file.is_relative_to(self.static_dir.resolve()) or not file.is_file():
            return Reply(404, _error("not_found", path))
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return Reply(200, raw=file.read_bytes(),
                     headers={"content-type": ctype, "cache-control": "no-store"})

    def close(self) -> None:
        if self.gateway:
            try:
                os.killpg(self.gateway.pid, signal.SIGTERM)
                self.gateway.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.gateway.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.realtime.close()
        self._server.shutdown()
        self._server.server_close()
        self.bridge.close()


# ---- set-up: the database, the web bundle, the workers ------------------------------------


def enable_realtime(owner_url: str, superuser_url: str) -> None:
    """Supabase Realtime's own objects (the test fixture), then the package's broadcast. The
    database commits synchronously, as a Supabase database does: the embedded cluster's
    asynchronous commits reach the WAL, and so logical decoding, only at the WAL writer's next
    flush (up to 200 ms later), which would add that to every message's delivery."""
    with psycopg.connect(superuser_url, autocommit=True) as su:
        if not su.execute("select to_regclass('realtime.messages')").fetchone()[0]:
            su.execute(REALTIME_FIXTURE.read_text())
    with psycopg.connect(owner_url, autocommit=True) as conn:
        assert conn.execute("select jobs_private.enable_realtime_broadcast()").fetchone()[0]
        conn.execute(sql.SQL("alter database {} set synchronous_commit = on").format(
            sql.Identifier(conninfo_to_dict(owner_url)["dbname"])))


def build_web(out: Path | None = None) -> Path:
    """Bundle app/web (React, supabase-js, the client) with esbuild into app/web/dist."""
    out = out or WEB / "dist"
    r = subprocess.run(["node", str(WEB / "build.mjs"), str(TOOLS / "node_modules"), str(out)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"building app/web failed:\n{r.stdout}{r.stderr}")
    return out


class Workers:
    """`jobsdb worker` processes running the example callable (jobsdb.examples:render)."""

    def __init__(self, db_url: str, pools: dict[str, int], log: Path | None = None) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        out = log.open("ab") if log else subprocess.DEVNULL
        for pool, concurrency in pools.items():
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "jobsdb.cli", "worker", pool, "jobsdb.examples:render",
                 "--url", db_url, "--worker-id", f"example-{pool}", "--concurrency",
                 str(concurrency), "--poll", "1", "--heartbeat", "5", "--lease-seconds", "30",
                 "--rescue-every", "5", "--grace", "5", "--log-json"],
                stdout=subprocess.DEVNULL, stderr=out))

    def stop(self) -> None:
        """SIGTERM to every worker, then 30 s for all of them together (they hand back their
        jobs within --grace), then SIGKILL to the rest."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main(argv: list[str] | None = None) -> int:
    """Serve the example app on a database of its own: `make app-example`."""
    sys.path.insert(0, str(ROOT))
    from jobsdb import embedded, package_migrate
    from jobsdb.shim import apply_shim
    from jobsdb.urls import url_for_db

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=56350)
    ap.add_argument("--database", default="jobsdb_app_example")
    args = ap.parse_args(argv)
    embedded.start(quiet=True)
    owner, su = embedded.owner_url(), embedded.superuser_url()
    assert su, "the example needs the embedded cluster's superuser"
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(args.database)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(args.database)))
    db, db_su = url_for_db(owner, args.database), url_for_db(su, args.database)
    stack = workers = None
    try:
        apply_shim(su, args.database, quiet=True)
        package_migrate.up(db, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute((ROOT / "tests" / "helpers.sql").read_text())
        enable_realtime(db, db_su)
        dist = build_web()
        stack = Stack(db, db_su, port=args.port, functions=True, static_dir=dist)
        password = secrets.token_urlsafe(9)
        stack.create_user("user@example.com", password)
        stack.create_user("admin@example.com", password, admin=True)
        workers = Workers(db, {"sdxl": 3, "wan": 1})
        print(f"the example app: {stack.url}/  (user@example.com or admin@example.com,"
              f" password {password}); Ctrl-C stops it", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        # Ctrl-C stops it even when it was started with SIGINT ignored (what a background job
        # of a non-interactive shell inherits), which Python then leaves ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    finally:
        # each step said as it starts: a stop that hangs names its part
        if workers:
            print("stopping the workers", flush=True)
            workers.stop()
        if stack:
            print("stopping the stack", flush=True)
            stack.close()
        print(f"dropping the database {args.database}", flush=True)
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(args.database)))
        drop_realtime_role(su)
    return 0


if __name__ == "__main__":
    sys.exit(main())
