"""A runner for QuickFIX's acceptance-test definitions (`.def`), against an acceptor on TCP.

The format (`../shared/conformance/quickfix-at/README.md`), a line each:
  iCONNECT / i<n>,CONNECT        open connection n (1 when not named)
  iDISCONNECT / i<n>,DISCONNECT  close it
  eDISCONNECT / e<n>,DISCONNECT  expect the acceptor to close it (within 10 s, no data first)
  I<msg> / I<n>,<msg>            send: <TIME> and <TIME+-S> become the UTC time (S seconds
                                 off); BodyLength (9) and CheckSum (10) are computed where
                                 the line leaves them out
  E<msg> / E<n>,<msg>            expect exactly this message next: the same fields in the same
                                 order, each equal, or matching fields.fmt's pattern for its tag
  # ...                          a comment
A failure names the definition's line, the line, and what differed.
"""

import re
import select
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SOH = "\x01"
READ_TIMEOUT_S = 60.0  # an expected message (a test request waits for 1.2 heartbeats and more)
DISCONNECT_TIMEOUT_S = 10.0


class AtFailure(AssertionError):
    pass


def patterns(path: Path) -> dict[str, re.Pattern]:
    out = {}
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip():
            tag, _, pattern = line.partition("=")
            out[tag] = re.compile(pattern)
    return out


def timify(text: str, now: datetime) -> str:
    def stamp(match: re.Match) -> str:
        offset = int(match.group(1) or 0)
        return (now + timedelta(seconds=offset)).strftime("%Y%m%d-%H:%M:%S")
    return re.sub(r"<TIME([+-]\d+)?>", stamp, text)


def fixify(text: str) -> str:
    """Add BodyLength after BeginString and CheckSum at the end where the line has none."""
    has_length = re.search(r"\x019=.*?\x01", text) is not None
    head_match = re.match(r"8=.*?\x01", text)
    if head_match is None:
        return text
    head, rest = head_match.group(0), text[head_match.end():]
    checksum_match = re.search(r"\x0110=.*\x01$", rest)
    checksum = ""
    if checksum_match is not None:
        checksum = checksum_match.group(0)[1:]
        rest = rest[:checksum_match.start() + 1]
    length = "" if has_length else f"9={len(rest)}{SOH}"
    if not checksum:
        total = sum((head + length + rest).encode("latin-1")) % 256
        checksum = f"10={total:03d}{SOH}"
    return head + length + rest + checksum


@dataclass
class Step:
    number: int
    line: str
    kind: str  # I, E, i, e
    cid: int
    body: str


def parse(path: Path) -> list[Step]:
    steps = []
    for number, raw in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
        line = raw.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        kind = line[0]
        if kind not in "IEie":
            raise AtFailure(f"{path.name}:{number}: syntax error: {line!r}")
        named = re.match(r"^[IEie](\d),", line)
        cid, body = (int(named.group(1)), line[3:]) if named else (1, line[1:])
        steps.append(Step(number, line, kind, cid, body))
    return steps


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buffer = b""

    def send(self, message: str) -> None:
        self.sock.sendall(message.encode("latin-1"))

    def read_message(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._take()
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise AtFailure(f"no message within {timeout_s:g} s "
                                f"(buffered: {self.buffer!r})")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise AtFailure(f"the acceptor disconnected (buffered: {self.buffer!r})")
            self.buffer += chunk

    def _take(self) -> str | None:
        """One whole message off the buffer, framed by its BodyLength."""
        match = re.match(rb"8=[^\x01]*\x019=(\d+)\x01", self.buffer)
        if match is None:
            return None
        end = match.end() + int(match.group(1))
        tail = re.match(rb"10=\d{3}\x01", self.buffer[end:])
        if tail is None:
            if len(self.buffer) >= end + 7:
                raise AtFailure(f"a message without its checksum: {self.buffer!r}")
            return None
        message, self.buffer = self.buffer[:end + tail.end()], self.buffer[end + tail.end():]
        return message.decode("latin-1")

    def wait_disconnect(self) -> None:
        if self.buffer:
            raise AtFailure(f"expected a disconnection, got data: {self.buffer!r}")
        ready, _, _ = select.select([self.sock], [], [], DISCONNECT_TIMEOUT_S)
        if not ready:
            raise AtFailure(f"the connection hangs after {DISCONNECT_TIMEOUT_S:g} s")
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if data:
            raise AtFailure(f"expected a disconnection, got data: {data!r}")

    def close(self) -> None:
        self.sock.close()


def compare(expected: str, received: str, fmt: dict[str, re.Pattern]) -> str | None:
    """None when `received` matches `expected`, else why not."""
    left = [f for f in expected.split(SOH) if f]
    right = [f for f in received.split(SOH) if f]
    if len(left) != len(right):
        return f"{len(left)} fields expected, {len(right)} received"
    for want, got in zip(left, right, strict=True):
        wtag, _, wvalue = want.partition("=")
        gtag, _, gvalue = got.partition("=")
        if wtag != gtag:
            return f"expected field {wtag}, found field {gtag}"
        pattern = fmt.get(wtag)
        if pattern is None and wvalue != gvalue:
            return f"field {wtag} should be {wvalue!r}, was {gvalue!r}"
        if pattern is not None and not pattern.search(gvalue):
            return f"field {wtag} {gvalue!r} does not match {pattern.pattern!r}"
    return None


def run(path: Path, host: str, port: int, fmt: dict[str, re.Pattern]) -> None:
    """Carry out one definition; raises AtFailure naming the line that failed."""
    connections: dict[int, _Connection] = {}
    try:
        for step in parse(path):
            try:
                _step(step, connections, host, port, fmt)
            except AtFailure as exc:
                raise AtFailure(f"{path.name}:{step.number}: {step.line!r}: {exc}") from None
            except OSError as exc:
                raise AtFailure(f"{path.name}:{step.number}: {step.line!r}: {exc!r}") from None
    finally:
        for connection in connections.values():
            connection.close()


def _step(step: Step, connections: dict[int, _Connection], host: str, port: int,
          fmt: dict[str, re.Pattern]) -> None:
    if step.kind in "ie":
        if step.body not in ("CONNECT", "DISCONNECT"):
            raise AtFailure(f"syntax error: {step.body!r}")
        if step.kind == "i" and step.body == "CONNECT":
            connections[step.cid] = _Connection(host, port)
        elif step.kind == "i":
            connections.pop(step.cid).close()
        elif step.body == "DISCONNECT":
            connections[step.cid].wait_disconnect()
        return
    connection = connections.get(step.cid)
    if connection is None:
        raise AtFailure(f"connection {step.cid} is not open")
    message = fixify(timify(step.body, datetime.now(UTC)))
    if step.kind == "I":
        connection.send(message)
        return
    received = connection.read_message(READ_TIMEOUT_S)
    why = compare(message, received, fmt)
    if why is not None:
        raise AtFailure(f"{why}\n  expected {message.replace(SOH, '|')}\n  received "
                        f"{received.replace(SOH, '|')}")
