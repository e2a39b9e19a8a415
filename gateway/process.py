"""The gateway process: one event loop owns the link, the OMS, the quoting desk, the live
meters and the journal, and serves the control channel.

Every exchange event is journaled before anything acts on it; the desk requotes every
`requote_s`, sending only quotes the gate passed that differ from what stands; every quote
sent is journaled. The gateway stops quoting, and says why, when the link is not up, the
journal cannot write, or its own state is unknown (after a lost link it cancels everything and
starts clean once the link is back). Kill switches block and cancel by scope until reset.
"""

import asyncio
import collections
import contextlib
import itertools
import math
import os
import sys
import threading
import time
import traceback
from datetime import timezone
from pathlib import Path
from typing import Any

import msgspec
import structlog

from core.clock import Clock
from core.enums import (
    ExecType,
    InstrumentKind,
    Phase,
    QuoteStatusCode,
    ScopeKind,
    Side,
    TimeInForce,
)
from core.events import (
    DECODER,
    ENCODER,
    Event,
    ExecutionReport,
    LinkStatus,
    MarketData,
    MassCancel,
    MassCancelReport,
    NewOrder,
    Quote,
    QuoteStatus,
    Rfq,
    Scope,
    StatusReport,
    StatusRequest,
)
from core.events import Reject as LinkReject  # quoting.gate's Reject is the gate's verdict
from core.instruments import Instrument
from core.ports import ExchangeLink, LinkState
from gateway.control import (
    Body,
    Confirm,
    ControlServer,
    Dismiss,
    Heartbeat,
    Identity,
    Kill,
    KillReset,
    QuoteDisable,
    QuoteEnable,
    RiskAlert,
    SetParams,
    Status,
    SwitchModel,
    load_tokens,
)
from gateway.desk import Desk, ProductSetup
from gateway.export import EVENT, INSTRUMENT
from gateway.journal import Journal, records
from gateway.killline import ENGINE_ANSWER_S, KillLine
from gateway.oms import InvalidTransition, Oms, State
from quoting.engine import QuoteModel
from quoting.gate import NO_PRICE, Accept, Decision, Exemption, Reject, Rule
from quoting.obligations.convert import TimelineConverter, to_events
from quoting.obligations.meters import LiveMeters
from quoting.obligations.timeline import ContractRecord, to_ns
from quoting.rfq import RfqResponder
from risk.checks import PreTrade, Refusal
from risk.kill import KillAction, KillState, KillSwitch, parse_scope, reducing_side
from risk.limits import RiskConfig
from risk.mmp import MarketMakerProtection

log = structlog.get_logger("gateway")

DUPLICATE = "duplicate"  # an exchange event told twice (a fill by its exec id): audit only
CONTROL_BODY = msgspec.msgpack.Decoder(Body)


RECONCILE_S = 5.0  # how long a reconnect waits for the exchange's status report
KILL_CONFIRM_S = 5.0  # how long a kill waits for the exchange to confirm its cancels
PROMPT = "prompt"  # the journal's kind for prompts raised, confirmed, dismissed or cleared
HANG_FILE = "hang-engine"  # fault injection: with MMGW_FAULT_HANG_S set, the engine blocks
LIVE_STATES = (State.PENDING_NEW, State.LIVE, State.PARTIALLY_FILLED, State.PENDING_REPLACE,
               State.PENDING_CANCEL)


def _covers(scope: Scope, inst: Instrument) -> bool:
    return scope.covers(inst.instrument_id, inst.product, inst.underlying)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _note_position(positions: dict[str, int], row: Any) -> None:
    """An exchange event's record carries its link record as `role:seq`."""
    if row.kind in (EVENT, DUPLICATE) and ":" in row.outcome:
        role, _, seq = row.outcome.partition(":")
        positions[role] = max(positions.get(role, 0), int(seq))


def link_positions(url: str) -> dict[str, int]:
    """The last link record per file whose event the journal holds."""
    positions: dict[str, int] = {}
    for row in records(url):
        _note_position(positions, row)
    return positions


class Gateway:
    def __init__(self, *, run_dir: Path, link: ExchangeLink, instruments: list[Instrument],
                 setups: dict[str, ProductSetup], offset: timezone, journal: Journal,
                 clock: Clock, risk: RiskConfig, settled_ns: int, account: str = "MM01",
                 requote_s: float = 1.0) -> None:
        self.run_dir = run_dir
        self.link = link
        self.journal = journal
        self.clock = clock
        self.account = account
        self.requote_s = requote_s
        self.instruments = {i.instrument_id: i for i in instruments}
        start = clock.now_ns()
        self.desk = Desk(instruments, setups, offset, settled_ns)
        self.oms = Oms()
        self.risk = PreTrade(risk, instruments)
        self.limits = risk
        self.opening = {i.instrument_id: lim.opening_inventory for i in instruments
                        if (lim := risk.products.get(i.product)) is not None}
        self.cash: dict[str, float] = {}  # per contract: minus what the day's fills paid
        # the department risk process: once heard, its silence stops quoting
        self.department_heard: float | None = None
        self.department_summary: dict[str, Any] = {}
        self.silence_s = risk.department.silence_s
        self.prompts: dict[str, dict[str, Any]] = {}  # id -> prompt (pending and closed)
        self._kill_lock = threading.Lock()
        # when each mass cancel's report came in (the exchange confirmed every cancel in it)
        self.mass_confirmed: dict[str, float] = {}
        self._awaited: set[str] = set()  # the kills' mass cancels
        self._cancel_news = asyncio.Event()  # a cancel or a mass-cancel report came in
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None  # its thread's id, for `_engine_at`
        self._hang_s = float(os.environ.get("MMGW_FAULT_HANG_S", "0") or 0)
        self.mmp = MarketMakerProtection(dict(risk.protection))
        self._row = {i.instrument_id: n for insts in self.desk.contracts.values()
                     for n, i in enumerate(insts)}
        covered = {i.instrument_id for insts in self.desk.contracts.values() for i in insts
                   if i.is_option}
        self.rfqs = RfqResponder(covered, min_rest_s=min(
            (s.pack.rfq.min_rest_s for s in setups.values()), default=15))
        self.sent: dict[str, tuple] = {}  # contract -> what stands (bid, bid qty, ask, ask qty)
        self._status_due = 0.0  # the status file is rewritten twice a second at most
        self._requote_soon = False  # a requote of the woken products waits in the loop
        self.sent_ids: dict[str, str] = {}  # contract -> the id of the quote last sent there
        self.stopped_because: str | None = "waiting for the link"
        self.fault: str | None = None  # an unknown state: no quoting until a restart
        # tick to quote: from reading a price that moves a quoted contract off the link to
        # handing the requote to the link (wall clock, the last 10,000 of them)
        self._moves_quotes: dict[str, set[str]] = {}  # instrument -> the products it moves
        for product, insts in self.desk.contracts.items():
            for i in insts:
                for key in (i.instrument_id, i.underlying):
                    if key:
                        self._moves_quotes.setdefault(key, set()).add(product)
        self._woken_for: set[str] = set()  # products a tick or a fill asks to requote now
        self._tick_wall: int | None = None
        self.tick_to_quote_ns: collections.deque[int] = collections.deque(maxlen=10_000)
        self.link_state = LinkState.DOWN
        self.counts: dict[str, int] = {"sent": 0, "accepted": 0, "rejected": 0, "fills": 0,
                                       "rfqs": 0, "rfq_answers": 0, "link_rejects": 0}
        self._next_id = itertools.count(1).__next__  # atomic: the kill line's thread too
        # ids are unique across restarts whatever the journal kept: a process's ids carry its
        # start (milliseconds since the epoch, base 36) before their number
        self._incarnation = _base36(time.time_ns() // 1_000_000)
        self._dirty_after_loss = False
        self._status_request: tuple[str, float] | None = None  # id, answer due (monotonic)
        # what the gate refused at the last requote, per product and rule (not sent: not counted
        # as exchange rejections)
        self.gate_refusals: dict[str, dict[str, int]] = {}
        self.gate_refused_total: dict[str, int] = {}  # per rule, contract x requote cycle
        self.rejections: dict[str, int] = {}  # the exchange's rejections, per reason
        # the live obligation meters, one per rule pack, fed the timeline the journal exports
        self.converter = TimelineConverter(instruments, offset)
        self.meters: dict[str, tuple[LiveMeters, set[str], set[str]]] = {}
        self._meter_ns = 0
        self._record = ""  # the link record the event in hand came from
        records = {line["contract"]: line for line in self.converter.header()}
        for setup in {s.pack.name: s for s in setups.values()}.values():
            pack = setup.pack
            governed = [r for r in records.values()
                        if r["venue"] == pack.venue and r["kind"] in pack.kinds
                        and r["product"] in setups]
            if governed:
                meters = LiveMeters([msgspec.convert(dict(r), type=ContractRecord)
                                     for r in governed], pack, offset)
                self.meters[pack.name] = (meters, {r["contract"] for r in governed},
                                          {r["product"] for r in governed})
        self.control = ControlServer(run_dir / "control.sock",
                                     load_tokens(run_dir / "control.tokens"), self.command,
                                     self._audit, snapshot=self.snapshot)
        self.kill_line = KillLine(run_dir / "kill.sock", self.control.tokens,
                                  self._kill_from_line, self._audit)
        traders = {i.actor: i.products for i in self.control.tokens.values()
                   if i.role == "trader"}
        self.kills = KillSwitch(self.instruments, account, traders)
        for inst in instruments:
            journal.append(INSTRUMENT, "exchange", msgspec.msgpack.encode(inst), ts_ns=start)

    # ---- events in ---------------------------------------------------------------------------

    def note_record(self, role: str, seq: int) -> None:
        """The link says which record of which file the next event comes from: journaled
        with it, so a restart resumes the link exactly after what the journal holds."""
        self._record = f"{role}:{seq}"

    def on_event(self, event: Event) -> None:
        record, self._record = self._record, ""
        if (isinstance(event, ExecutionReport) and event.exec_type is ExecType.TRADE
                and event.exec_id in self.oms.exec_ids):
            # a fill told twice: kept for the audit, never counted or exported again
            self.journal.append(DUPLICATE, "exchange", ENCODER.encode(event),
                                ts_ns=event.ts_event, outcome=record)
            self.oms.duplicates += 1
            return
        self.journal.append(EVENT, "exchange", ENCODER.encode(event), ts_ns=event.ts_event,
                            outcome=record)
        try:
            self._apply(event, live=True)
        except InvalidTransition as exc:
            # the exchange says what our books cannot follow: unknown state stops quoting,
            # and it stays stopped until someone has looked (a restart recovers from the
            # journal and the exchange)
            self.fault = f"unknown state: {exc}"
            self._stop(self.fault)
            self.journal.append("fault", "gateway", ENCODER.encode(event),
                                ts_ns=self.clock.now_ns(), outcome=self.fault)
        self.control.publish(event)

    def _apply(self, event: Event, *, live: bool) -> None:
        """One exchange event on the domain state; `live` False while replaying the journal
        (nothing is sent, and the link's state is the present one)."""
        self.desk.market.apply(event)
        match event:
            case LinkStatus() if live:
                was_up = self.link_state is LinkState.UP
                self.link_state = LinkState(event.state)
                if self.link_state is not LinkState.UP:
                    self._stop(f"link {event.state}: {event.reason}")
                    if was_up:  # what stood is unknown until the exchange says
                        self.oms.link_lost()
                        self._dirty_after_loss = True
            case QuoteStatus():
                adopted = event.quote_id not in self.oms.quotes  # sent by an earlier run
                self.oms.on_quote_status(event)
                if event.status is QuoteStatusCode.ACCEPTED:
                    self._standing(event, adopted)
                if event.status is not QuoteStatusCode.ACCEPTED:
                    self._standing_changed(event.instrument_id, event.quote_id)
                    self.risk.quote_gone(event.instrument_id, event.quote_id)
                    self._cancel_news.set()
                if event.rfq_id is not None and event.status.value in ("filled", "cancelled"):
                    self.rfqs.ended(event.instrument_id, event.ts_event, event.status.value)
                if event.status.value == "accepted":
                    self.counts["accepted"] += 1
                elif event.status.value == "rejected":
                    self.counts["rejected"] += 1
                    self.rejections[event.reason] = self.rejections.get(event.reason, 0) + 1
                    if live:
                        log.warning("quote_rejected", quote=event.quote_id,
                                    reason=event.reason)
            case MarketData() if live and event.instrument_id in self._moves_quotes:
                if self._tick_wall is None:
                    self._tick_wall = event.ts_init
                self._woken_for |= self._moves_quotes[event.instrument_id]
                self._wake_up()
            case Rfq():
                self.counts["rfqs"] += 1
                if live and self.stopped_because is None:
                    answer = self.rfqs.on_rfq(event, self.desk.market.now_ns, self._rfq_quote)
                    if answer is not None:
                        self._send(answer, "sent: the answer to an RFQ, gated")
                        self.counts["rfq_answers"] += 1
            case MassCancelReport():
                if live and event.request_id in self._awaited:
                    # the exchange's confirmation of every cancel it names is in hand; the
                    # books follow below (the kill's answer waits for them too)
                    self.mass_confirmed[event.request_id] = time.perf_counter()
                    self._cancel_news.set()
                for tracked in self.oms.mass_cancelled(event.cancelled_quotes,
                                                       event.cancelled_orders):
                    if tracked.key in event.cancelled_quotes:
                        self.risk.quote_gone(tracked.instrument_id, tracked.key)
                        self._standing_changed(tracked.instrument_id, tracked.key)
                    else:
                        self.risk.order_gone(tracked.key)
            case LinkReject():
                # a message one end of the link could not read: an exchange event lost to
                # the books, or a command of ours the exchange never acted on
                self.counts["link_rejects"] += 1
                if live:
                    log.error("link_reject", ref=event.ref_id, ref_type=event.ref_type,
                              reason=event.reason)
            case StatusReport() if not live or (self._status_request is not None
                                                and event.request_id == self._status_request[0]):
                self._reconcile(event)
            case ExecutionReport():
                if self.oms.on_execution(event) and event.exec_type is ExecType.TRADE:
                    self.counts["fills"] += 1
                    inst = self.instruments.get(event.instrument_id)
                    if inst is not None:
                        paid = (event.last_qty * event.last_px_ticks * float(inst.tick)
                                * inst.multiplier)
                        self.cash[inst.instrument_id] = (
                            self.cash.get(inst.instrument_id, 0.0)
                            + (-paid if event.side is Side.BUY else paid))
                    self.risk.on_fill(event.instrument_id, event.client_id, event.side,
                                      event.last_qty, event.last_px_ticks,
                                      is_quote=event.is_quote)
                    if event.is_quote:
                        self._standing_changed(event.instrument_id, event.client_id)
                        if live:
                            self._protect(event)
                elif not event.is_quote and event.exec_type in (ExecType.CANCELLED,
                                                                ExecType.REJECTED):
                    self.risk.order_gone(event.client_id)
        # the meters after the books: a mass cancel's report is confirmed before its
        # thousands of timeline lines are metered
        self._meter(event)

    def _reconcile(self, report: StatusReport) -> None:
        """The exchange's answer after a reconnect: what it holds stands, what it does not
        is gone; anything it holds that the books do not know is cancelled."""
        live = set(report.live_quotes) | set(report.live_orders)
        unknown = [k for k in live if k not in self.oms.quotes and k not in self.oms.orders]
        changed = self.oms.reconcile(live)
        gone = 0
        for key in changed:
            if key in self.oms.quotes and self.oms.quotes[key].state is State.CANCELLED:
                inst = self.oms.quotes[key].instrument_id
                self.risk.quote_gone(inst, key)
                self._standing_changed(inst, key)
                gone += 1
            elif key in self.oms.orders and self.oms.orders[key].state is State.CANCELLED:
                self.risk.order_gone(key)
                gone += 1
        self._status_request = None
        self._dirty_after_loss = False
        if unknown:
            self._mass_cancel(Scope(kind=ScopeKind.ALL), f"reconcile: {len(unknown)} quotes or "
                                                         f"orders the books do not know")
            self.oms.reconcile(set())
            self.risk.cancel_all()
            self.sent.clear()
        self.journal.append("reconcile", "gateway", ENCODER.encode(report),
                            ts_ns=self.clock.now_ns(),
                            outcome=f"live {len(live)}, gone {gone}, unknown {len(unknown)}")
        log.info("reconciled", live=len(live), gone=gone, unknown=len(unknown))

    def _protect(self, fill: ExecutionReport) -> None:
        """Market-maker protection: count the fill of our quote in continuous trading; a trip
        pulls the product's quotes and latches it until someone resets it."""
        inst = self.instruments[fill.instrument_id]
        if self.desk.market.phase(inst) is not Phase.CONTINUOUS:
            return  # an auction's uncross fills every crossing quote at once, by design
        delta, vega = self._greeks_per_unit(inst)
        signed = fill.last_qty if fill.side is Side.BUY else -fill.last_qty
        why = self.mmp.on_fill(inst.product, fill.ts_event, fill.last_qty, signed * delta,
                               signed * vega)
        if why is None:
            return
        scope = f"product:{inst.product}"
        self.kills.move(scope, KillAction.HALT, "mmp", "mmp", why)
        body = Kill(scope=scope, reason=f"market-maker protection: {why}")
        self.journal.append("command", "mmp", msgspec.msgpack.encode(body),
                            ts_ns=self.clock.now_ns(), outcome="ok: Kill")
        log.warning("mmp_tripped", product=inst.product, why=why)
        self._mass_cancel(parse_scope(scope), f"market-maker protection: {why}")

    def _greeks_per_unit(self, inst: Instrument) -> tuple[float, float]:
        """Delta (underlying units) and vega (yuan a volatility point) of one unit of the
        contract, from the quoter's last surface valuation."""
        if inst.kind is not InstrumentKind.OPTION:
            return float(inst.multiplier), 0.0
        greeks = self.desk.quoters[inst.product].greeks
        if greeks is None:
            return 0.0, 0.0
        row = self._row[inst.instrument_id]
        return (float(greeks.delta[row]) * inst.multiplier,
                float(greeks.vega[row]) / 100 * inst.multiplier)

    def _standing(self, event: QuoteStatus, adopted: bool) -> None:
        """After a restart, what stands at the exchange as it says (not sent again while it is
        still what the model wants): a quote of the journal, or one an earlier run sent and
        never journaled, unless this run has already quoted the contract."""
        inst = event.instrument_id
        ours = self.sent_ids.get(inst, "").startswith(f"G{self._incarnation}.")
        if adopted and not ours:
            self.oms.live_quote[inst] = event.quote_id
        if self.oms.live_quote.get(inst) == event.quote_id and not (adopted and ours):
            self.sent[inst] = (event.bid_px_ticks, event.bid_qty, event.ask_px_ticks,
                               event.ask_qty)
            self.sent_ids[inst] = event.quote_id

    def _standing_changed(self, instrument_id: str, quote_id: str) -> None:
        """The exchange no longer holds what we last sent there (filled, partly filled,
        cancelled or rejected): the next requote sends it afresh."""
        if self.sent_ids.get(instrument_id) == quote_id:
            self.sent.pop(instrument_id, None)
            self._woken_for.add(self.instruments[instrument_id].product)
            self._wake_up()

    def _meter(self, event: Event) -> None:
        lines = self.converter.convert(event)
        if not lines:
            return
        for line, timed in zip(lines, to_events(lines), strict=True):
            contract, product = line.get("contract"), line.get("product")
            # the link's two streams arrive interleaved as read: an event that trails the
            # other stream counts from now (the export orders by the exchange's time)
            self._meter_ns = max(self._meter_ns, to_ns(timed.ts))
            for meters, contracts, products in self.meters.values():
                if (contract in contracts or line["type"] == "rfq_cancel"
                        or (contract is None and product in ("*", *products))):
                    meters.feed(timed, self._meter_ns)

    def meter_readings(self) -> dict[str, Any]:
        now = self.desk.market.now_ns
        out: dict[str, Any] = {}
        for pack, (meters, _, _) in self.meters.items():
            for reading in meters.read(now, 0):
                out[f"{pack}:{reading.product}"] = {
                    "continuous_participation": reading.participation,
                    "coverage_now": reading.coverage_now,
                    "coverage_required": reading.coverage_required,
                    "rfq_response_rate": reading.rfq_response_rate,
                    "alerts": reading.alerts[:5]}
        return out

    # ---- recovery ----------------------------------------------------------------------------

    def recover(self, url: str) -> dict[str, Any]:
        """Rebuild the day's state from the journal an earlier run of this gateway left (after
        a crash too): the market, the live meters, every quote and order with its state, the
        fills by exec id, positions, counts and the latched kill switches. Returns, under
        `resume`, the last link record per file the journal holds: the link resumes after
        it, so what the exchange said later (or was read but never committed) is read again."""
        replayed = {"events": 0, "commands": 0, "kills": 0}
        positions: dict[str, int] = {}
        roles = {i.actor: i.role for i in self.control.tokens.values()}
        for row in records(url):
            _note_position(positions, row)
            if row.kind == EVENT:
                self._apply(DECODER.decode(row.payload), live=False)  # type: ignore[arg-type]
                replayed["events"] += 1
            elif row.kind == "command" and row.actor in ("engine", "gateway"):
                self._replay_command(DECODER.decode(row.payload))
                replayed["commands"] += 1
            elif row.kind == "command" and row.outcome.startswith(("ok: Kill", "ok: KillReset")):
                # an actor no longer listed: the stricter role
                role = "mmp" if row.actor == "mmp" else roles.get(row.actor, "risk")
                match CONTROL_BODY.decode(row.payload):
                    case Kill(scope=scope, reason=reason, state=state):
                        action = (KillAction.REDUCE if state == KillState.REDUCING
                                  else KillAction.HALT)
                        self.kills.restore(scope, action, row.actor, role, reason)
                    case KillReset(scope=scope, reason=reason):
                        self.kills.restore(scope, KillAction.RESET, row.actor, role, reason)
                        if scope.startswith("product:"):
                            self.mmp.reset(scope.removeprefix("product:"))
                replayed["kills"] += 1
            elif row.kind == PROMPT:
                prompt = msgspec.json.decode(row.payload)
                self.prompts[prompt["id"]] = prompt
        if replayed["events"] or replayed["commands"]:
            self.journal.append("recovery", "gateway", msgspec.json.encode(replayed),
                                ts_ns=self.clock.now_ns(),
                                outcome=f"replayed {replayed['events']} events, "
                                        f"{replayed['commands']} commands")
        return replayed | {"live_quotes": self.live_quote_count(),
                           "kills": self.kills.view(), "resume": positions}

    def _replay_command(self, command: object) -> None:
        match command:
            case Quote():
                self.oms.quote_sent(command.quote_id, command.instrument_id)
                self.risk.restore_quote(command)
                self.sent[command.instrument_id] = (command.bid_px_ticks, command.bid_qty,
                                                    command.ask_px_ticks, command.ask_qty)
                self.sent_ids[command.instrument_id] = command.quote_id
                self.counts["sent"] += 1
                if command.rfq_id is not None:
                    self.counts["rfq_answers"] += 1
            case MassCancel():
                self._forget_sent(command.scope)

    # ---- the quoting loop --------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        await self.control.start()
        self.kill_line.start()
        await self.link.start(self.on_event)
        try:
            next_full = 0.0
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_full:  # the timer: every product
                    self._woken_for = set()
                    self._turn(None)
                    next_full = now + self.requote_s
                if now >= self._status_due:
                    self.write_status()
                    self._status_due = now + 0.5
                # a tick that moves a quoted contract, a fill or a cancel that leaves one
                # without what we sent there requote at once (`_wake_up`), not here
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(
                        min(next_full, self._status_due) - time.monotonic(), 0.001))
        finally:
            if self.link_state is LinkState.UP:
                self._mass_cancel(Scope(kind=ScopeKind.ALL), "gateway stopping")
                await asyncio.sleep(0.2)
            await self.link.stop()
            self.kill_line.stop()
            await self.control.stop()
            self.journal.close(ts_ns=self.clock.now_ns())
            self.write_status()

    def _wake_up(self) -> None:
        """Requote the woken products in the loop's next turn: one hop through the loop, after
        the callback that woke them (a batch of the link's events), not several."""
        if not self._requote_soon and self._loop is not None:
            self._requote_soon = True
            self._loop.call_soon(self._requote_woken)

    def _requote_woken(self) -> None:
        self._requote_soon = False
        products, self._woken_for = self._woken_for, set()
        if products:
            self._turn(products)

    def _turn(self, products: set[str] | None) -> None:
        """Check that quoting may go on, then requote `products` (None: every product)."""
        self._check()
        if self._hang_s and (self.run_dir / HANG_FILE).exists():
            self._hang()
        if self.stopped_because is None:
            sent = self.counts["sent"]
            self.requote(products)
            if self._tick_wall is not None and self.counts["sent"] > sent:
                self.tick_to_quote_ns.append(time.time_ns() - self._tick_wall)
        self._tick_wall = None

    def _hang(self) -> None:
        """Fault injection for the tests: the engine blocks the event loop, as a pricing
        routine that never returns would."""
        (self.run_dir / HANG_FILE).unlink(missing_ok=True)
        log.warning("engine_hung_on_purpose", seconds=self._hang_s)
        time.sleep(self._hang_s)

    def _check(self) -> None:
        if not self.journal.healthy:
            self._stop(f"journal: {self.journal.error}")
            return
        if self.fault is not None:
            self._stop(self.fault)
            return
        if (self.department_heard is not None
                and (silent := time.monotonic() - self.department_heard) > self.silence_s):
            self._stop(f"the department risk process is silent ({silent:.0f} s)")
            return
        if self.link_state is LinkState.UP and self.stopped_because is not None:
            if self._dirty_after_loss and getattr(self.link, "reconciles", False):
                # ask the exchange what stands, and quote again once the books agree with it
                if self._status_request is None:
                    self._status_request = (f"S{self._incarnation}.{self._next_id()}",
                                            time.monotonic() + RECONCILE_S)
                    now = self.clock.now_ns()
                    request = StatusRequest(ts_event=now, ts_init=now,
                                            request_id=self._status_request[0],
                                            account=self.account)
                    self.journal.append("command", "gateway", ENCODER.encode(request),
                                        ts_ns=now, outcome="sent: reconcile after reconnect")
                    self.link.submit(request)
                    self._stop("reconciling with the exchange after the reconnect")
                    return
                if time.monotonic() < self._status_request[1]:
                    return
                log.error("reconcile_unanswered", request=self._status_request[0])
                self._status_request = None  # no answer: fall back to a clean start
            if self._dirty_after_loss:
                # what stood before the loss is unknown: cancel it all and start clean
                self._mass_cancel(Scope(kind=ScopeKind.ALL), "state unknown after link loss")
                self.oms.reconcile(set())
                self.risk.cancel_all()
                self.sent.clear()
                self._dirty_after_loss = False
            log.info("quoting_resumed", after=self.stopped_because)
            self.stopped_because = None

    def _stop(self, reason: str) -> None:
        if self.stopped_because is None:
            log.error("quoting_stopped", reason=reason)
        self.stopped_because = reason

    def requote(self, products: set[str] | None = None) -> None:
        for product in (self.desk.quoters if products is None
                        else sorted(p for p in products if p in self.desk.quoters)):
            if self.kills.product_halted(product):
                continue  # a kill over the whole product: nothing to price or send
            result = self.desk.quote(product, self.sent)
            if result is None:
                continue
            built = result.quotes
            accepted = result.accepted  # a property: computed once, not per contract
            refused: dict[str, int] = {}
            for code in result.rule[~accepted].tolist():
                # a contract the gate let through with no side at all had no model value
                name = Rule(code).name.lower() if code else "no_model_value"
                refused[name] = refused.get(name, 0) + 1
            self.gate_refusals[product] = refused
            for name, n in refused.items():
                self.gate_refused_total[name] = self.gate_refused_total.get(name, 0) + n
            now = self.desk.market.now_ns
            rows = zip(self.desk.contracts[product], accepted.tolist(), built.bid_px.tolist(),
                       built.bid_qty.tolist(), built.ask_px.tolist(), built.ask_qty.tolist(),
                       result.theo.tolist(), strict=True)
            for inst, ok, bid_px, bid_qty, ask_px, ask_qty, theo in rows:
                if not ok or self.rfqs.blocked(inst.instrument_id, now):
                    continue
                state = self.kills.state(inst)
                if state is KillState.HALTED:
                    continue
                wanted: tuple | None = (None if bid_px == NO_PRICE else bid_px, bid_qty,
                                        None if ask_px == NO_PRICE else ask_px, ask_qty)
                if state is KillState.REDUCING:
                    assert wanted is not None
                    wanted = reducing_side(self.risk.position(inst.instrument_id),
                                           (wanted[0], wanted[1]), (wanted[2], wanted[3]))
                    if wanted is None:
                        continue
                if self.sent.get(inst.instrument_id) == wanted:
                    continue
                self._send_quote(inst, wanted, theo)
            self.link.flush()  # the product's quotes leave before the next product is priced

    def _new_quote(self, inst: Instrument, wanted: tuple, rfq_id: str | None = None) -> Quote:
        now = self.clock.now_ns()
        return Quote(ts_event=now, ts_init=now,
                     quote_id=f"G{self._incarnation}.{self._next_id()}",
                     instrument_id=inst.instrument_id, account=self.account,
                     bid_px_ticks=wanted[0], bid_qty=wanted[1], ask_px_ticks=wanted[2],
                     ask_qty=wanted[3], rfq_id=rfq_id)

    def _send_quote(self, inst: Instrument, wanted: tuple, theo_yuan: float) -> None:
        quote = self._new_quote(inst, wanted)
        if self._pretrade(quote, inst, theo_yuan) is None:
            self._send(quote, "sent: the gate and the pre-trade checks passed it")

    def _pretrade(self, quote: Quote, inst: Instrument, theo_yuan: float) -> Refusal | None:
        """The pre-trade checks on a quote the gate passed; a refusal is journaled with the
        quote, and nothing is sent."""
        market = self.desk.market
        md = market.book.get(inst.instrument_id)
        refusal = self.risk.check_quote(
            quote, market.now_ns, theo_ticks=theo_yuan / float(inst.tick),
            theo_ns=market.reference_ns(inst),
            last_px_ticks=md.last_px_ticks if md is not None else None,
            last_ns=market.trade_ns.get(inst.instrument_id, 0), send_ns=time.monotonic_ns())
        if refusal is not None:
            self.journal.append("pretrade", "risk", ENCODER.encode(quote), ts_ns=quote.ts_init,
                                outcome=f"refused: {refusal.check}: {refusal.message}")
        return refusal

    def _send(self, quote: Quote, outcome: str) -> None:
        self.journal.append("command", "engine", ENCODER.encode(quote), ts_ns=quote.ts_init,
                            outcome=outcome)
        self.oms.quote_sent(quote.quote_id, quote.instrument_id)
        self.link.submit(quote)
        self.control.publish(quote)
        self.sent[quote.instrument_id] = (quote.bid_px_ticks, quote.bid_qty,
                                          quote.ask_px_ticks, quote.ask_qty)
        self.sent_ids[quote.instrument_id] = quote.quote_id
        self.counts["sent"] += 1

    def _rfq_quote(self, instrument_id: str, rfq_id: str) -> tuple[Quote | None, Decision]:
        """The contract's quote now, built and gated, as the answer to `rfq_id`."""
        inst = self.instruments[instrument_id]
        if self.kills.state(inst) is not KillState.ACTIVE:
            return None, Reject(Rule.PHASE, f"kill: the contract is {self.kills.state(inst)}")
        result = self.desk.quote(inst.product, self.sent)
        if result is None:
            return None, Reject(Rule.PHASE, "phase: not quoting now")
        i = self.desk.contracts[inst.product].index(inst)
        built = result.quotes
        if built.bid_px[i] == NO_PRICE and built.ask_px[i] == NO_PRICE:
            return None, Reject(Rule.EMPTY, "no quote: the model has no value")
        wanted = (None if built.bid_px[i] == NO_PRICE else int(built.bid_px[i]),
                  int(built.bid_qty[i]),
                  None if built.ask_px[i] == NO_PRICE else int(built.ask_px[i]),
                  int(built.ask_qty[i]))
        if result.rule[i] != 0:
            return None, Reject(Rule(int(result.rule[i])), "the gate refused it")
        quote = self._new_quote(inst, wanted, rfq_id)
        refusal = self._pretrade(quote, inst, float(result.theo[i]))
        if refusal is not None:
            return None, Reject(Rule.PHASE, f"pre-trade {refusal.check}: {refusal.message}")
        return quote, Accept(Exemption(int(result.exemption[i])))

    def _mass_cancel(self, scope: Scope, reason: str, *, urgent: bool = False) -> str:
        """Cancel everything live in `scope`; `urgent` writes it to the link now, from
        whatever thread (a kill), rather than with the loop's next write."""
        now = self.clock.now_ns()
        command = MassCancel(ts_event=now, ts_init=now,
                             request_id=f"M{self._incarnation}.{self._next_id()}",
                             account=self.account, scope=scope)
        self.journal.append("command", "gateway", ENCODER.encode(command), ts_ns=now,
                            outcome=f"sent: {reason}")
        if self.link_state is LinkState.UP:
            if urgent:
                self.link.submit_urgent(command)
            else:
                self.link.submit(command)
        self._forget_sent(scope)
        if not urgent:
            self.control.publish(command)
        elif self._loop is not None:  # the subscribers' queues belong to the loop
            self._loop.call_soon_threadsafe(self.control.publish, command)
        return command.request_id

    def _forget_sent(self, scope: Scope) -> None:
        """A kill calls this from the kill line's thread while the loop may drop the same
        contract (a fill, a cancel): pop, never del (a KeyError here failed a kill)."""
        for contract in list(self.sent):
            if _covers(scope, self.instruments[contract]):
                self.sent.pop(contract, None)

    def _live_in(self, scope: Scope) -> list[str]:
        """The quotes live at the exchange in `scope`, as the OMS knows them."""
        quotes = self.oms.quotes
        return [q.key for key in list(self.oms.open_quotes)  # a copy: the kill line's thread
                if (q := quotes[key]).state in LIVE_STATES
                and _covers(scope, self.instruments[q.instrument_id])]

    async def _confirmed(self, scope: Scope, timeout_s: float) -> int:
        """Wait until the exchange has confirmed every cancel in `scope`; returns how many
        quotes are still live when it has not within `timeout_s`. Looks again whenever a
        cancel or a mass-cancel report comes in (and every 20 ms), never in a busy loop that
        would hold up the link's events."""
        deadline = time.monotonic() + timeout_s
        while (left := len(self._live_in(scope))) and time.monotonic() < deadline:
            self._cancel_news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cancel_news.wait(), 0.02)
        return left

    # ---- control -----------------------------------------------------------------------------

    def _audit(self, kind: str, actor: str, payload: bytes, outcome: str) -> None:
        self.journal.append(kind, actor, payload, ts_ns=self.clock.now_ns(), outcome=outcome)

    async def command(self, identity: Identity, body: Body) -> dict[str, Any]:
        match body:
            case Status():
                return self.status()
            case SetParams():
                self._quoter(body.product).configure(body.contracts, **body.values)
                return {"product": body.product, "set": body.values}
            case QuoteEnable():
                self._quoter(body.product).enable(body.contracts)
                return {"product": body.product, "enabled": body.contracts or "all"}
            case QuoteDisable():
                quoter = self._quoter(body.product)
                live = {q.instrument_id for q in self.oms.quotes.values()
                        if q.state in (State.LIVE, State.PARTIALLY_FILLED)}
                check = quoter.disable(body.contracts, live_valid=live,
                                       phase=self.desk.market.product_phase.get(body.product),
                                       override=body.override, now_ns=self.clock.now_ns(),
                                       phase_ends_ns=None)
                if not check.allowed:
                    raise PermissionError(check.message)
                for contract in body.contracts or [i.instrument_id for i in
                                                   self.desk.contracts[body.product]]:
                    self._mass_cancel(Scope(kind=ScopeKind.CONTRACT, value=contract),
                                      f"disabled by {identity.actor}")
                return {"product": body.product, "disabled": body.contracts or "all",
                        "alert": check.message if check.alert else None}
            case SwitchModel():
                self._quoter(body.product).switch(QuoteModel(body.model))
                return {"product": body.product, "model": body.model}
            case Kill():
                result, started = self.kill_now(identity, body)
                left = await self._confirmed(parse_scope(body.scope), KILL_CONFIRM_S)
                return result | self._confirmed_ms(result, started, left)
            case KillReset():
                return self.kill_reset(identity, body)
            case Heartbeat():
                self.department_heard = time.monotonic()
                self.department_summary = dict(body.summary)
                return {"quoting": self.stopped_because is None}
            case RiskAlert():
                return self._risk_alert(identity, body)
            case Confirm():
                return self._close_prompt(identity, body.prompt, body.reason, confirm=True)
            case Dismiss():
                return self._close_prompt(identity, body.prompt, body.reason, confirm=False)
        raise ValueError(f"{type(body).__name__}: not handled")

    # ---- the kill switch ---------------------------------------------------------------------

    def kill_now(self, identity: Identity, body: Kill) -> tuple[dict[str, Any], float]:
        """Block the scope, then write the mass cancel to the link: from the loop or from the
        kill line's thread. Returns the answer so far and when the kill started."""
        scope = parse_scope(body.scope)
        action = {"HALTED": KillAction.HALT, "REDUCING": KillAction.REDUCE}.get(body.state)
        if action is None:
            raise ValueError(f"state: {body.state!r} is not HALTED or REDUCING")
        with self._kill_lock:
            started = time.perf_counter()
            state = self.kills.move(body.scope, action, identity.actor, identity.role,
                                    body.reason)
            blocked_ms = (time.perf_counter() - started) * 1e3  # no new quote from here
            live = self._live_in(scope)
            request_id = self._mass_cancel(scope, f"kill by {identity.actor}: {body.reason}",
                                           urgent=True)
            self._awaited.add(request_id)
        return {"scope": body.scope, "state": str(state), "cancelled": len(live),
                "blocked_ms": blocked_ms, "request_id": request_id}, started

    def _confirmed_ms(self, result: dict[str, Any], started: float, left: int
                      ) -> dict[str, Any]:
        """`confirmed_ms`: from the kill to the exchange's confirmation of every cancel in
        hand (its mass-cancel report, or the last cancel's own status); `settled_ms`: to the
        gateway's books showing nothing live in the scope; `unconfirmed`: still live."""
        now = time.perf_counter()
        self._awaited.discard(result["request_id"])
        at = self.mass_confirmed.pop(result["request_id"], None)
        if left:
            return {"confirmed_ms": None, "settled_ms": None, "unconfirmed": left}
        return {"confirmed_ms": ((at if at is not None else now) - started) * 1e3,
                "settled_ms": (now - started) * 1e3, "unconfirmed": 0}

    def kill_reset(self, identity: Identity, body: KillReset) -> dict[str, Any]:
        with self._kill_lock:
            self.kills.move(body.scope, KillAction.RESET, identity.actor, identity.role,
                            body.reason)
            if body.scope.startswith("product:"):
                self.mmp.reset(body.scope.removeprefix("product:"))
        return {"scope": body.scope, "state": "ACTIVE"}

    def _kill_from_line(self, identity: Identity, body: Kill | KillReset) -> dict[str, Any]:
        """The kill line's thread: the kill itself here; the confirmation from the loop, if
        it answers."""
        if isinstance(body, KillReset):
            return self.kill_reset(identity, body)
        result, started = self.kill_now(identity, body)
        loop = self._loop
        if loop is None:
            return result | {"confirmed_ms": None, "unconfirmed": result["cancelled"],
                             "engine": "not started"}
        try:
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(ENGINE_ANSWER_S)
        except TimeoutError:
            where = self._engine_at()
            log.error("kill_with_engine_stuck", scope=body.scope, engine_at=where)
            return result | {"confirmed_ms": None, "unconfirmed": result["cancelled"],
                             "engine": "not answering: the mass cancel is at the exchange; "
                                       "confirmation waits for the engine",
                             "engine_at": where}
        left = asyncio.run_coroutine_threadsafe(
            self._confirmed(parse_scope(body.scope), KILL_CONFIRM_S), loop).result(
                KILL_CONFIRM_S + 1)
        return result | self._confirmed_ms(result, started, left)

    def _engine_at(self) -> list[str]:
        """Where the event loop's thread is now, innermost last (the gateway's own frames):
        what ops need to know of an engine that does not answer."""
        frame = sys._current_frames().get(self._loop_thread or 0)
        stack = traceback.extract_stack(frame) if frame is not None else []
        root = Path(__file__).resolve().parents[1]
        ours = [(Path(f.filename), f) for f in stack]
        return [f"{path.relative_to(root)}:{f.lineno} {f.name}" for path, f in ours
                if path.is_relative_to(root) and not path.is_relative_to(root / ".venv")][-8:]

    # ---- prompts and measures ----------------------------------------------------------------

    def _risk_alert(self, identity: Identity, alert: RiskAlert) -> dict[str, Any]:
        """An alert of the department process: journaled; with a measure, a prompt waits for
        an authorised confirmation; a cleared alert closes its pending prompt."""
        now = self.clock.now_ns()
        if alert.cleared:
            closed = [p for p in self.prompts.values()
                      if p["key"] == alert.key and p["state"] == "pending"]
            for prompt in closed:
                self._prompt_state(prompt, "cleared", identity.actor, "the level is met again")
            return {"cleared": [p["id"] for p in closed]}
        if alert.measure is None:
            return {"prompt": None}
        pending = next((p for p in self.prompts.values()
                        if p["key"] == alert.key and p["state"] == "pending"), None)
        if pending is not None:
            return {"prompt": pending["id"]}
        prompt = {"id": f"P{len(self.prompts) + 1}", "key": alert.key, "kind": alert.kind,
                  "scope": alert.scope, "value": alert.value, "limit": alert.limit,
                  "message": alert.message, "products": list(alert.products),
                  "measure": alert.measure, "factor": alert.factor, "raised_by": identity.actor,
                  "raised_ns": now, "state": "pending", "closed_by": None, "outcome": None}
        self.prompts[prompt["id"]] = prompt
        self.journal.append(PROMPT, identity.actor, msgspec.json.encode(prompt), ts_ns=now,
                            outcome=f"raised: {prompt['id']}: {alert.measure} on "
                                    f"{alert.scope}: {alert.message}")
        log.warning("risk_prompt", prompt=prompt["id"], measure=alert.measure,
                    message=alert.message)
        return {"prompt": prompt["id"]}

    def _prompt_state(self, prompt: dict[str, Any], state: str, actor: str, outcome: str
                      ) -> None:
        prompt.update(state=state, closed_by=actor, outcome=outcome)
        self.journal.append(PROMPT, actor, msgspec.json.encode(prompt),
                            ts_ns=self.clock.now_ns(), outcome=f"{state}: {prompt['id']}: "
                                                               f"{outcome}")

    def _close_prompt(self, identity: Identity, prompt_id: str, reason: str, *,
                      confirm: bool) -> dict[str, Any]:
        prompt = self.prompts.get(prompt_id)
        if prompt is None:
            raise KeyError(f"prompt: {prompt_id!r} is not known")
        if prompt["state"] != "pending":
            raise ValueError(f"prompt: {prompt_id} is {prompt['state']} already")
        if not confirm:
            self._prompt_state(prompt, "dismissed", identity.actor, reason)
            return {"prompt": prompt_id, "state": "dismissed"}
        outcome = self._measure(identity, prompt, reason)
        self._prompt_state(prompt, "confirmed", identity.actor, f"{reason}: {outcome}")
        return {"prompt": prompt_id, "state": "confirmed", "measure": prompt["measure"],
                "outcome": outcome}

    def _measure(self, identity: Identity, prompt: dict[str, Any], reason: str) -> str:
        """The preset measure of a confirmed prompt, on the prompt's products."""
        products = [p for p in prompt["products"] if p in self.desk.quoters]
        factor = float(prompt["factor"])
        match prompt["measure"]:
            case "widen":
                for product in products:
                    self.desk.quoters[product].scale(width=factor)
                return f"widened {', '.join(products)} x{factor:g}"
            case "reduce_size":
                for product in products:
                    self.desk.quoters[product].scale(size=1 / factor)
                return f"sizes of {', '.join(products)} /{factor:g}"
            case "pull":
                why = f"prompt {prompt['id']} confirmed: {reason}"
                for product in products:
                    self.kill_now(identity, Kill(scope=f"product:{product}", reason=why))
                return f"pulled and halted {', '.join(products)}"
            case "hedge":
                return self._hedge(prompt)
        raise ValueError(f"measure: {prompt['measure']!r} is not one the gateway runs")

    def delta_of(self, group: str) -> float:
        """The gateway's own delta on an underlying (units): the options by the quoter's
        valuation, the underlying and its opening inventory one for one."""
        total = 0.0
        for inst in self.instruments.values():
            if (inst.underlying or inst.instrument_id) != group:
                continue
            held = self.risk.position(inst.instrument_id) + self.opening.get(
                inst.instrument_id, 0)
            if held:
                total += held * self._greeks_per_unit(inst)[0]
        return total

    def _hedge(self, prompt: dict[str, Any]) -> str:
        """An IOC order in the underlying at the touch that brings its delta toward zero,
        through the pre-trade checks (which refuse any order that adds direction)."""
        scope = prompt["scope"]
        if scope.startswith("contract:"):
            inst = self.instruments.get(scope.removeprefix("contract:"))
            scope = f"underlying:{inst.underlying or inst.instrument_id}" if inst else scope
        groups = ([scope.removeprefix("underlying:")] if scope.startswith("underlying:")
                  else sorted({i.underlying for i in self.instruments.values()
                               if i.is_option and i.underlying}))
        done = []
        for group in groups:
            inst = self.instruments.get(group)
            if inst is None:
                raise ValueError(f"hedge: the underlying {group} is not an instrument here")
            delta = self.delta_of(group)
            per_lot = float(inst.multiplier * inst.lot)
            lots = math.floor(abs(delta) / per_lot)
            qty = min(lots * inst.lot, self.limits.products[inst.product].max_order_qty
                      if inst.product in self.limits.products else 0)
            if qty <= 0:
                done.append(f"{group}: delta {delta:+.0f}, under a lot: nothing to do")
                continue
            side = Side.SELL if delta > 0 else Side.BUY
            md = self.desk.market.book.get(group)
            touch = (md.bids if side is Side.SELL else md.asks) if md is not None else ()
            if not touch:
                raise ValueError(f"hedge: {group} has no {'bid' if side is Side.SELL else 'ask'}"
                                 f" to trade with")
            now = self.clock.now_ns()
            order = NewOrder(ts_event=now, ts_init=now,
                             client_id=f"H{self._incarnation}.{self._next_id()}",
                             instrument_id=group, account=self.account, side=side,
                             px_ticks=touch[0][0], qty=qty, tif=TimeInForce.IOC)
            market = self.desk.market
            theo = market.price(group)
            refusal = self.risk.check_order(
                order, market.now_ns, theo_ticks=(theo or math.nan) / float(inst.tick),
                theo_ns=market.reference_ns(inst), last_px_ticks=md.last_px_ticks if md else None,
                last_ns=market.trade_ns.get(group, 0), delta_before=delta,
                delta_per_lot=float(inst.multiplier), send_ns=time.monotonic_ns())
            if refusal is not None:
                self.journal.append("pretrade", "risk", ENCODER.encode(order), ts_ns=now,
                                    outcome=f"refused: {refusal.check}: {refusal.message}")
                raise ValueError(f"hedge refused: {refusal.check}: {refusal.message}")
            self.journal.append("command", "engine", ENCODER.encode(order), ts_ns=now,
                                outcome=f"sent: hedge for prompt {prompt['id']}")
            self.oms.order_sent(order.client_id, group)
            self.link.submit(order)
            self.control.publish(order)
            done.append(f"{group}: {side} {qty} at {touch[0][0]} (delta {delta:+.0f})")
        return "; ".join(done)

    def _quoter(self, product: str):
        quoter = self.desk.quoters.get(product)
        if quoter is None:
            raise KeyError(f"product: {product!r} is not quoted here")
        return quoter

    def _latency(self) -> dict[str, float | int]:
        if not self.tick_to_quote_ns:
            return {"n": 0}
        ordered = sorted(self.tick_to_quote_ns)
        n = len(ordered)
        return {"n": n, "p50": ordered[n // 2] / 1e3,
                "p99": ordered[min(n - 1, (n * 99) // 100)] / 1e3, "max": ordered[-1] / 1e3}

    def live_quote_count(self) -> int:
        return sum(1 for q in self.oms.quotes.values()
                   if q.state in (State.LIVE, State.PARTIALLY_FILLED))

    def status(self) -> dict[str, Any]:
        live = self.live_quote_count()
        return {
            "quoting": self.stopped_because is None,
            "stopped_because": self.stopped_because,
            "links": {self.link.name: str(self.link_state)},
            "live_quotes": {"gateway": live},
            "kill": self.kills.view(),
            "kill_latches": {scope: {"state": str(latch.state), "actor": latch.actor,
                                     "role": latch.role, "reason": latch.reason}
                             for scope, latch in self.kills.latches.items()},
            "pretrade": {"passed": self.risk.passed, "refused": dict(self.risk.refused),
                         "usage": self.risk.usage()},
            "mmp_tripped": dict(self.mmp.tripped),
            "department": {
                "heard_s_ago": None if self.department_heard is None
                else round(time.monotonic() - self.department_heard, 2),
                "silence_s": self.silence_s, "summary": self.department_summary},
            "prompts": [p for p in self.prompts.values() if p["state"] == "pending"],
            "counts": dict(self.counts) | {"duplicate_fills": self.oms.duplicates},
            "gate_refusals": {p: r for p, r in self.gate_refusals.items() if r},
            "gate_refused_total": dict(self.gate_refused_total),
            "tick_to_quote_us": self._latency(),
            "exchange_rejections": dict(self.rejections),
            "journal": {"records": self.journal.seq, "healthy": self.journal.healthy},
            "positions": {k: v for k, v in self.oms.positions.items() if v},
            "meters": self.meter_readings(),
        }

    def snapshot(self) -> dict[str, Any]:
        """What a subscriber (the department process) starts from: positions, the day's
        cash per contract and the book as the gateway last saw it."""
        return {"positions": dict(self.oms.positions), "cash": dict(self.cash),
                "books": {iid: [md.bids[0][0] if md.bids else None,
                                md.asks[0][0] if md.asks else None, md.last_px_ticks,
                                md.volume]
                          for iid, md in self.desk.market.book.items()},
                "now_ns": self.desk.market.now_ns}

    def write_status(self) -> None:
        path = self.run_dir / "gateway.status.json"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(msgspec.json.encode(self.status()))
        tmp.replace(path)
