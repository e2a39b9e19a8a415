"""Append-only record files of the file link, in the roles of EzSTEP's tables.

A record is one line: its per-file sequence number, a TAB, one STEP message, a newline
(`17\\t8=FIXT.1.1\\x019=...\\x0110=123\\x01\\n`); the message's MsgSeqNum (34) repeats the record
number. One writer appends to a file and flushes in groups (one write() a group); readers follow
it and keep their place in a position file beside it, so either side restarts where it was.

A reader
- waits for a torn last record (no newline yet) instead of parsing it;
- skips a record it has already handled (a duplicate) and says so in the rejects file;
- stops with LinkGapError at a gap in the numbers (a lost record cannot be recovered here);
- moves a record whose checksum or fields are bad to the rejects file with the reason and the
  line, and goes on: that record is lost to the consumer, and reported.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import structlog

from adapters.stepfile.codec import StepError, StepMessage, decode, encode

log = structlog.get_logger("stepfile")

REQRESP = "reqresp"
EXECREPORT = "execreport"
PUBDATA = "pubdata"
SUFFIX = ".step"
REJECTS = "rejects.log"
_TAIL_SCAN = 1 << 16


class LinkGapError(RuntimeError):
    """Records are missing: the link cannot go on without losing messages."""

    def __init__(self, path: Path, expected: int, got: int, line: int) -> None:
        self.path, self.expected, self.got, self.line = path, expected, got, line
        super().__init__(f"{path}:{line}: record {got} follows {expected - 1}: records "
                         f"{expected}..{got - 1} are missing; the link stops")


def file_path(directory: Path, role: str) -> Path:
    return directory / f"{role}{SUFFIX}"


def _last_record(path: Path) -> tuple[int, int]:
    """(last complete record number, byte length up to and including its newline)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        start = max(0, size - _TAIL_SCAN)
        while True:
            fh.seek(start)
            chunk = fh.read(size - start)
            end = chunk.rfind(b"\n")
            if end < 0 and start > 0:
                start = max(0, start - _TAIL_SCAN)
                continue
            if end < 0:
                return 0, 0
            line_start = chunk.rfind(b"\n", 0, end) + 1
            if line_start == 0 and start > 0:
                start = max(0, start - _TAIL_SCAN)
                continue
            number = chunk[line_start:end].split(b"\t", 1)[0]
            if not number.isdigit():
                raise StepError("record", number.decode("ascii", "replace"),
                                f"{path}: the last record's number is unreadable")
            return int(number), start + end + 1


class StepFileWriter:
    """The one writer of a record file. On opening it resumes after the last complete record
    and cuts off a torn tail that a crash left (no reader ever took it: it had no newline)."""

    def __init__(self, path: Path, *, sender: str, target: str, fsync: bool = False) -> None:
        self.path = path
        self.sender, self.target = sender, target
        self._fsync = fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        self.seq, length = _last_record(path)
        if path.stat().st_size != length:
            log.warning("torn_tail_cut", file=str(path), kept_bytes=length,
                        cut_bytes=path.stat().st_size - length)
            os.truncate(path, length)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._buffer: list[bytes] = []
        self.skip_through = 0
        """Records up to this number are regenerated, not written (a recovering simulator)."""

    def append(self, msg_type: str, body: list[tuple[int, str]], sending_time: str) -> int:
        """Encode one message as the next record; it reaches the file at `flush()`."""
        self.seq += 1
        if self.seq <= self.skip_through:
            return self.seq
        message = encode(msg_type, body, sender=self.sender, target=self.target, seq=self.seq,
                         sending_time=sending_time)
        self._buffer.append(b"%d\t%b\n" % (self.seq, message))
        return self.seq

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Write every buffered record with one write(); returns how many."""
        if not self._buffer:
            return 0
        data = b"".join(self._buffer)
        count = len(self._buffer)
        self._buffer.clear()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self._fsync:
            os.fsync(self._fd)
        return count

    def close(self) -> None:
        self.flush()
        os.close(self._fd)


@dataclass(frozen=True, slots=True)
class Received:
    """A record a reader accepted: its number, its line, and the decoded message."""

    seq: int
    line: int
    message: StepMessage


@dataclass(frozen=True, slots=True)
class Position:
    offset: int = 0
    seq: int = 0
    line: int = 0


class StepFileReader:
    """Follows one record file for one consumer (`name`), from its saved position."""

    def __init__(self, path: Path, name: str, *, skip_through: int | None = None) -> None:
        self.path = path
        self.name = name
        self.pos_path = path.with_name(f"{path.name}.{name}.pos")
        self.rejects_path = path.parent / REJECTS
        pos = self._load()
        self.offset, self.seq, self.line = pos.offset, pos.seq, pos.line
        self._committed = pos
        # records the consumer says it has handled already (it keeps its own account of them)
        self.skip_through = max(skip_through or 0, 0)
        self.rejected = 0
        self.duplicates = 0
        self._fh: BinaryIO | None = None
        self._pos_fd: int | None = None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._pos_fd is not None:
            os.close(self._pos_fd)
            self._pos_fd = None

    def _load(self) -> Position:
        try:
            offset, seq, line = self.pos_path.read_text(encoding="ascii").split()
            return Position(int(offset), int(seq), int(line))
        except FileNotFoundError:
            return Position()
        except ValueError as exc:
            raise StepError("position", self.pos_path.read_text(errors="replace"),
                            f"{self.pos_path}: unreadable position file") from exc

    def commit(self) -> None:
        """Save the position: one fixed-width pwrite() over the old one, which a process crash
        cannot tear (the call happens whole or not at all)."""
        pos = Position(self.offset, self.seq, self.line)
        if pos == self._committed:
            return
        if self._pos_fd is None:
            self._pos_fd = os.open(self.pos_path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.pwrite(self._pos_fd, b"%020d %020d %020d\n" % (pos.offset, pos.seq, pos.line), 0)
        self._committed = pos

    def poll(self, limit: int | None = None) -> list[Received]:
        """Every complete new record (at most `limit` of them), decoded; bad ones go to the
        rejects file."""
        if self._fh is None:
            try:
                self._fh = self.path.open("rb")
            except FileNotFoundError:
                return []
        self._fh.seek(self.offset)
        data = self._fh.read()
        end = data.rfind(b"\n")
        if end < 0:
            return []  # nothing, or a torn record still being written
        out: list[Received] = []
        consumed = 0
        for raw in _lines(data[:end + 1]):
            if limit is not None and len(out) >= limit:
                break  # the rest at the next poll: the owner's loop breathes in between
            line = self.line + 1
            number_text, tab, message = raw.partition(b"\t")
            if not tab or not number_text.isdigit():
                self.seq += 1  # presumed to carry the expected number; the next record tells
                self._reject(line, self.seq, "record number unreadable", raw)
            else:
                number = int(number_text)
                if number <= self.seq:
                    self.duplicates += 1
                    self._reject(line, number, f"duplicate of record {number}, skipped", raw)
                elif number > self.seq + 1:
                    if out:
                        break  # hand over what came before; the next poll meets the gap
                    self._advance(consumed)
                    raise LinkGapError(self.path, self.seq + 1, number, line)
                else:
                    self.seq = number
                    self._accept(line, number, message, raw, out)
            self.line = line
            consumed += len(raw) + 1
        self._advance(consumed)
        return out

    def _advance(self, consumed: int) -> None:
        self.offset += consumed

    def _accept(self, line: int, number: int, message: bytes, raw: bytes,
                out: list[Received]) -> None:
        if number <= self.skip_through:
            return
        try:
            decoded = decode(message)
        except StepError as exc:
            self._reject(line, number, str(exc), raw)
            return
        if decoded.seq != number:
            self._reject(line, number, f"MsgSeqNum {decoded.seq} is not the record number",
                         raw)
            return
        out.append(Received(number, line, decoded))

    def reject(self, received: Received, reason: str) -> None:
        """Move an accepted record the consumer cannot use (valid STEP, but not a message it
        can act on) to the rejects file."""
        self._reject(received.line, received.seq, reason,
                     f"MsgType {received.message.msg_type}".encode())

    def _reject(self, line: int, number: int, reason: str, raw: bytes) -> None:
        self.rejected += 1
        shown = raw.replace(b"\x01", b"|").decode("gbk", "replace")
        log.warning("record_rejected", file=str(self.path), line=line, record=number,
                    reason=reason)
        with self.rejects_path.open("a", encoding="utf-8") as fh:
            fh.write(f"{self.path.name}:{line}: record {number}: {reason}: {shown}\n")


def _lines(data: bytes) -> Iterator[bytes]:
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return
        yield data[start:end]
        start = end + 1
