"""The gateway's FIX link: an `ExchangeLink` on a QuickFIX initiator (MM01 -> SIM, FIX 4.4).

Commands go out through `fix.Session.sendToTarget` (QuickFIX takes sends from any thread, so
`submit_urgent` is `submit`). QuickFIX calls back on its own threads: every callback copies
the message into core Structs and hands them to the event loop with `call_soon_threadsafe`,
keeps no QuickFIX object, and catches every exception (one escaping a callback would end the
process): a message it cannot read is reported to the sink as a `Reject` naming the tag and
the value, and logged. Logon and logout become `LinkStatus` up and down; QuickFIX reconnects
on its own every `reconnect_s`, and its FileStore keeps the sequence numbers across
reconnects and restarts (a gap is recovered by ResendRequest and gap fill).

Market data does not travel over this session: the exchange's EzSR snapshot file is read
as on the file link (`snapshot_dir`), as SSE's members take it from EzSR beside their trading
line.
"""

import asyncio
import threading
import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import msgspec
import quickfix as fix
import structlog
from inotify_simple import INotify
from inotify_simple import flags as inotify_flags

from adapters.ezsr.snapshot import SNAPSHOT_FILE, EzsrError, SnapshotReader
from adapters.fix.acceptor import session_defaults
from adapters.fix.messages import (
    FixError,
    accepted_of_ack,
    build,
    build_mass_quote,
    from_fix,
    parse_text,
    to_fix,
)
from adapters.fix.settings import Application, FixConfig, share_the_gil, write
from adapters.stepfile.link import BATCH
from core.clock import Clock
from core.events import (
    ENCODER,
    Command,
    ExecutionReport,
    LinkStatus,
    MassCancelReport,
    Quote,
    QuoteStatus,
    Reject,
    Rfq,
)
from core.ports import EventSink, LinkState

log = structlog.get_logger("fix.link")
MASS_QUOTE_ENTRIES = 100  # quotes a MassQuote at most
GIVEN_KEPT = 200_000  # the latest events' keys kept against PossDup resends (a resend fills
# a gap after a reconnect: recent messages; the OMS drops a fill told twice in any case)


def event_key(event) -> tuple:
    """What makes an exchange event the same event when it is told again."""
    match event:
        case ExecutionReport():
            return ("8", event.exec_id)
        case QuoteStatus():
            return ("AI", event.quote_id, str(event.status), event.bid_qty, event.ask_qty)
        case MassCancelReport():
            return ("r", event.request_id)
        case Rfq():
            return ("R", event.rfq_id)
    # anything else: the whole message but for when it was read
    return (type(event).__name__, ENCODER.encode(msgspec.structs.replace(event, ts_init=0)))


def backoff(first_s: float, max_s: float):
    """first, 2 x first, 4 x first, ... at most max_s, for ever."""
    delay = first_s
    while True:
        yield min(delay, max_s)
        delay = min(delay * 2, max_s)




class _Application(Application):
    def __init__(self, owner: "FixLink") -> None:
        super().__init__()
        self.owner = owner

    def onLogon(self, sessionID):
        self.owner._to_loop(self.owner._set_state, LinkState.UP, "logged on")

    def onLogout(self, sessionID):
        self.owner._to_loop(self.owner._set_state, LinkState.DOWN, "logged out")

    def fromApp(self, message, sessionID):
        self.owner._inbound(message)

    def toAdmin(self, message, sessionID):
        self.owner._session_reject(message, ours=True)

    def fromAdmin(self, message, sessionID):
        self.owner._session_reject(message, ours=False)


class FixLink:
    name = "fix"
    reconciles = True  # after a reconnect the gateway asks the status of what stood (35=a)

    def __init__(self, directory: Path, host: str, port: int, ticks: Mapping[str, Decimal],
                 clock: Clock, *, snapshot_dir: Path | None = None,
                 config: FixConfig | None = None,
                 venues: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.ticks = ticks
        self.clock = clock
        self.snapshot_dir = snapshot_dir
        self.config = config or FixConfig()
        self._state = LinkState.DOWN
        self._sink: EventSink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        cfg = self.config
        self._session = fix.SessionID("FIX.4.4", cfg.member_comp_id, cfg.exchange_comp_id)
        # QuickFIX retries on its own only at the longest interval; the back-off below
        # restarts the initiator sooner, doubling the wait each time
        self._settings = write(directory / "initiator.cfg", session_defaults(directory) | {
            "ConnectionType": "initiator", "SocketConnectHost": host,
            "SocketConnectPort": str(port), "HeartBtInt": str(cfg.heartbeat_s),
            "ReconnectInterval": str(max(int(cfg.reconnect_max_s), 1)), "SocketNodelay": "Y",
        }, [{"BeginString": "FIX.4.4", "SenderCompID": cfg.member_comp_id,
             "TargetCompID": cfg.exchange_comp_id}])
        self._supervisor: asyncio.Task | None = None
        self._lifecycle = threading.Lock()  # one restart or stop of the initiator at a time
        self._venues = dict(venues or {})  # instrument -> venue, for MassQuote
        self._mass_venues = set(self.config.mass_quote_venues)
        self._pending: list[Quote] = []  # quotes waiting for the end of the loop turn
        self._pending_lock = threading.Lock()  # the kill line sends from its own thread
        self._incarnation = f"{time.time_ns() // 1_000_000:x}"
        self._mass_ids = 0
        self.mass_quotes = 0  # MassQuotes sent
        self.mass_acks = 0  # MassQuoteAcknowledgements received
        self._inbox: list = []  # events from QuickFIX's thread, for the loop
        self._inbox_lock = threading.Lock()
        self._drain_scheduled = False
        self.attempts: list[float] = []  # when each (re)connect began (monotonic)
        self.waits: list[float] = []  # the back-off before each reconnect
        self._application = _Application(self)
        self._initiator: fix.SocketInitiator | None = None
        self._snapshot: SnapshotReader | None = None
        self._inotify: INotify | None = None
        self.errors = 0
        self.refused = 0  # exchange messages our session refused (session-level Rejects sent)
        self.duplicates = 0
        self._given: dict[tuple, None] = {}  # what was handed on, by its own key, oldest first

    @property
    def state(self) -> LinkState:
        return self._state

    def resume_after(self, handled: Mapping[str, int]) -> None:
        """The file link's resume points mean nothing here: QuickFIX's store resumes the
        session's sequence numbers, and the exchange resends what the gateway missed."""

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        if self.snapshot_dir is not None:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            self._snapshot = SnapshotReader(self.snapshot_dir / SNAPSHOT_FILE, self.ticks)
            self._inotify = INotify()
            self._inotify.add_watch(str(self.snapshot_dir), inotify_flags.MODIFY
                                    | inotify_flags.CREATE | inotify_flags.MOVED_TO)
            self._loop.add_reader(self._inotify.fileno(), self._on_snapshot)
            self._on_snapshot()
        self._set_state(LinkState.CONNECTING, "logon sent")
        share_the_gil()
        self._initiator = fix.SocketInitiator(self._application,
                                              self.config.store_factory(self._settings),
                                              self._settings,
                                              fix.FileLogFactory(self._settings))
        self.attempts.append(time.monotonic())
        self._initiator.start()
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def _supervise(self) -> None:
        """Reconnect with exponential back-off: while the session is not up, restart the
        initiator after reconnect_s, then twice that, up to reconnect_max_s; a logon resets
        the wait."""
        delays = backoff(self.config.reconnect_s, self.config.reconnect_max_s)
        delay = next(delays)
        due = time.monotonic() + delay
        loop = asyncio.get_running_loop()
        while self._initiator is not None:
            await asyncio.sleep(0.1)
            if self._state is LinkState.UP:
                delays = backoff(self.config.reconnect_s, self.config.reconnect_max_s)
                delay = next(delays)
                due = time.monotonic() + delay
                continue
            if time.monotonic() < due or self._initiator is None:
                continue
            initiator = self._initiator
            log.info("fix_reconnect", after_s=delay, attempt=len(self.attempts))
            self.attempts.append(time.monotonic())
            self.waits.append(delay)
            await loop.run_in_executor(None, self._restart, initiator)
            delay = next(delays)
            due = time.monotonic() + delay

    def _restart(self, initiator: fix.SocketInitiator) -> None:
        """Stop and start the initiator (its start connects at once); never while the link
        is stopping."""
        with self._lifecycle:
            if self._initiator is initiator:
                initiator.stop()
                initiator.start()

    def _stop_initiator(self) -> None:
        with self._lifecycle:  # after any restart in flight
            initiator, self._initiator = self._initiator, None
            if initiator is not None:
                initiator.stop()

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            self._supervisor = None
        if self._initiator is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._stop_initiator)
        if self._inotify is not None and self._loop is not None:
            self._loop.remove_reader(self._inotify.fileno())
            self._inotify.close()
            self._inotify = None
        self._set_state(LinkState.DOWN, "logout sent")

    def submit(self, command: Command) -> None:
        """Send a command (QuickFIX writes it on the calling thread). A quote waits for the
        end of the loop turn, to go out with the turn's other quotes (in MassQuotes where the
        venue takes them); anything else first sends what waits, so the order is kept."""
        if self._state is not LinkState.UP:
            raise RuntimeError(f"the FIX link is {self._state}: nothing can be sent")
        if isinstance(command, Quote) and command.rfq_id is None:
            with self._pending_lock:
                self._pending.append(command)
                first = len(self._pending) == 1
            if first and self._loop is not None:
                self._loop.call_soon(self._flush_pending)
            return
        self.submit_urgent(command)

    def submit_urgent(self, command: Command) -> None:
        """Send now, from any thread (the kill line's): after the quotes that wait."""
        with self._pending_lock:
            self._send_pending()
            self._send(build(to_fix(command, self.ticks)))

    def flush(self) -> None:
        """Send the quotes that wait now (in MassQuotes where the venue takes them), not at
        the end of the loop turn."""
        self._flush_pending()

    def _flush_pending(self) -> None:
        with self._pending_lock:
            self._send_pending()

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        if self._state is not LinkState.UP:
            # never sent: QuickFIX would keep them for a resend after the reconnect, stale;
            # the reconciliation finds them gone
            return
        mass: list[Quote] = []
        for quote in pending:
            if self._venues.get(quote.instrument_id) in self._mass_venues:
                mass.append(quote)
            else:
                self._send(build(to_fix(quote, self.ticks)))
        for start in range(0, len(mass), MASS_QUOTE_ENTRIES):
            chunk = mass[start:start + MASS_QUOTE_ENTRIES]
            if len(chunk) == 1:
                self._send(build(to_fix(chunk[0], self.ticks)))
            else:
                self._mass_ids += 1
                self._send(build_mass_quote(f"MQ{self._incarnation}.{self._mass_ids}", chunk,
                                            self.ticks))
                self.mass_quotes += 1

    def _send(self, message: fix.Message) -> None:
        if not fix.Session.sendToTarget(message, self._session):
            raise RuntimeError("the FIX session did not take the message")

    # ---- QuickFIX's threads --------------------------------------------------------------

    def _to_loop(self, fn, *args) -> None:
        try:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(fn, *args)
        except Exception as exc:  # a callback must not raise
            self.errors += 1
            log.error("fix_callback_failed", error=repr(exc))

    def _inbound(self, message: fix.Message) -> None:
        """QuickFIX's thread: the message copied into a core Struct (no QuickFIX object is
        kept), queued for the loop; a PossDup resend of what was handed on already is
        dropped here."""
        try:
            text = message.toString()  # one call into QuickFIX a message
            layout = parse_text(text)
            if layout.msg_type == "b":
                self.mass_acks += 1  # an acceptance an entry
                events = accepted_of_ack(text, self.ticks, self.clock.now_ns())
            else:
                events = [from_fix(layout, self.ticks, self.clock.now_ns())]
            for event in events:
                key = event_key(event)
                with self._inbox_lock:
                    if layout.possdup and key in self._given:
                        self.duplicates += 1
                        continue  # a PossDup resend of what the loop was already given
                    self._given[key] = None
                    if len(self._given) > GIVEN_KEPT:
                        del self._given[next(iter(self._given))]
                self._deliver(event)
        except FixError as exc:
            self.errors += 1
            now = time.time_ns()
            log.error("fix_message_unreadable", error=str(exc))
            self._deliver(Reject(ts_event=now, ts_init=now, ref_id="",
                                 reason=f"unreadable from the exchange: {exc}"))
        except Exception as exc:  # a callback must not raise
            self.errors += 1
            log.error("fix_callback_failed", error=repr(exc))

    def _session_reject(self, message: fix.Message, *, ours: bool) -> None:
        """QuickFIX's thread: a session-level Reject (35=3) is a message one end's QuickFIX
        refused before its application saw it (a value out of the dictionary's range, a
        missing tag): an exchange event lost to the books (`ours`: our session refused it)
        or a command of ours the exchange never acted on. Reported to the sink as a `Reject`
        naming the message, the tag and the reason, and logged."""
        try:
            if message.getHeader().getField(35) != "3":
                return
            refused = parse_text(message.toString())
            self.errors += 1
            if ours:
                self.refused += 1
            what = refused.get(372) or "?"
            whose = "our FIX session refused the exchange's" if ours else (
                "the exchange's FIX session refused our")
            reason = (f"{whose} MsgType {what} (MsgSeqNum {refused.get(45)}): tag "
                      f"{refused.get(371) or '?'}: "
                      f"{refused.get(58) or 'reason ' + (refused.get(373) or '?')}")
            log.error("fix_message_refused", reason=reason)
            now = time.time_ns()
            self._deliver(Reject(ts_event=now, ts_init=now, ref_id=refused.get(45) or "",
                                 reason=reason, ref_type=what))
        except Exception as exc:  # a callback must not raise
            self.errors += 1
            log.error("fix_callback_failed", error=repr(exc))

    def _deliver(self, event) -> None:
        """Queue the event; the loop is woken once for everything queued until it drains (a
        burst of statuses is one loop callback, as on the file link, not one wake-up
        each)."""
        with self._inbox_lock:
            self._inbox.append(event)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._drain)

    # ---- the loop's thread ---------------------------------------------------------------

    def _drain(self) -> None:
        """A bounded batch a loop turn (as the file link reads its files): the requote a fill
        calls for runs after at most BATCH events, not after the whole flood."""
        with self._inbox_lock:
            events, self._inbox = self._inbox[:BATCH], self._inbox[BATCH:]
            more = bool(self._inbox)
            self._drain_scheduled = more
        if more and self._loop is not None:
            self._loop.call_soon(self._drain)
        for event in events:
            if self._sink is not None:
                self._sink(event)

    def _on_snapshot(self) -> None:
        if self._inotify is not None:
            self._inotify.read(timeout=0)
        if self._snapshot is None or self._sink is None:
            return
        try:
            for market_data in self._snapshot.poll(self.clock.now_ns()):
                self._sink(market_data)
        except EzsrError as exc:
            log.error("snapshot_rejected", reason=str(exc))

    def _set_state(self, state: LinkState, reason: str) -> None:
        if state is self._state:
            return
        self._state = state
        log.info("link_state", link=self.name, state=str(state), reason=reason)
        if self._sink is not None:
            now = self.clock.now_ns()
            self._sink(LinkStatus(ts_event=now, ts_init=now, link=self.name, state=str(state),
                                  reason=reason))
