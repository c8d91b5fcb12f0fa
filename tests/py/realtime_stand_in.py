"""A stand-in for Supabase Realtime's Broadcast from the database, for the app's tests.

What it does as Realtime does (facts from supabase/realtime: the replication connection,
BatchBroadcast and the channel authorization):
- reads realtime.messages by logical replication (pgoutput, publication
  supabase_realtime_messages_publication, a temporary slot), so it relays exactly the rows that
  were committed there, in commit order, and nothing else;
- speaks the Phoenix channel protocol supabase-js speaks (vsn 2.0.0, JSON frames): heartbeats,
  phx_join with the user's access token, phx_leave, and pushes each message to the channels
  joined on `realtime:<topic>` as {type: "broadcast", event, payload, meta: {id}};
- decides whether a user may join a private topic through the database's own policies on
  realtime.messages: a probe message is inserted on the topic and selected back as the user
  (role, request.jwt.claims, realtime.topic), in a transaction that is rolled back.

What it leaves unproven (docs/app.md): Realtime's own server (its JWT checks beyond HS256
signature and expiry, rate limits, presence, clustering, the binary frames it may use), the
replication slot's behaviour across its restarts, and delivery over a real network.

For tests it can drop, repeat and delay messages (faults()) and cut every socket
(disconnect_all()); the websocket framing is the minimum RFC 6455 that browsers and Deno need.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

import psycopg
from postgrest_bridge import verify_jwt

PUBLICATION = "supabase_realtime_messages_publication"
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC).timestamp()


# ---- websocket framing (server side) -------------------------------------------------------


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()


class WebSocket:
    """One server-side websocket over an accepted connection."""

    def __init__(self, sock: socket.socket, rfile: BinaryIO) -> None:
        self.sock = sock
        self.rfile = rfile
        self._lock = threading.Lock()

    def _read(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if data is None or len(data) < n:
            raise ConnectionError("closed")
        return data

    def recv(self) -> tuple[int, bytes] | None:
        """(opcode, payload) of the next whole message; None once closed."""
        parts: list[bytes] = []
        first_op = 0
        try:
            while True:
                b0, b1 = self._read(2)
                op, n = b0 & 0x0F, b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8))[0]
                mask = self._read(4) if b1 & 0x80 else b"\0\0\0\0"
                data = bytes(c ^ mask[i % 4] for i, c in enumerate(self._read(n)))
                if op == 0x8:
                    self._send(0x8, data[:2])
                    return None
                if op == 0x9:
                    self._send(0xA, data)
                    continue
                if op == 0xA:
                    continue
                if op != 0:
                    first_op = op
                parts.append(data)
                if b0 & 0x80:
                    return first_op, b"".join(parts)
        except (ConnectionError, OSError, ValueError):
            return None

    def _send(self, op: int, data: bytes) -> None:
        head = bytes([0x80 | op])
        n = len(data)
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self._lock:
            self.sock.sendall(head + data)

    def send_json(self, value: Any) -> bool:
        try:
            self._send(0x1, json.dumps(value).encode())
            return True
        except OSError:
            return False

    def cut(self) -> None:
        """Drop the connection without a closing handshake (the client sees code 1006)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# ---- pgoutput (protocol version 1, text values) --------------------------------------------


def _cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode(), end + 1


def decode_pgoutput(data: bytes, relations: dict[int, tuple[str, str, list[str]]]
                    ) -> tuple[str, Any]:
    """One logical replication message: ("insert", (schema, table, row)), ("commit", unix
    time), ("relation", None) or ("other", None)."""
    kind = data[:1]
    if kind == b"R":
        (oid,) = struct.unpack_from("!I", data, 1)
        schema, at = _cstring(data, 5)
        name, at = _cstring(data, at)
        at += 1  # replica identity
        (ncols,) = struct.unpack_from("!H", data, at)
        at += 2
        cols = []
        for _ in range(ncols):
            col, at = _cstring(data, at + 1)
            at += 8  # type oid, typmod
            cols.append(col)
        relations[oid] = (schema, name, cols)
        return "relation", None
    if kind == b"I":
        (oid,) = struct.unpack_from("!I", data, 1)
        schema, name, cols = relations[oid]
        at = 6  # oid + 'N'
        (ncols,) = struct.unpack_from("!H", data, at)
        at += 2
        row: dict[str, str | None] = {}
        for i in range(ncols):
            t = data[at:at + 1]
            at += 1
            if t == b"t":
                (n,) = struct.unpack_from("!I", data, at)
                row[cols[i]] = data[at + 4:at + 4 + n].decode()
                at += 4 + n
            else:  # null ('n') or an unchanged TOAST value ('u', never in an insert)
                row[cols[i]] = None
        return "insert", (schema, name, row)
    if kind == b"C":
        (ts,) = struct.unpack_from("!q", data, 18)
        return "commit", _PG_EPOCH + ts / 1e6
    return "other", None


# ---- the stand-in --------------------------------------------------------------------------


@dataclass
class Faults:
    """What happens to each message on its way to a socket (tests only)."""

    drop: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0  # share of messages delayed by up to max_delay_s (so reordered)
    max_delay_s: float = 0.0
    # drop exactly the messages whose payload has all the items of one of these
    drop_where: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    counts: dict[str, int] = field(
        default_factory=lambda: {"sent": 0, "dropped": 0, "duplicated": 0, "delayed": 0})


@dataclass
class _Session:
    ws: WebSocket
    # joined topic -> (join_ref, private)
    topics: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    claims: dict[str, Any] | None = None


class Realtime:
    """Relays realtime.messages of one database to websocket sessions."""

    def __init__(self, db_superuser_url: str, jwt_secret: str, poll_s: float = 0.01) -> None:
        self.su_url = db_superuser_url
        self.secret = jwt_secret
        self.poll_s = poll_s
        self.faults = Faults()
        self.paused = False
        self.sessions: list[_Session] = []
        self.deliveries: list[dict[str, Any]] = []  # per message sent: ids and times
        self.joins: list[tuple[str, str, bool]] = []  # (sub, topic, allowed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._relay, name="realtime-relay", daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("the realtime stand-in's replication slot was not ready in 60 s")
        if self._error:
            raise self._error

    # -- relay

    def _relay(self) -> None:
        slot = f"realtime_stand_in_{secrets.token_hex(4)}"
        try:
            with psycopg.connect(self.su_url, autocommit=True) as conn:
                if not conn.execute("select from pg_publication where pubname = %s",
                                    (PUBLICATION,)).fetchone():
                    conn.execute(f"create publication {PUBLICATION} for table realtime.messages")
                conn.execute("select pg_create_logical_replication_slot(%s, 'pgoutput', true)",
                             (slot,))
                self._ready.set()
                relations: dict[int, tuple[str, str, list[str]]] = {}
                batch: list[dict[str, Any]] = []
                while not self._stop.is_set():
                    rows = conn.execute(
                        "select data from pg_logical_slot_get_binary_changes(%s, null, null,"
                        " 'proto_version', '1', 'publication_names', %s)",
                        (slot, PUBLICATION),
                    ).fetchall()
                    for (data,) in rows:
                        kind, value = decode_pgoutput(bytes(data), relations)
                        if kind == "insert" and value[0] == "realtime" and \
                                value[1].startswith("messages"):
                            batch.append(value[2])
                        elif kind == "commit":
                            for row in batch:
                                self._publish(row, committed_at=value)
                            batch = []
                    if not rows:
                        self._stop.wait(self.poll_s)
        except BaseException as e:  # noqa: BLE001 (reported to the starter, or logged)
            self._error = e
            self._ready.set()
            if not self._stop.is_set():
                print(f"realtime stand-in: relay stopped: {e}")

    def _publish(self, row: dict[str, Any], committed_at: float) -> None:
        if row.get("extension") != "broadcast" or row.get("topic") is None:
            return
        topic = "realtime:" + row["topic"]
        private = row.get("private") == "t"
        message = [None, None, topic, "broadcast", {
            "type": "broadcast", "event": row.get("event"),
            "payload": json.loads(row["payload"]) if row.get("payload") else {},
            "meta": {"id": row.get("id")},
        }]
        relayed_at = time.time()
        with self._lock:
            targets = [s for s in self.sessions if s.topics.get(topic, (None, None))[1] is private]
        for s in targets:
            self._deliver(s, message, committed_at, relayed_at)

    def _deliver(self, s: _Session, message: list[Any], committed_at: float,
                 relayed_at: float) -> None:
        f = self.faults
        payload = message[4]["payload"]
        targeted = any(all(payload.get(k) == v for k, v in w.items()) for w in f.drop_where)
        with self._lock:
            r = f.rng.random()
            copies = 0 if targeted or r < f.drop else 2 if f.rng.random() < f.duplicate else 1
            delay = f.rng.uniform(0, f.max_delay_s) if f.rng.random() < f.delay else 0.0
            f.counts["dropped"] += copies == 0
            f.counts["duplicated"] += copies == 2
            f.counts["delayed"] += bool(copies and delay)

        def send() -> None:
            for _ in range(copies):
                if s.ws.send_json(message):
                    with self._lock:
                        f.counts["sent"] += 1
                        self.deliveries.append({
                            "message_id": message[4]["meta"]["id"],
                            "job_id": message[4]["payload"].get("job_id"),
                            "status": message[4]["payload"].get("status"),
                            "previous_status": message[4]["payload"].get("previous_status"),
                            "committed_at": committed_at, "relayed_at": relayed_at,
                            "sent_at": time.time(),
                        })

        if delay:
            threading.Timer(delay, send).start()
        elif copies:
            send()

    # -- authorization, as Realtime decides a join on a private topic

    def may_read(self, claims: dict[str, Any], topic: str) -> bool:
        probe = str(uuid.uuid4())
        with psycopg.connect(self.su_url, autocommit=True) as conn, \
                conn.transaction(force_rollback=True):
            conn.execute("insert into realtime.messages (id, topic, extension, private)"
                         " values (%s, %s, 'broadcast', true)", (probe, topic))
            conn.execute(
                "select set_config('role', %s, true), set_config('realtime.topic', %s, true),"
                " set_config('request.jwt.claims', %s, true),"
                " set_config('request.jwt.claim.sub', %s, true)",
                (str(claims.get("role", "anon")), topic, json.dumps(claims),
                 str(claims.get("sub", ""))),
            )
            return conn.execute("select count(*) from realtime.messages where id = %s",
                                (probe,)).fetchone()[0] == 1

    # -- sessions

    def serve(self, ws: WebSocket) -> None:
        """Run one client's session until its socket closes."""
        s = _Session(ws)
        with self._lock:
            self.sessions.append(s)
        try:
            while (frame := ws.recv()) is not None:
                op, data = frame
                if op == 0x1:
                    self._handle(s, json.loads(data))
        finally:
            with self._lock:
                self.sessions.remove(s)

    def _handle(self, s: _Session, msg: list[Any]) -> None:
        join_ref, ref, topic, event, payload = msg

        def reply(status: str, response: dict[str, Any]) -> None:
            s.ws.send_json([join_ref, ref, topic, "phx_reply",
                            {"status": status, "response": response}])

        if event == "heartbeat":
            reply("ok", {})
        elif event == "phx_join":
            config = (payload or {}).get("config") or {}
            private = bool(config.get("private"))
            token = (payload or {}).get("access_token")
            claims = verify_jwt(token, self.secret) if token else None
            name = topic.removeprefix("realtime:")
            allowed = not private or (claims is not None and self.may_read(claims, name))
            self.joins.append((str((claims or {}).get("sub")), name, allowed))
            if not allowed:
                reply("error", {"reason": "Unauthorized: You do not have permissions to read"
                                          f" from this Channel topic: {name}"})
                return
            with self._lock:
                s.claims = claims
                s.topics[topic] = (join_ref, private)
            reply("ok", {"postgres_changes": []})
        elif event == "phx_leave":
            with self._lock:
                s.topics.pop(topic, None)
            reply("ok", {})
        elif event == "access_token":
            claims = verify_jwt((payload or {}).get("access_token") or "", self.secret)
            if claims is not None:
                s.claims = claims
        elif ref is not None:
            reply("ok", {})

    # -- test controls

    def set_faults(self, drop: float = 0.0, duplicate: float = 0.0, delay: float = 0.0,
                   max_delay_s: float = 0.0, drop_where: list[dict[str, Any]] | None = None,
                   seed: int | None = None) -> None:
        """Faults from now on (the counts start again at zero)."""
        with self._lock:
            self.faults = Faults(drop, duplicate, delay, max_delay_s, drop_where or [],
                                 random.Random(seed))

    def pause(self, on: bool) -> None:
        """While paused, every socket is cut and no new one is accepted (Realtime down)."""
        self.paused = on
        if on:
            self.disconnect_all()

    def disconnect_all(self) -> int:
        with self._lock:
            sessions = list(self.sessions)
        for s in sessions:
            s.ws.cut()
        return len(sessions)

    def wait_for(self, cond: Callable[[], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.02)
        return cond()

    def close(self) -> None:
        self._stop.set()
        self.disconnect_all()
        self._thread.join(5)
