"""The gateway's side of the file link: an `ExchangeLink` over a link directory.

It appends the member's requests to `reqresp.step` (flushed at the end of each event-loop turn,
or at `flush`, after each product's requote, so a burst goes out in one write) and follows
`execreport.step` and `pubdata.step`, woken by inotify the moment the exchange writes; market
data comes from the EzSR snapshot file `ezsr/mktdt.txt`, one MarketData per security that
changed. Positions are saved after every batch handed to the sink; a consumer that keeps its own
account of what it handled passes `resume_from` and nothing is handed over twice.

Both sides say Logon when they start, Heartbeat when idle and Logout when they stop. No word
from the exchange for three heartbeat intervals, a gap in the records, or a Logout puts the
link DOWN or FAILED, and the sink hears it as a LinkStatus: stop quoting.
"""

import asyncio
import collections
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path

import structlog
from inotify_simple import INotify
from inotify_simple import flags as inotify_flags

from adapters.ezsr.snapshot import SNAPSHOT_FILE, EzsrError, SnapshotReader
from adapters.stepfile.codec import StepError
from adapters.stepfile.files import (
    EXECREPORT,
    PUBDATA,
    REQRESP,
    LinkGapError,
    Received,
    StepFileReader,
    StepFileWriter,
    file_path,
)
from adapters.stepfile.messages import format_ns, from_step, to_step
from core.clock import NS_PER_S, Clock
from core.events import Command, LinkStatus
from core.ports import EventSink, LinkState

BATCH = 256  # records a file a loop turn (the FIX link drains its inbox as many)
log = structlog.get_logger("stepfile.link")

SESSION_TYPES = frozenset({"A", "0", "5", "1"})
WATCH = inotify_flags.MODIFY | inotify_flags.CREATE | inotify_flags.MOVED_TO


def session_body(msg_type: str, heartbeat_s: float) -> list[tuple[int, str]]:
    if msg_type == "A":
        return [(98, "0"), (108, str(max(int(heartbeat_s), 1)))]
    return []


class StepFileLink:
    name = "stepfile"

    def __init__(
        self,
        directory: Path,
        ticks: Mapping[str, Decimal],
        clock: Clock,
        *,
        member: str = "MM01",
        exchange: str = "SSE",
        heartbeat_s: float = 1.0,
        resume_from: Mapping[str, int] | None = None,
        consumer: str = "gateway",
        fsync: bool = False,
        on_record: Callable[[str, int], None] | None = None,
    ) -> None:
        self.directory = directory
        self.ticks = ticks
        self.clock = clock
        self.member, self.exchange = member, exchange
        self.heartbeat_s = heartbeat_s
        self._resume = dict(resume_from or {})
        self._consumer = consumer
        self._fsync = fsync
        self._on_record = on_record
        """told (file role, record number) of every record handed over, for a consumer that
        keeps its own account of them and passes it back as `resume_from`"""
        self._state = LinkState.DOWN
        self._sink: EventSink | None = None
        self._writer: StepFileWriter | None = None
        self._write_lock = threading.Lock()  # submit_urgent writes from another thread
        self._market_data: collections.deque = collections.deque()  # read, not yet handed on
        self._readers: list[StepFileReader] = []
        self._snapshot: SnapshotReader | None = None
        self._inotify: INotify | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_heard_ns = 0
        self._last_sent_ns = 0
        self.handled: dict[str, int] = {}
        """the last record number handed to the sink, per file"""

    def resume_after(self, handled: Mapping[str, int]) -> None:
        """What the consumer already holds, per file (before `start`): skipped on reading."""
        self._resume = dict(handled)

    def forget_positions(self) -> None:
        """Drop this consumer's saved positions (before `start`): the files are read from the
        first record again, `resume_from` skipping what the consumer already holds. For a
        consumer whose own account (a journal committed in groups) may trail the positions
        the link saved."""
        for role in (EXECREPORT, PUBDATA):
            path = file_path(self.directory, role)
            path.with_name(f"{path.name}.{self._consumer}.pos").unlink(missing_ok=True)

    @property
    def state(self) -> LinkState:
        return self._state

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._writer = StepFileWriter(file_path(self.directory, REQRESP), sender=self.member,
                                      target=self.exchange, fsync=self._fsync)
        self._readers = [
            StepFileReader(file_path(self.directory, role), self._consumer,
                           skip_through=self._resume.get(role))
            for role in (EXECREPORT, PUBDATA)
        ]
        self._inotify = INotify()
        self._inotify.add_watch(str(self.directory), WATCH)
        snapshot_dir = self.directory / "ezsr"
        snapshot_dir.mkdir(exist_ok=True)
        self._inotify.add_watch(str(snapshot_dir), WATCH)
        self._snapshot = SnapshotReader(snapshot_dir / SNAPSHOT_FILE, self.ticks)
        self._loop.add_reader(self._inotify.fileno(), self._on_inotify)
        self._set_state(LinkState.CONNECTING, "logon sent")
        self._session("A")
        self._flush()
        self._last_heard_ns = self.clock.now_ns()
        self._tick()
        self._drain()

    async def stop(self) -> None:
        if self._writer is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._session("5")
        self._flush()
        self._writer.close()
        self._writer = None
        if self._inotify is not None and self._loop is not None:
            self._loop.remove_reader(self._inotify.fileno())
            self._inotify.close()
            self._inotify = None
        for reader in self._readers:
            reader.commit()
            reader.close()
        self._set_state(LinkState.DOWN, "logout sent")

    def submit(self, command: Command) -> None:
        """Queue a command; everything submitted in one loop turn goes out in one write."""
        if self._writer is None:
            raise RuntimeError("the file link is not started")
        if self._state is LinkState.FAILED:
            raise RuntimeError("the file link has failed; nothing more is sent")
        kind, body = to_step(command, self.ticks)
        with self._write_lock:
            self._writer.append(kind, body, format_ns(self.clock.now_ns()))
        if self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def submit_urgent(self, command: Command) -> None:
        """Write `command` now, with anything queued before it, from any thread: a kill's
        mass cancel reaches the exchange even while the event loop is stuck."""
        writer = self._writer
        if writer is None or self._state is LinkState.FAILED:
            raise RuntimeError(f"the file link is {self._state}: nothing can be sent")
        kind, body = to_step(command, self.ticks)
        with self._write_lock:
            writer.append(kind, body, format_ns(self.clock.now_ns()))
            writer.flush()

    def flush(self) -> None:
        """Write what was submitted now, not at the end of the loop turn."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush()

    # ---- internals ---------------------------------------------------------------------------

    def _session(self, msg_type: str) -> None:
        assert self._writer is not None
        with self._write_lock:
            self._writer.append(msg_type, session_body(msg_type, self.heartbeat_s),
                                format_ns(self.clock.now_ns()))

    def _flush(self) -> None:
        self._flush_handle = None
        with self._write_lock:
            flushed = self._writer is not None and self._writer.flush()
        if flushed:
            self._last_sent_ns = self.clock.now_ns()

    def _on_inotify(self) -> None:
        if self._inotify is not None:
            self._inotify.read(timeout=0)
        self._drain()

    def _drain(self) -> None:
        """What the exchange wrote, a bounded amount a loop turn: the trading stream first
        (statuses, fills, a mass cancel's report), then the market-data snapshot, so a kill's
        confirmation never waits behind a snapshot of thousands of contracts."""
        if self._state is LinkState.FAILED or self._sink is None:
            return
        more = False
        for reader in self._readers:
            try:
                batch = reader.poll(BATCH)
            except LinkGapError as exc:
                self._fail(str(exc))
                return
            for received in batch:
                self._handle(reader, received)
            reader.commit()
            more = more or len(batch) == BATCH
        if self._snapshot is not None and not more:
            try:
                self._market_data.extend(self._snapshot.poll(self.clock.now_ns()))
            except EzsrError as exc:
                # a bad snapshot is skipped; the next one replaces it whole
                log.error("snapshot_rejected", reason=str(exc))
        pending = self._market_data
        for _ in range(min(len(pending), BATCH)):
            self._sink(pending.popleft())
        if (more or pending) and self._loop is not None:
            # a flood (a mass cancel's thousands of statuses, a full snapshot) is taken a
            # batch a loop turn: the kill line's confirmation, the control channel and the
            # timers are not held up
            self._loop.call_soon(self._drain)

    def _handle(self, reader: StepFileReader, received: Received) -> None:
        assert self._sink is not None
        self._last_heard_ns = self.clock.now_ns()
        role = reader.path.stem
        self.handled[role] = received.seq
        if self._on_record is not None:
            self._on_record(role, received.seq)
        kind = received.message.msg_type
        if kind in SESSION_TYPES:
            if kind == "5":
                self._set_state(LinkState.DOWN, "the exchange logged out")
            elif self._state is not LinkState.UP:
                self._set_state(LinkState.UP, "the exchange answers")
            return
        if self._state is not LinkState.UP:
            self._set_state(LinkState.UP, "the exchange answers")
        try:
            event = from_step(received.message, self.ticks, self.clock.now_ns())
        except StepError as exc:
            reader.reject(received, str(exc))
            return
        self._sink(event)  # type: ignore[arg-type]

    def _tick(self) -> None:
        """Heartbeat when idle; a silent exchange puts the link down."""
        assert self._loop is not None
        now = self.clock.now_ns()
        interval_ns = int(self.heartbeat_s * NS_PER_S)
        if self._writer is not None and now - self._last_sent_ns >= interval_ns:
            self._session("0")
            self._flush()
        silent_ns = now - self._last_heard_ns
        if self._state is LinkState.UP and silent_ns > 3 * interval_ns:
            self._set_state(LinkState.DOWN,
                            f"no word from the exchange for {silent_ns / NS_PER_S:.1f} s")
        self._drain()  # a missed inotify event costs at most one heartbeat interval
        self._timer = self._loop.call_later(self.heartbeat_s / 2, self._tick)

    def _fail(self, reason: str) -> None:
        log.error("link_failed", reason=reason)
        self._set_state(LinkState.FAILED, reason)

    def _set_state(self, state: LinkState, reason: str) -> None:
        if state is self._state:
            return
        self._state = state
        log.info("link_state", state=str(state), reason=reason)
        if self._sink is not None:
            now = self.clock.now_ns()
            self._sink(LinkStatus(ts_event=now, ts_init=now, link=self.name, state=str(state),
                                  reason=reason))
