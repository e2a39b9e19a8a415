"""The audit journal: every event and command, with its actor and outcome, in a hash chain.

Each record holds the SHA-256 of its own content and of the record before it, so a record
changed, deleted, inserted or moved breaks the chain where it happened. The chain's head is
signed (Ed25519) into a checkpoint file outside the database at intervals and at the close, so
a tail cut off the database, or a chain rewritten from some record on, is caught as well.

Appending never waits on the disk: `append` hashes the record, queues it and returns; a writer
thread commits the queue in groups (one transaction a group) through SQLAlchemy Core, SQLite by
default, PostgreSQL by URL. A writer that fails marks the journal failed (the gateway then
stops quoting) and keeps what it could not write.
"""

import hashlib
import queue
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

METADATA = sa.MetaData()
RECORDS = sa.Table(
    "journal", METADATA,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ts_ns", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(256), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)
GENESIS = b"\x00" * 32
_COLUMNS = ("seq", "ts_ns", "kind", "actor", "outcome", "payload", "prev_hash", "hash")
_PACK = struct.Struct(">qq")


def record_hash(prev: bytes, seq: int, ts_ns: int, kind: str, actor: str, outcome: str,
                payload: bytes) -> bytes:
    """SHA-256 over the previous hash and every field, each length-prefixed."""
    h = hashlib.sha256(prev)
    h.update(_PACK.pack(seq, ts_ns))
    for part in (kind.encode(), actor.encode(), outcome.encode(), payload):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


class Checkpoint(msgspec.Struct, frozen=True):
    seq: int
    hash: str
    ts_ns: int
    signature: str


class Signer:
    """The journal's Ed25519 key, kept beside the checkpoints (an HSM in production)."""

    def __init__(self, key_path: Path) -> None:
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{key_path}: not an Ed25519 private key")
            self.key = key
        else:
            self.key = Ed25519PrivateKey.generate()
            key_path.parent.mkdir(parents=True, exist_ok=True)
            key_path.write_bytes(self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
            key_path.chmod(0o600)
            key_path.with_suffix(".pub").write_bytes(self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    def sign(self, seq: int, digest: bytes, ts_ns: int) -> Checkpoint:
        message = f"{seq}|{digest.hex()}|{ts_ns}".encode()
        return Checkpoint(seq, digest.hex(), ts_ns, self.key.sign(message).hex())


def engine_for(url: str) -> sa.Engine:
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    METADATA.create_all(engine)
    return engine


class Journal:
    """Append-only, hash-chained, committed in groups by a writer thread."""

    def __init__(self, url: str, checkpoints: Path, key: Path, *,
                 checkpoint_every: int = 10_000, batch: int = 5_000) -> None:
        self.engine = engine_for(url)
        self.checkpoints = checkpoints
        self.signer = Signer(key)
        self.checkpoint_every = checkpoint_every
        self.batch = batch
        with self.engine.connect() as connection:
            last = connection.execute(
                sa.select(RECORDS.c.seq, RECORDS.c.hash).order_by(RECORDS.c.seq.desc())
                .limit(1)).first()
        self.seq, self.head = (last.seq, bytes(last.hash)) if last else (0, GENESIS)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._positional = (
            f"INSERT INTO journal ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 8)})"
            if self.engine.dialect.name == "sqlite" else None)
        self.error: str | None = None
        self.written = self.seq
        self._since_checkpoint = 0
        self._closed = threading.Event()
        self._file_lock = threading.Lock()
        self._chain_lock = threading.Lock()
        self._thread = threading.Thread(target=self._write, name="journal-writer", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self.error is None

    def append(self, kind: str, actor: str, payload: bytes, *, ts_ns: int,
               outcome: str = "") -> int:
        """Chain and queue one record; returns its sequence number. Never touches the disk.
        Safe from any thread (the kill line journals while the loop may be stuck)."""
        with self._chain_lock:
            self.seq += 1
            digest = record_hash(self.head, self.seq, ts_ns, kind, actor, outcome, payload)
            self._queue.put((self.seq, ts_ns, kind, actor, outcome, payload, self.head,
                             digest))
            self.head = digest
            return self.seq

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until everything appended so far is committed (or the writer failed)."""
        deadline = time.monotonic() + timeout_s
        target = self.seq
        while self.written < target and self.error is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"journal: {target - self.written} records not written "
                                   f"after {timeout_s} s")
            time.sleep(0.001)
        if self.error is not None:
            raise RuntimeError(f"journal: {self.error}")

    def checkpoint(self, ts_ns: int) -> Checkpoint:
        """Sign the head as it is now into the checkpoint file (after a flush)."""
        self.flush()
        point = self.signer.sign(self.seq, self.head, ts_ns)
        self._record_checkpoint(point)
        return point

    def _record_checkpoint(self, point: Checkpoint) -> None:
        with self._file_lock, self.checkpoints.open("ab") as fh:
            fh.write(msgspec.json.encode(point) + b"\n")

    def close(self, ts_ns: int) -> None:
        """Flush, sign the head (the close's checkpoint) and stop the writer."""
        self.checkpoint(ts_ns)
        self._closed.set()
        self._queue.put(None)
        self._thread.join(timeout=30)
        self.engine.dispose()

    def _write(self) -> None:
        insert = RECORDS.insert()
        while True:
            item = self._queue.get()
            if item is None:
                return
            rows = [item]
            while len(rows) < self.batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                rows.append(more)
            try:
                with self.engine.begin() as connection:
                    if self._positional is not None:
                        # SQLite: the driver's own executemany over tuples, one transaction
                        connection.exec_driver_sql(self._positional, rows)
                    else:
                        connection.execute(insert, [dict(zip(_COLUMNS, r, strict=True))
                                                    for r in rows])
            except Exception as exc:
                self.error = f"cannot write records {rows[0][0]}..{rows[-1][0]}: {exc}"
                return
            self.written = rows[-1][0]
            self._since_checkpoint += len(rows)
            if self._since_checkpoint >= self.checkpoint_every:
                self._since_checkpoint = 0
                self._record_checkpoint(self.signer.sign(rows[-1][0], rows[-1][7],
                                                         rows[-1][1]))


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    records: int
    checkpoints: int
    problem: str = ""
    seq: int | None = None
    """the first record found wrong"""


def records(url: str) -> Iterator[sa.Row]:
    engine = engine_for(url)
    with engine.connect() as connection:
        yield from connection.execute(sa.select(RECORDS).order_by(RECORDS.c.seq))


def verify(url: str, checkpoints: Path, public_key: Path) -> Verdict:
    """Recompute the chain from the first record and check every signed checkpoint; name the
    first record that was changed, deleted, inserted or moved, or the tail cut off."""
    heads: dict[int, bytes] = {}
    expected_seq, prev, count = 1, GENESIS, 0
    for row in records(url):
        count += 1
        if row.seq != expected_seq:
            return Verdict(False, count, 0,
                           f"record {expected_seq} is missing: {row.seq} follows "
                           f"{expected_seq - 1} (deleted)", expected_seq)
        if bytes(row.prev_hash) != prev:
            return Verdict(False, count, 0, f"record {row.seq} does not follow record "
                           f"{row.seq - 1} (inserted or moved)", row.seq)
        digest = record_hash(prev, row.seq, row.ts_ns, row.kind, row.actor, row.outcome,
                             bytes(row.payload))
        if digest != bytes(row.hash):
            return Verdict(False, count, 0, f"record {row.seq} was changed", row.seq)
        heads[row.seq] = digest
        prev, expected_seq = digest, expected_seq + 1
    last = expected_seq - 1
    key = serialization.load_pem_public_key(public_key.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        return Verdict(False, count, 0, f"{public_key}: not an Ed25519 public key")
    points = [msgspec.json.decode(line, type=Checkpoint)
              for line in checkpoints.read_bytes().splitlines() if line.strip()] \
        if checkpoints.exists() else []
    for point in points:
        try:
            key.verify(bytes.fromhex(point.signature),
                       f"{point.seq}|{point.hash}|{point.ts_ns}".encode())
        except Exception:
            return Verdict(False, count, len(points),
                           f"the checkpoint at record {point.seq} has a bad signature",
                           point.seq)
        if point.seq > last:
            return Verdict(False, count, len(points),
                           f"records {last + 1}..{point.seq} are missing: a signed checkpoint "
                           f"covers record {point.seq} but the journal ends at {last} "
                           "(truncated)", last + 1)
        if point.seq and heads.get(point.seq, b"").hex() != point.hash:
            return Verdict(False, count, len(points),
                           f"the chain up to record {point.seq} differs from its signed "
                           "checkpoint (rewritten)", point.seq)
    return Verdict(True, count, len(points))
