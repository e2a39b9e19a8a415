"""The simulator's own clients: a competing market maker, call-auction orders, takers, RFQ
clients and the ETF's IOPV feed, all seeded; or, instead of them, a replay of a recorded flow.

A recording holds every exogenous input the clients gave the exchange (command, IOPV, halt)
with its time and session, one JSON object a line; replaying it reproduces the day's event
log, and so its digest, exactly.
"""

import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import msgspec

from adapters.sim.exchange import Contract, Exchange
from adapters.sim.market import Market
from core.clock import NS_PER_S, SimClock, TimerHandle
from core.config import FlowConfig
from core.enums import InstrumentKind, Phase, Side, TimeInForce
from core.events import Command, NewOrder, Quote, RequestForQuote

COMPETITOR = "COMP"
AUCTION = "AUCT"
TAKERS = "TAKE"
RFQ_CLIENTS = "RFQC"
SESSIONS = (COMPETITOR, AUCTION, TAKERS, RFQ_CLIENTS)
_QUOTING = frozenset({Phase.OPENING_AUCTION, Phase.CONTINUOUS, Phase.CLOSING_AUCTION})


class FlowRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One exogenous input: a command from a session, an IOPV, or a halt or resume."""

    ts: int
    session: str = ""
    seq: int = 0
    """the record number the command came in on, for a member's command over a link"""
    command: Command | None = None
    iopv: tuple[str, int] | None = None
    halt: tuple[str, bool] | None = None
    link: str = ""
    """a member session's link event: logon, logout or silent (no heartbeat)"""


_RECORD_ENCODER = msgspec.json.Encoder()
_RECORD_DECODER = msgspec.json.Decoder(FlowRecord)


def encode_record(record: FlowRecord) -> bytes:
    return _RECORD_ENCODER.encode(record) + b"\n"


class ReplayError(ValueError):
    """A recorded flow that cannot be read: names the file, the line and the problem."""


def read_records(path: Path) -> Iterator[FlowRecord]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield _RECORD_DECODER.decode(line)
            except msgspec.DecodeError as exc:
                raise ReplayError(f"{path}:{number}: {exc}") from exc


class _Flow:
    """What both flows share: the sessions and the recording of every input."""

    def __init__(self, exchange: Exchange, clock: SimClock, record: IO[bytes] | None) -> None:
        self.exchange = exchange
        self.clock = clock
        self._record = record
        for session in SESSIONS:
            exchange.connect(session, None, public=False)

    def _write(self, record: FlowRecord) -> None:
        if self._record is not None:
            self._record.write(encode_record(record))

    def submit(self, session: str, command: Command) -> None:
        self._write(FlowRecord(ts=self.clock.now_ns(), session=session, command=command))
        self.exchange.submit(session, command)

    def set_iopv(self, instrument_id: str, iopv_ticks: int) -> None:
        self._write(FlowRecord(ts=self.clock.now_ns(), iopv=(instrument_id, iopv_ticks)))
        self.exchange.set_iopv(instrument_id, iopv_ticks)

    def set_halt(self, instrument_id: str, halted: bool) -> None:
        self._write(FlowRecord(ts=self.clock.now_ns(), halt=(instrument_id, halted)))
        if halted:
            self.exchange.halt(instrument_id, "simulated halt")
        else:
            self.exchange.resume(instrument_id)

    def on_phase(self, product_id: str, phase: Phase) -> None:
        """Told by the day's driver after each product phase change."""


class ReplayFlow(_Flow):
    """Feeds a recorded flow back at its recorded times."""

    def __init__(self, exchange: Exchange, clock: SimClock, path: Path,
                 record: IO[bytes] | None = None) -> None:
        super().__init__(exchange, clock, record)
        for rec in read_records(path):
            clock.call_at(rec.ts, lambda rec=rec: self._apply(rec))

    def _apply(self, rec: FlowRecord) -> None:
        if rec.command is not None:
            self.submit(rec.session, rec.command)
        elif rec.iopv is not None:
            self.set_iopv(*rec.iopv)
        elif rec.halt is not None:
            self.set_halt(*rec.halt)


class SimulatedFlow(_Flow):
    """Seeded simulated clients around the market's fair values."""

    def __init__(self, exchange: Exchange, clock: SimClock, market: Market, flow: FlowConfig,
                 seed: int, record: IO[bytes] | None = None) -> None:
        super().__init__(exchange, clock, record)
        self.market = market
        self.cfg = flow
        self._rng = {name: random.Random(f"{seed}:flow:{name}")
                     for name in ("quote", "auction", "taker", "rfq", "halt")}
        self._refresh: dict[str, TimerHandle] = {}
        self._ids = 0
        self._active: dict[str, Phase] = {}
        self._options = [c for c in exchange.contracts.values() if c.inst.is_option]
        self._contracts = list(exchange.contracts.values())
        self._taker_timer: TimerHandle | None = None
        self._rfq_timer: TimerHandle | None = None

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def on_phase(self, product_id: str, phase: Phase) -> None:
        self._active[product_id] = phase
        product = self.exchange.products[product_id]
        for contract in product.contracts:
            iid = contract.inst.instrument_id
            timer = self._refresh.pop(iid, None)
            if timer is not None:
                timer.cancel()
            if phase in _QUOTING:
                delay = self._rng["quote"].uniform(0.5, 5.0)
                self._refresh[iid] = self.clock.call_later(
                    int(delay * NS_PER_S), lambda c=contract: self._competitor_quote(c))
            if phase in (Phase.OPENING_AUCTION, Phase.CLOSING_AUCTION):
                self._schedule_auction_orders(contract, phase)
        if phase is Phase.CONTINUOUS:
            self._start_poisson()
            self._schedule_halts(product_id)

    # ---- the competing market maker ---------------------------------------------------------

    def _competitor_quote(self, contract: Contract) -> None:
        inst = contract.inst
        iid = inst.instrument_id
        if contract.phase in _QUOTING:
            rng = self._rng["quote"]
            now = self.clock.now_ns()
            fair = self.market.fair(inst, now) / float(inst.tick)
            half = self.cfg.background_spread_ticks / 2 + rng.randint(0, 2)
            bid = math.floor(fair - half)
            ask = max(math.ceil(fair + half), bid + 1)
            if inst.limit_up_ticks is not None:
                ask = min(ask, inst.limit_up_ticks)
                bid = min(bid, ask - 1)
            bid_px: int | None = bid
            if inst.limit_down_ticks is not None and bid < inst.limit_down_ticks:
                bid_px = None
            if bid_px is not None and bid_px < 1:
                bid_px = None
            qty = self._qty(contract, self.cfg.background_lots)
            if ask > (bid_px or 0):
                self.submit(COMPETITOR, Quote(
                    ts_event=now, ts_init=now, quote_id=self._next_id("CQ"), instrument_id=iid,
                    account="MM91", bid_px_ticks=bid_px, bid_qty=qty if bid_px else 0,
                    ask_px_ticks=ask, ask_qty=qty,
                ))
        jitter = self._rng["quote"].uniform(0.8, 1.2)
        self._refresh[iid] = self.clock.call_later(
            int(self.cfg.background_refresh_s * jitter * NS_PER_S),
            lambda: self._competitor_quote(contract))

    @staticmethod
    def _qty(contract: Contract, lots: int) -> int:
        inst = contract.inst
        qty = lots * inst.min_qty
        return max(qty - qty % inst.lot, inst.min_qty)

    # ---- call-auction orders ----------------------------------------------------------------

    def _schedule_auction_orders(self, contract: Contract, phase: Phase) -> None:
        rng = self._rng["auction"]
        window_s = 240 if phase is Phase.OPENING_AUCTION else 120
        for _ in range(self.cfg.auction_orders):
            delay = rng.uniform(1.0, window_s)
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            offset = rng.randint(-3, 3)
            lots = rng.randint(1, max(self.cfg.taker_max_lots // 2, 1))
            self.clock.call_later(int(delay * NS_PER_S),
                                  lambda s=side, o=offset, n=lots: self._auction_order(
                                      contract, phase, s, o, n))

    def _auction_order(self, contract: Contract, phase: Phase, side: Side, offset: int,
                       lots: int) -> None:
        if contract.phase is not phase:
            return
        inst = contract.inst
        now = self.clock.now_ns()
        fair = round(self.market.fair(inst, now) / float(inst.tick))
        px = self._clamp(contract, fair + offset)
        if px is None:
            return
        account = f"AU{self._rng['auction'].randint(1, 20):02d}"
        self.submit(AUCTION, NewOrder(
            ts_event=now, ts_init=now, client_id=self._next_id("A"),
            instrument_id=inst.instrument_id, account=account, side=side, px_ticks=px,
            qty=self._qty(contract, lots),
        ))

    @staticmethod
    def _clamp(contract: Contract, px: int) -> int | None:
        inst = contract.inst
        if inst.limit_up_ticks is not None:
            px = min(px, inst.limit_up_ticks)
        if inst.limit_down_ticks is not None:
            px = max(px, inst.limit_down_ticks)
        return px if px >= 1 else None

    # ---- takers and RFQs: Poisson arrivals over all contracts ------------------------------

    def _start_poisson(self) -> None:
        if self._taker_timer is None and self.cfg.taker_orders_per_hour > 0:
            self._taker_timer = self._schedule(
                "taker", self.cfg.taker_orders_per_hour * len(self._contracts), self._taker)
        if self._rfq_timer is None and self.cfg.rfqs_per_hour > 0 and self._options:
            self._rfq_timer = self._schedule(
                "rfq", self.cfg.rfqs_per_hour * len(self._options), self._rfq)

    def _schedule(self, stream: str, per_hour: float, action) -> TimerHandle:
        gap_s = self._rng[stream].expovariate(per_hour / 3600.0)
        return self.clock.call_later(int(gap_s * NS_PER_S), action)

    def _any_open(self) -> bool:
        return any(p is not Phase.CLOSED for p in self._active.values())

    def _taker(self) -> None:
        rng = self._rng["taker"]
        contract = self._contracts[rng.randrange(len(self._contracts))]
        if contract.phase is Phase.CONTINUOUS:
            inst = contract.inst
            now = self.clock.now_ns()
            fair = round(self.market.fair(inst, now) / float(inst.tick))
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            aggression = self.cfg.taker_aggression_ticks + rng.randint(0, 2)
            px = self._clamp(contract, fair + aggression if side is Side.BUY
                             else fair - aggression)
            if px is not None:
                self.submit(TAKERS, NewOrder(
                    ts_event=now, ts_init=now, client_id=self._next_id("T"),
                    instrument_id=inst.instrument_id, account=f"C{rng.randint(1, 50):04d}",
                    side=side, px_ticks=px,
                    qty=self._qty(contract, rng.randint(1, self.cfg.taker_max_lots)),
                    tif=TimeInForce.IOC,
                ))
        self._taker_timer = None
        if self._any_open():
            self._taker_timer = self._schedule(
                "taker", self.cfg.taker_orders_per_hour * len(self._contracts), self._taker)

    def _rfq(self) -> None:
        rng = self._rng["rfq"]
        contract = self._options[rng.randrange(len(self._options))]
        if contract.phase is Phase.CONTINUOUS:
            now = self.clock.now_ns()
            rfq_id = self._next_id("R")
            side = (Side.BUY, Side.SELL, None)[rng.randrange(3)]
            qty = rng.randint(1, self.cfg.taker_max_lots) * contract.inst.min_qty
            self.submit(RFQ_CLIENTS, RequestForQuote(
                ts_event=now, ts_init=now, rfq_id=rfq_id,
                instrument_id=contract.inst.instrument_id, account="RQ01", qty=qty, side=side,
            ))
            if rng.random() < self.cfg.rfq_take_probability:
                wait = (self.cfg.rfq_deadline_s + rng.uniform(0.5, 5.0)) * NS_PER_S
                take_side = side or (Side.BUY if rng.random() < 0.5 else Side.SELL)
                self.clock.call_later(int(wait),
                                      lambda: self._take_rfq(contract, take_side, qty))
        self._rfq_timer = None
        if self._any_open():
            self._rfq_timer = self._schedule(
                "rfq", self.cfg.rfqs_per_hour * len(self._options), self._rfq)

    def _take_rfq(self, contract: Contract, side: Side, qty: int) -> None:
        if contract.phase is not Phase.CONTINUOUS:
            return
        bid, ask = self.exchange.best(contract.inst.instrument_id)
        px = ask if side is Side.BUY else bid
        if px is None:
            return
        now = self.clock.now_ns()
        self.submit(RFQ_CLIENTS, NewOrder(
            ts_event=now, ts_init=now, client_id=self._next_id("RT"),
            instrument_id=contract.inst.instrument_id, account="RQ01", side=side, px_ticks=px,
            qty=qty, tif=TimeInForce.IOC,
        ))

    # ---- halts and IOPV ---------------------------------------------------------------------

    def _schedule_halts(self, product_id: str) -> None:
        if self.cfg.halt_probability <= 0:
            return
        rng = self._rng["halt"]
        for contract in self.exchange.products[product_id].contracts:
            if rng.random() < self.cfg.halt_probability:
                start = rng.uniform(60, 3600)
                iid = contract.inst.instrument_id
                self.clock.call_later(int(start * NS_PER_S), lambda i=iid: self.set_halt(i, True))
                self.clock.call_later(int((start + 900) * NS_PER_S),
                                      lambda i=iid: self.set_halt(i, False))

    def start_iopv(self, interval_s: int = 15) -> None:
        """Publish each ETF's IOPV every `interval_s` seconds while its product trades."""
        etfs = [c for c in self._contracts if c.inst.kind is InstrumentKind.ETF]

        def publish() -> None:
            now = self.clock.now_ns()
            for contract in etfs:
                if contract.product.phase is not Phase.CLOSED:
                    ticks = round(self.market.iopv(contract.inst, now) / float(contract.inst.tick))
                    self.set_iopv(contract.inst.instrument_id, ticks)
            if self._any_open() or not self._active:
                self.clock.call_later(interval_s * NS_PER_S, publish)

        if etfs:
            self.clock.call_later(interval_s * NS_PER_S, publish)
