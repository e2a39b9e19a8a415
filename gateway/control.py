"""The control channel: commands in, answers and the event stream out, on a local socket.

Frames are a 4-byte big-endian length and a msgpack body (msgspec). Every request carries a
token; the token names the actor and the role (trader, risk, ops, auditor); the role decides
which commands it may give. Every command, allowed or refused, is journaled with its actor and
outcome before the answer goes back. A `Subscribe` turns the connection into a stream of the
gateway's events; a subscriber that falls more than `queue_limit` events behind is cut off (the
gateway never waits for a reader).
"""

import asyncio
import json
import os
import secrets
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from core.events import ENCODER as EVENT_ENCODER
from core.events import Command, Event

FRAME = struct.Struct(">I")
MAX_FRAME = 1 << 20
ROLES = ("trader", "risk", "ops", "auditor")


class _Body(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    pass


class Status(_Body, frozen=True, kw_only=True):
    pass


class SetParams(_Body, frozen=True, kw_only=True):
    product: str
    values: dict[str, float]
    contracts: list[str] | None = None


class QuoteEnable(_Body, frozen=True, kw_only=True):
    product: str
    contracts: list[str] | None = None


class QuoteDisable(_Body, frozen=True, kw_only=True):
    product: str
    contracts: list[str] | None = None
    override: bool = False


class SwitchModel(_Body, frozen=True, kw_only=True):
    product: str
    model: str


class Kill(_Body, frozen=True, kw_only=True):
    scope: str
    reason: str
    state: str = "HALTED"  # or "REDUCING": only orders and quote sides that reduce a position


class KillReset(_Body, frozen=True, kw_only=True):
    scope: str
    reason: str


class Subscribe(_Body, frozen=True, kw_only=True):
    pass


class Heartbeat(_Body, frozen=True, kw_only=True):
    """The department risk process is alive; `summary` is its latest reading in brief.
    Not journaled (one a second); the gateway stops quoting when they stop coming."""

    summary: dict[str, Any] = {}


class RiskAlert(_Body, frozen=True, kw_only=True):
    """A level the department process watches was breached (or, `cleared`, no longer is).
    With a `measure`, the gateway raises a prompt that an authorised user confirms."""

    key: str
    kind: str
    scope: str
    value: float
    limit: float
    message: str
    products: list[str] = []
    measure: str | None = None
    factor: float = 2.0
    cleared: bool = False


class Confirm(_Body, frozen=True, kw_only=True):
    """Run the preset measure of a pending prompt."""

    prompt: str
    reason: str


class Dismiss(_Body, frozen=True, kw_only=True):
    """Close a pending prompt without running its measure."""

    prompt: str
    reason: str


Body = (Status | SetParams | QuoteEnable | QuoteDisable | SwitchModel | Kill | KillReset
        | Subscribe | Heartbeat | RiskAlert | Confirm | Dismiss)
UNJOURNALED = (Heartbeat,)


class Request(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    body: Body


class Response(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    actor: str = ""
    result: dict[str, Any] | None = None
    error: str = ""


PERMISSIONS: dict[str, frozenset[type]] = {
    "trader": frozenset({Status, SetParams, QuoteEnable, QuoteDisable, SwitchModel, Kill,
                         KillReset, Subscribe}),
    "risk": frozenset({Status, Kill, KillReset, Subscribe, QuoteDisable, Heartbeat, RiskAlert,
                       Confirm, Dismiss}),
    "ops": frozenset({Status, Subscribe}),
    "auditor": frozenset({Status, Subscribe}),
}

_REQUEST = msgspec.msgpack.Decoder(Request)
_RESPONSE = msgspec.msgpack.Decoder(Response)
_ENCODER = msgspec.msgpack.Encoder()


@dataclass(frozen=True, slots=True)
class Identity:
    actor: str
    role: str
    products: frozenset[str] = frozenset()  # a trader's: the products they run


def make_tokens(path: Path, people: dict[str, str],
                products: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Write a token for each actor (actor -> role; a trader's products from `products`) to
    `path` (mode 0600); returns actor -> token. The gateway reads the same file."""
    runs = products or {}
    tokens = {secrets.token_hex(16): {"actor": actor, "role": role,
                                      "products": sorted(runs.get(actor, []))}
              for actor, role in people.items()}
    for entry in tokens.values():
        if entry["role"] not in ROLES:
            raise ValueError(f"role: {entry['role']!r} is not one of {', '.join(ROLES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=1), encoding="utf-8")
    os.chmod(path, 0o600)
    return {entry["actor"]: token for token, entry in tokens.items()}


def load_tokens(path: Path) -> dict[str, Identity]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {token: Identity(entry["actor"], entry["role"],
                            frozenset(entry.get("products", ())))
            for token, entry in raw.items()}


Handler = Callable[[Identity, Body], Awaitable[dict[str, Any]]]
Snapshot = Callable[[], dict[str, Any]]
"""what a subscriber starts from: taken in the same loop turn the subscription starts in, so
no event falls between the snapshot and the stream"""
Audit = Callable[[str, str, bytes, str], None]
"""(kind, actor, payload, outcome): how the server journals each command"""


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(FRAME.size)
    (size,) = FRAME.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is over the {MAX_FRAME} limit")
    return await reader.readexactly(size)


STREAM_BATCH = 1024  # frames a subscriber's stream writes at once, at most


def _frame(payload: bytes) -> bytes:
    return FRAME.pack(len(payload)) + payload


class ControlServer:
    def __init__(self, path: Path, tokens: dict[str, Identity], handler: Handler,
                 audit: Audit, *, queue_limit: int = 10_000,
                 snapshot: Snapshot | None = None) -> None:
        self.path = path
        self.tokens = tokens
        self.handler = handler
        self.audit = audit
        self.snapshot = snapshot
        self.queue_limit = queue_limit
        self._subscribers: list[asyncio.Queue] = []
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.path.unlink(missing_ok=True)

    def publish(self, event: Event | Command) -> None:
        """Offer an event (or a command the gateway sent) to every subscriber; never
        waits."""
        if not self._subscribers:
            return
        frame = _frame(EVENT_ENCODER.encode(event))
        for q in list(self._subscribers):
            if q.qsize() >= self.queue_limit:
                self._subscribers.remove(q)
                q.put_nowait(None)  # cut off: it fell too far behind
            else:
                q.put_nowait(frame)

    async def _serve(self, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        queue = None
        try:
            while True:
                try:
                    raw = await _read_frame(reader)
                except asyncio.IncompleteReadError:
                    return
                response, queue = await self._answer(raw)
                writer.write(_frame(_ENCODER.encode(response)))
                await writer.drain()
                if queue is not None:
                    await self._stream(writer, queue)
                    return
        except (ConnectionError, ValueError):
            return
        finally:
            if queue is not None and queue in self._subscribers:
                self._subscribers.remove(queue)
            writer.close()

    async def _answer(self, raw: bytes) -> tuple[Response, asyncio.Queue | None]:
        try:
            request = _REQUEST.decode(raw)
        except msgspec.DecodeError as exc:
            self.audit("command", "unknown", raw[:200], f"refused: unreadable request: {exc}")
            return Response(ok=False, error=f"request: {exc}"), None
        identity = self.tokens.get(request.token)
        payload = _ENCODER.encode(request.body)
        name = type(request.body).__name__
        if identity is None:
            self.audit("command", "unknown", payload, f"refused: {name}: unknown token")
            return Response(ok=False, error="token: not recognised"), None
        if type(request.body) not in PERMISSIONS[identity.role]:
            self.audit("command", identity.actor, payload,
                       f"refused: {name}: not allowed to the {identity.role} role")
            return Response(ok=False, actor=identity.actor,
                            error=f"{name}: not allowed to the {identity.role} role"), None
        if isinstance(request.body, Subscribe):
            queue: asyncio.Queue = asyncio.Queue()
            self._subscribers.append(queue)  # with the snapshot, in one turn of the loop
            start = self.snapshot() if self.snapshot is not None else {}
            self.audit("command", identity.actor, payload, "ok: subscribed")
            return Response(ok=True, actor=identity.actor,
                            result={"subscribed": True, "snapshot": start}), queue
        try:
            result = await self.handler(identity, request.body)
        except (ValueError, KeyError, PermissionError) as exc:
            self.audit("command", identity.actor, payload, f"failed: {name}: {exc}")
            return Response(ok=False, actor=identity.actor, error=f"{name}: {exc}"), None
        if not isinstance(request.body, UNJOURNALED):
            self.audit("command", identity.actor, payload, f"ok: {name}")
        return Response(ok=True, actor=identity.actor, result=result), None

    async def _stream(self, writer: asyncio.StreamWriter, q: asyncio.Queue) -> None:
        try:
            while (frame := await q.get()) is not None:
                # whatever else waits goes in the same write: one wake-up and one system call
                # for a burst, not one each
                frames = [frame]
                while not q.empty() and len(frames) < STREAM_BATCH:
                    if (frame := q.get_nowait()) is None:
                        writer.write(b"".join(frames))
                        return
                    frames.append(frame)
                writer.write(b"".join(frames))
                await writer.drain()
        finally:
            if q in self._subscribers:
                self._subscribers.remove(q)


def request(path: Path, token: str, body: Body, timeout_s: float = 10.0) -> Response:
    """One command from a client (the CLI): connect, send, wait for the answer."""
    import socket  # noqa: PLC0415

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(str(path))
        sock.sendall(_frame(_ENCODER.encode(Request(token=token, body=body))))
        head = _recv(sock, FRAME.size)
        (size,) = FRAME.unpack(head)
        return _RESPONSE.decode(_recv(sock, size))


def _recv(sock: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the gateway closed the control connection")
        data += chunk
    return data
