"""The simulator's FIX acceptor: the member's trading session (and a drop-copy session) over
QuickFIX, beside the file link (`mmgw sim serve --fix-port N`).

QuickFIX calls back on its own threads. Every callback copies what it got into core Structs
(or a link event) and queues it for the simulator's loop, which it wakes through a pipe; it
keeps no QuickFIX object and catches every exception (one escaping a callback would end the
process), answering a message it cannot read with a Reject that names the tag and the value.
The loop hands the exchange's events back with `send`, which queues them for the acceptor's
sender thread: QuickFIX's send (the message built, stored in the FileStore, logged, written
to the socket: about 40 us a message here, most of it system calls) ran on the simulator's
loop and took 21 s of a 200x demo day from matching; the thread keeps the order given.

Sessions: SIM -> MM01 (the member: quotes, orders, cancels, RFQ answers in; statuses, fills,
mass-cancel reports, phases, RFQs out) and SIM -> DROP (every fill of the member's, for a
second party). Sequence numbers persist across reconnects within the run (no reset on
logon), so a gap is recovered by ResendRequest and gap fill; the store is a FileStore in the
link directory, so they persist across restarts of the simulator too.
"""

import contextlib
import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import quickfix as fix
import structlog

from adapters.fix.messages import (
    FixError,
    build,
    from_fix,
    mass_quote_ack,
    mass_quotes_of,
    parse_text,
    to_fix,
)
from adapters.fix.settings import Application, FixConfig, dictionary, share_the_gil, write
from core.enums import ExecType, QuoteStatusCode
from core.events import Command, Event, ExecutionReport, QuoteStatus, Reject

log = structlog.get_logger("fix.acceptor")

MEMBER, DROP_COPY = "member", "drop"  # the roles of the acceptor's sessions


@dataclass(frozen=True, slots=True)
class Inbound:
    """What a callback hands the loop: a command, or a link event (logon, logout)."""

    session: str  # the session's role: MEMBER or DROP_COPY
    command: Command | None = None
    link: str = ""


def _built(event: Event, ticks: Mapping[str, Decimal]) -> fix.Message:
    return build(to_fix(event, ticks))  # type: ignore[arg-type]


def command_key(command: object) -> str:
    """A command's own id (a quote's, an order's, a cancel's, an RFQ's), kind-qualified."""
    for name in ("quote_id", "request_id", "client_id", "rfq_id"):
        value = getattr(command, name, None)
        if value:
            return f"{type(command).__name__}:{value}"
    return ""


def session_defaults(directory: Path) -> dict[str, str]:
    """The settings both ends of the trading link share."""
    return {
        "StartTime": "00:00:00",
        "EndTime": "00:00:00",
        "UseDataDictionary": "Y",
        "DataDictionary": str(dictionary("FIX44")),
        "ValidateUserDefinedFields": "N",
        "AllowUnknownMsgFields": "Y",
        "FileStorePath": str(directory / "store"),
        "FileLogPath": str(directory / "log"),
        "PersistMessages": "Y",
    }


class _Application(Application):
    def __init__(self, owner: "FixAcceptor") -> None:
        super().__init__()
        self.owner = owner

    def onLogon(self, sessionID):
        self.owner._link(sessionID, "logon")

    def onLogout(self, sessionID):
        self.owner._link(sessionID, "logout")

    def fromApp(self, message, sessionID):
        self.owner._inbound(message, sessionID)


class FixAcceptor:
    def __init__(self, port: int, directory: Path, ticks: Mapping[str, Decimal], *,
                 cancel_on_disconnect: bool = False, config: FixConfig | None = None) -> None:
        self.config = cfg = config or FixConfig()
        self.roles = {cfg.member_comp_id: MEMBER, cfg.drop_copy_comp_id: DROP_COPY}
        self.port = port
        self.ticks = ticks
        self.cancel_on_disconnect = cancel_on_disconnect
        self.inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self.logged_on: set[str] = set()
        # the sessions exist from the start: what the exchange says before the member logs on
        # is stored and reaches it by resend at its logon
        self._ids = {role: fix.SessionID("FIX.4.4", cfg.exchange_comp_id, comp_id)
                     for comp_id, role in self.roles.items()}
        self.errors = 0
        self.duplicates = 0  # PossDup resends of commands already carried out, dropped
        self._seen: set[str] = set()  # the ids of the commands carried out
        settings = write(directory / "acceptor.cfg", session_defaults(directory) | {
            "ConnectionType": "acceptor", "SocketAcceptPort": str(port),
            "SocketReuseAddress": "Y", "SocketNodelay": "Y",
            "HeartBtInt": str(cfg.heartbeat_s),
        }, [{"BeginString": "FIX.4.4", "SenderCompID": cfg.exchange_comp_id,
             "TargetCompID": comp_id} for comp_id in self.roles])
        self._application = _Application(self)
        self._server = fix.SocketAcceptor(self._application, cfg.store_factory(settings),
                                          settings, fix.FileLogFactory(settings))
        self._lock = threading.Lock()
        self._outbox: queue.SimpleQueue[list[Event] | None] = queue.SimpleQueue()
        self._mass_of: dict[str, str] = {}  # quote id -> its MassQuote's, until its status
        self._sender = threading.Thread(target=self._send_queued, name="fix-sender",
                                        daemon=True)

    @property
    def wake_fd(self) -> int:
        """Readable when something is queued (drain it with `take`)."""
        return self._wake_r

    def start(self) -> None:
        share_the_gil()
        self._server.start()
        self._sender.start()

    def stop(self) -> None:
        if self._sender.is_alive():
            self._outbox.put(None)  # after everything queued is sent
            self._sender.join()
        self._server.stop()
        os.close(self._wake_w)
        os.close(self._wake_r)

    def take(self) -> list[Inbound]:
        """Everything queued since the last call (the loop's thread)."""
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        while True:
            try:
                out.append(self.inbox.get_nowait())
            except queue.Empty:
                return out

    def send(self, events: list[Event]) -> None:
        """Queue exchange events for the member (fills copied to the drop copy too), in
        order: the sender thread sends them. A session not logged on now gets them by
        resend at its logon (its store keeps them)."""
        self._outbox.put(events)

    def _send_queued(self) -> None:
        """The sender thread: each queued batch built and sent, until `stop`."""
        while (events := self._outbox.get()) is not None:
            try:
                plan = self._plan(events)
            except Exception as exc:  # the thread must go on: the next batch may be fine
                self.errors += 1
                log.error("fix_send_failed", error=repr(exc))
                continue
            for message, target in plan:
                try:
                    fix.Session.sendToTarget(message(), self._ids[target])
                except Exception as exc:  # the next message may be fine
                    self.errors += 1
                    log.error("fix_send_failed", error=repr(exc))

    def _plan(self, events: list[Event]) -> list[tuple[Callable[[], fix.Message], str]]:
        """The messages of a batch, in order, each with its session: the acceptances of a
        MassQuote's quotes go together in its MassQuoteAcknowledgement, where the first of
        them stood (a quote's own later events, its fills and its end, always follow it);
        everything else one message an event, and each fill once more for the drop copy."""
        plan: list[tuple[Callable[[], fix.Message], str]] = []
        acks: dict[str, list[QuoteStatus]] = {}
        ticks = self.ticks
        for event in events:
            if isinstance(event, QuoteStatus):
                with self._lock:
                    mass_id = self._mass_of.pop(event.quote_id, None)
                if mass_id is not None and event.status is QuoteStatusCode.ACCEPTED:
                    if mass_id not in acks:
                        accepted = acks[mass_id] = []
                        plan.append((functools.partial(mass_quote_ack, mass_id, event.account,
                                                       accepted, ticks), MEMBER))
                    acks[mass_id].append(event)
                    continue
            plan.append((functools.partial(_built, event, ticks), MEMBER))
            if isinstance(event, ExecutionReport) and event.exec_type is ExecType.TRADE:
                plan.append((functools.partial(_built, event, ticks), DROP_COPY))
        return plan

    # ---- QuickFIX's threads --------------------------------------------------------------

    def _who(self, session_id: fix.SessionID) -> str:
        """The session's role: MEMBER or DROP_COPY."""
        return self.roles.get(session_id.getTargetCompID().getValue(), "")

    def _wake(self, item: Inbound) -> None:
        self.inbox.put(item)
        # a full pipe means the loop has a wake-up pending already; a closed one, stopping
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def _link(self, session_id: fix.SessionID, what: str) -> None:
        try:
            who = self._who(session_id)
            with self._lock:
                (self.logged_on.add if what == "logon" else self.logged_on.discard)(who)
            self._wake(Inbound(who, link=what))
        except Exception as exc:  # a callback must not raise
            self.errors += 1
            log.error("fix_callback_failed", where=what, error=repr(exc))

    def remember(self, command: object) -> None:
        """A command the exchange has carried out (replayed from its journal at a restart):
        a PossDup resend of it is dropped."""
        key = command_key(command)
        if key:
            with self._lock:
                self._seen.add(key)

    def _inbound(self, message: fix.Message, session_id: fix.SessionID) -> None:
        text = ""
        try:
            text = message.toString()  # one call into QuickFIX a message
            layout = parse_text(text)
            who = self._who(session_id)
            if who != MEMBER:
                raise FixError(35, layout.msg_type,
                               f"the {who} session takes no application messages")
            mass_id = ""
            if layout.msg_type == "i":
                # acknowledged once the exchange has taken its quotes: `send`
                mass_id, commands = mass_quotes_of(text, self.ticks, time.time_ns())
            else:
                command = from_fix(layout, self.ticks, time.time_ns())
                if isinstance(command, Event):
                    raise FixError(35, layout.msg_type, "an exchange's message, not a member's")
                commands = [command]  # type: ignore[list-item]
            for command in commands:
                key = command_key(command)
                with self._lock:
                    duplicate = layout.possdup and key in self._seen
                    self._seen.add(key)
                if duplicate:
                    self.duplicates += 1
                    log.info("possdup_dropped", key=key)
                    continue
                if mass_id:
                    with self._lock:
                        self._mass_of[command.quote_id] = mass_id  # type: ignore[union-attr]
                self._wake(Inbound(who, command=command))  # type: ignore[arg-type]
        except FixError as exc:
            self.errors += 1
            now = time.time_ns()
            ref = ""
            with contextlib.suppress(FixError):
                ref = next((v for t, v in parse_text(text).body if t in (117, 11, 131)), "")
            self._reply(session_id, Reject(ts_event=now, ts_init=now, ref_id=ref,
                                           reason=str(exc)))
        except Exception as exc:  # a callback must not raise
            self.errors += 1
            log.error("fix_callback_failed", where="fromApp", error=repr(exc))

    def _reply(self, session_id: fix.SessionID, event: Event) -> None:
        self._reply_message(session_id, build(to_fix(event, self.ticks)))

    def _reply_message(self, session_id: fix.SessionID, message: fix.Message) -> None:
        try:
            fix.Session.sendToTarget(message, session_id)
        except Exception as exc:  # a callback must not raise
            log.error("fix_reply_failed", error=repr(exc))
