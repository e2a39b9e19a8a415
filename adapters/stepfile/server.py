"""The simulator's side of the file link: a simulated day served over a link directory.

The server reads the member's `reqresp.step`, carries each command out on the simulated
exchange at the simulated time it arrived, and writes what the exchange answers to
`execreport.step` (private: statuses, fills, rejects) and `pubdata.step` (public: phases,
limit states, halts, RFQs). Market data goes to the EzSR snapshot file (adapters/ezsr).

Restarts lose nothing and double nothing. Before carrying a command out the server appends it,
with its simulated arrival time and record number, to `.sim/inbound.jsonl`; the day is a
function of its seed and of those arrivals, so a restarted server replays the day up to the
present, checks every message it regenerates against what the files already hold (a mismatch
is an error: the simulation diverged), writes only what is missing, and goes on reading after
the last journaled record.
"""

import os
import select
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import msgspec
import structlog
from inotify_simple import INotify

from adapters.sim.day import SimDay
from adapters.sim.flow import FlowRecord, encode_record, read_records
from adapters.stepfile.codec import StepError, decode
from adapters.stepfile.files import (
    EXECREPORT,
    PUBDATA,
    REQRESP,
    StepFileReader,
    StepFileWriter,
    file_path,
)
from adapters.stepfile.link import SESSION_TYPES, WATCH, session_body
from adapters.stepfile.messages import format_ns, from_step, to_step
from core.clock import NS_PER_S
from core.events import (
    Event,
    Halt,
    LimitStateChange,
    LinkStatus,
    MarketData,
    MassCancelReport,
    PhaseChange,
    Rfq,
    StatusReport,
)

log = structlog.get_logger("stepfile.server")


class FixTransport(Protocol):
    """The member's FIX session beside the files (adapters.fix.acceptor.FixAcceptor)."""

    wake_fd: int
    logged_on: set[str]  # QuickFIX keeps the member's session alive with its heartbeats

    def take(self) -> list: ...

    def send(self, events: list[Event]) -> None: ...

    def remember(self, command: object) -> None: ...


MEMBER_SESSION_FIX = "member"  # the member's session's role on the FIX acceptor

MEMBER_SESSION = "member"
_PUBLIC = (PhaseChange, LimitStateChange, Halt, Rfq)


class RecoveryError(RuntimeError):
    """A restarted simulator regenerated something other than what its files hold."""


class _Output:
    """A record file the server writes; while recovering, it checks regenerated application
    messages against those already in the file and writes only what comes after them."""

    def __init__(self, path: Path, sender: str, target: str) -> None:
        self.writer = StepFileWriter(path, sender=sender, target=target)
        self._expected: list[tuple[str, tuple[tuple[int, str], ...]]] = []
        self._matched = 0
        if self.writer.seq:
            with path.open("rb") as fh:
                for line in fh:
                    message = decode(line.rstrip(b"\n").split(b"\t", 1)[1])
                    if message.msg_type not in SESSION_TYPES:
                        self._expected.append((message.msg_type, message.body))

    @property
    def recovering(self) -> bool:
        return self._matched < len(self._expected)

    def append(self, msg_type: str, body: list[tuple[int, str]], ts_ns: int) -> None:
        if self._matched < len(self._expected):
            if self._expected[self._matched] != (msg_type, tuple(body)):
                raise RecoveryError(
                    f"{self.writer.path}: regenerated message {self._matched + 1} differs from "
                    f"the file: {msg_type} {body} vs {self._expected[self._matched]}")
            self._matched += 1
            return
        self.writer.append(msg_type, body, format_ns(ts_ns))

    def session(self, msg_type: str, heartbeat_s: float, ts_ns: int) -> None:
        self.writer.append(msg_type, session_body(msg_type, heartbeat_s), format_ns(ts_ns))

    def check_complete(self) -> None:
        if self.recovering:
            raise RecoveryError(
                f"{self.writer.path}: the replay regenerated {self._matched} of "
                f"{len(self._expected)} messages the file holds")


class StepFileServer:
    def __init__(
        self,
        sim_day: SimDay,
        directory: Path,
        *,
        member: str = "MM01",
        exchange: str = "SSE",
        heartbeat_s: float = 1.0,
        cancel_on_disconnect: bool = False,
        on_market_data: Callable[[MarketData], None] | None = None,
        fix: "FixTransport | None" = None,
    ) -> None:
        self.day = sim_day
        self.fix = fix  # the member's FIX session beside the files, when served
        self._fix_pending: list[Event] = []  # for the FIX session, once in the files
        self.directory = directory
        self.heartbeat_s = heartbeat_s
        self.cancel_on_disconnect = cancel_on_disconnect
        self.on_market_data = on_market_data
        self.ticks = {i.instrument_id: i.tick for i in sim_day.listing.instruments}
        directory.mkdir(parents=True, exist_ok=True)
        state_dir = directory / ".sim"
        state_dir.mkdir(exist_ok=True)
        self.journal_path = state_dir / "inbound.jsonl"
        self.outputs = {
            EXECREPORT: _Output(file_path(directory, EXECREPORT), exchange, member),
            PUBDATA: _Output(file_path(directory, PUBDATA), exchange, member),
        }
        journal = list(read_records(self.journal_path)) if self.journal_path.exists() else []
        last_seq = max((r.seq for r in journal), default=0)
        self.reader = StepFileReader(file_path(directory, REQRESP), "simulator",
                                     skip_through=last_seq)
        self._journal_fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                                   0o644)
        self.member_up = False
        self._last_heard_wall = time.monotonic()
        self._last_sent_wall = 0.0
        sim_day.exchange.connect(MEMBER_SESSION, self._on_event, public=True,
                                 cancel_on_disconnect=cancel_on_disconnect)
        self.commands = 0
        self._replay(journal)

    # ---- recovery ----------------------------------------------------------------------------

    def _replay(self, journal: list[FlowRecord]) -> None:
        for record in journal:
            self.day.run(until_ns=record.ts)
            self._apply(record)
            if record.command is not None and self.fix is not None:
                self.fix.remember(record.command)  # a PossDup resend of it is a duplicate
        if journal:
            log.info("simulator_recovered", commands=len(journal),
                     sim_time=format_ns(self.day.clock.now_ns()))

    # ---- the member's side -------------------------------------------------------------------

    def pump(self) -> int:
        """Carry out every new record of reqresp at the current simulated time."""
        records = []
        now = self.day.clock.now_ns()
        for received in self.reader.poll():
            kind = received.message.msg_type
            if kind in SESSION_TYPES:
                self._last_heard_wall = time.monotonic()
                event = {"A": "logon", "5": "logout"}.get(kind)
                if event is not None:
                    records.append(FlowRecord(ts=now, session=MEMBER_SESSION,
                                              seq=received.seq, link=event))
                continue
            self._last_heard_wall = time.monotonic()
            try:
                command = from_step(received.message, self.ticks, now)
            except StepError as exc:
                self.reader.reject(received, str(exc))
                continue
            records.append(FlowRecord(ts=now, session=MEMBER_SESSION, seq=received.seq,
                                      command=command))  # type: ignore[arg-type]
        if self.fix is not None:
            for item in self.fix.take():
                if item.command is not None:
                    records.append(FlowRecord(ts=now, session=MEMBER_SESSION,
                                              command=item.command))
                elif item.session == MEMBER_SESSION_FIX:
                    self._last_heard_wall = time.monotonic()
                    records.append(FlowRecord(ts=now, session=MEMBER_SESSION, link=item.link))
        over_fix = self.fix is not None and MEMBER_SESSION_FIX in self.fix.logged_on
        if (self.member_up and not over_fix
                and time.monotonic() - self._last_heard_wall > 3 * self.heartbeat_s):
            records.append(FlowRecord(ts=now, session=MEMBER_SESSION, link="silent"))
        if records:
            os.write(self._journal_fd, b"".join(encode_record(r) for r in records))
            for record in records:
                self._apply(record)
        self.reader.commit()
        self.day.exchange.flush()
        self.flush()
        return len(records)

    def _apply(self, record: FlowRecord) -> None:
        exchange = self.day.exchange
        if record.link == "logon":
            if not exchange.out.sessions[MEMBER_SESSION].connected:
                exchange.connect(MEMBER_SESSION, self._on_event, public=True,
                                 cancel_on_disconnect=self.cancel_on_disconnect)
            self.member_up = True
        elif record.link in ("logout", "silent"):
            self.member_up = False
            exchange.disconnect(MEMBER_SESSION)
            # the exchange keeps writing the member's files while it is away
            exchange.connect(MEMBER_SESSION, self._on_event, public=True,
                             cancel_on_disconnect=self.cancel_on_disconnect)
        elif record.command is not None:
            self.commands += 1
            exchange.submit(MEMBER_SESSION, record.command)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, MarketData):
            if self.on_market_data is not None:
                self.on_market_data(event)
            return
        if isinstance(event, LinkStatus):
            return
        if isinstance(event, StatusReport):  # only the FIX session asks for one
            self._fix_pending.append(event)
            return
        kind, body = to_step(event, self.ticks)  # type: ignore[arg-type]
        role = PUBDATA if isinstance(event, _PUBLIC) else EXECREPORT
        self.outputs[role].append(kind, body, event.ts_event)
        if self.fix is not None and not self.outputs[role].recovering:
            # sent once the files hold it (`flush`): after a crash the files say what the
            # member was told, over either link, and nothing is told twice
            self._fix_pending.append(event)
        if isinstance(event, MassCancelReport):
            self.flush()  # the member's confirmation goes out before the statuses it names

    # ---- the exchange's side -----------------------------------------------------------------

    def logon(self) -> None:
        for output in self.outputs.values():
            output.check_complete()
        self.outputs[EXECREPORT].session("A", self.heartbeat_s, self.day.clock.now_ns())
        self.flush()

    def heartbeat(self) -> None:
        if time.monotonic() - self._last_sent_wall >= self.heartbeat_s:
            self.outputs[EXECREPORT].session("0", self.heartbeat_s, self.day.clock.now_ns())
            self.flush()

    def flush(self) -> None:
        wrote = sum(output.writer.flush() for output in self.outputs.values())
        if wrote:
            self._last_sent_wall = time.monotonic()
        if self.fix is not None and self._fix_pending:
            pending, self._fix_pending = self._fix_pending, []
            self.fix.send(pending)

    def close(self) -> None:
        self.outputs[EXECREPORT].session("5", self.heartbeat_s, self.day.clock.now_ns())
        for output in self.outputs.values():
            output.writer.close()
        self.reader.commit()
        self.reader.close()
        os.close(self._journal_fd)


class Anchor(msgspec.Struct, frozen=True):
    """Where simulated time stands against the wall clock: sim = sim0 + (wall - wall0) x speed,
    except that each of `skips` (start, end in simulated epoch ns, in time order: stretches
    when every market is closed) passes in no wall time at all."""

    day: str
    seed: int
    speed: float
    wall0_ns: int
    sim0_ns: int
    skips: tuple[tuple[int, int], ...] = ()

    def sim_ns(self, wall_ns: int) -> int:
        sim = self.sim0_ns + int((wall_ns - self.wall0_ns) * self.speed)
        for start, end in self.skips:
            if sim >= start:
                sim += end - start
        return sim

    def running_ns(self, sim_ns: int) -> int:
        """Simulated time since sim0 that the wall clock lived through (skips left out)."""
        skipped = sum(max(min(sim_ns, end) - start, 0) for start, end in self.skips)
        return sim_ns - self.sim0_ns - skipped

    def wall_ns(self, sim_ns: int) -> float:
        """When the wall clock reaches `sim_ns` (the start of a skip for a time inside it)."""
        return self.wall0_ns + self.running_ns(sim_ns) / self.speed


def load_anchor(directory: Path, day: str, seed: int, speed: float, start_ns: int,
                skips: tuple[tuple[int, int], ...] = ()) -> Anchor:
    """The run's anchor: kept from an earlier start of the same day and seed, else new."""
    path = directory / ".sim" / "anchor.json"
    if path.exists():
        anchor = msgspec.json.decode(path.read_bytes(), type=Anchor)
        if (anchor.day, anchor.seed) != (day, seed):
            raise ValueError(f"{directory} serves day {anchor.day} seed {anchor.seed}, not "
                             f"day {day} seed {seed}: use another --link-dir")
        return anchor
    anchor = Anchor(day=day, seed=seed, speed=speed, wall0_ns=time.time_ns(), sim0_ns=start_ns,
                    skips=skips)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(anchor))
    return anchor


def serve(server: StepFileServer, anchor: Anchor, *, stop: Callable[[], bool] = lambda: False,
          on_tick: Callable[[], None] | None = None) -> None:
    """Run the day against the wall clock until it ends (or `stop()` says so), waking on
    every write to reqresp."""
    day = server.day
    inotify = INotify()
    inotify.add_watch(str(server.directory), WATCH)
    poller = select.poll()
    poller.register(inotify.fileno(), select.POLLIN)
    if server.fix is not None:
        poller.register(server.fix.wake_fd, select.POLLIN)
    try:
        day.run(until_ns=min(anchor.sim_ns(time.time_ns()), day.end_ns))
        server.logon()  # only once the replay has caught up with the present
        while not stop():
            target = min(anchor.sim_ns(time.time_ns()), day.end_ns)
            day.run(until_ns=target)
            server.pump()
            server.heartbeat()
            if on_tick is not None:
                on_tick()
            if target >= day.end_ns:
                break
            nxt = day.clock.next_deadline_ns()
            wait_s = server.heartbeat_s / 2
            if nxt is not None:
                wait_s = min(wait_s, max((anchor.wall_ns(nxt) - time.time_ns()) / NS_PER_S,
                                         0.0))
            if poller.poll(wait_s * 1000) and _readable(inotify.fileno()):
                inotify.read(timeout=0)
    finally:
        server.close()
        inotify.close()


def _readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])
