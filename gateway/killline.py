"""The kill line: `run/kill.sock`, served by a thread of its own, so a kill reaches the
exchange while the event loop (the quoting engine, the control channel) is stuck.

The frames and the tokens are the control channel's; only `Kill` and `KillReset` are
answered, with the control channel's permissions. Each request is journaled with its actor
and outcome. The gateway's `kill_now` blocks the scope and writes the mass cancel straight
to the link (`submit_urgent`); the confirmation of the cancels is the event loop's work, so
while the loop does not answer within `ENGINE_ANSWER_S` the answer says so instead of
waiting (`"engine": "not answering"`), and the cancels stand sent.
"""

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import structlog

from gateway.control import (
    _ENCODER,
    _REQUEST,
    FRAME,
    MAX_FRAME,
    PERMISSIONS,
    Identity,
    Kill,
    KillReset,
    Response,
    _frame,
    _recv,
)

log = structlog.get_logger("killline")

ENGINE_ANSWER_S = 0.5
KillHandler = Callable[[Identity, Kill | KillReset], dict[str, Any]]
Audit = Callable[[str, str, bytes, str], None]


class KillLine:
    def __init__(self, path: Path, tokens: dict[str, Identity], handler: KillHandler,
                 audit: Audit) -> None:
        self.path = path
        self.tokens = tokens
        self.handler = handler
        self.audit = audit
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        sock.listen(8)
        sock.settimeout(0.2)  # to notice stop()
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="kill-line", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
        self.path.unlink(missing_ok=True)

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self._one(conn)
                except (OSError, ValueError) as exc:
                    log.warning("kill_line_request_failed", error=str(exc))
                except Exception as exc:  # the line must outlive any one request
                    log.error("kill_line_error", error=repr(exc))

    def _one(self, conn: socket.socket) -> None:
        (size,) = FRAME.unpack(_recv(conn, FRAME.size))
        if size > MAX_FRAME:
            raise ValueError(f"frame of {size} bytes is over the {MAX_FRAME} limit")
        raw = _recv(conn, size)
        conn.sendall(_frame(_ENCODER.encode(self._answer(raw))))

    def _answer(self, raw: bytes) -> Response:
        try:
            request = _REQUEST.decode(raw)
        except msgspec.DecodeError as exc:
            self.audit("command", "unknown", raw[:200], f"refused: unreadable request: {exc}")
            return Response(ok=False, error=f"request: {exc}")
        body = request.body
        name = type(body).__name__
        payload = _ENCODER.encode(body)
        identity = self.tokens.get(request.token)
        if identity is None:
            self.audit("command", "unknown", payload, f"refused: {name}: unknown token")
            return Response(ok=False, error="token: not recognised")
        if not isinstance(body, Kill | KillReset) or type(body) not in PERMISSIONS[identity.role]:
            why = ("the kill line takes Kill and KillReset only"
                   if not isinstance(body, Kill | KillReset)
                   else f"not allowed to the {identity.role} role")
            self.audit("command", identity.actor, payload, f"refused: {name}: {why}")
            return Response(ok=False, actor=identity.actor, error=f"{name}: {why}")
        try:
            result = self.handler(identity, body)
        except (ValueError, KeyError, PermissionError, RuntimeError) as exc:
            self.audit("command", identity.actor, payload, f"failed: {name}: {exc}")
            return Response(ok=False, actor=identity.actor, error=f"{name}: {exc}")
        self.audit("command", identity.actor, payload, f"ok: {name}")
        return Response(ok=True, actor=identity.actor, result=result)

