"""The simulated exchange's state: products, contracts, live quotes and RFQs."""

from dataclasses import dataclass, field

from adapters.sim.auction import TieBreak
from adapters.sim.book import Entry, OrderBook
from core.clock import TimerHandle
from core.config import CircuitBreakerRule
from core.enums import LimitState, Phase, Venue
from core.events import Rfq, Scope
from core.instruments import Instrument

HOLDING = frozenset({Phase.PRE_OPEN, Phase.BREAK})
"""Phases in which the exchange holds what it receives until continuous trading resumes."""


@dataclass(frozen=True, slots=True)
class ProductRules:
    """What the venue's trading rules say for one product."""

    venue: Venue
    tie_break: TieBreak
    circuit_breaker: CircuitBreakerRule | None = None
    self_trade: str = "cancel_incoming"


@dataclass(slots=True, eq=False)
class LiveQuote:
    quote_id: str
    account: str
    session: str
    contract: "Contract"
    bid: Entry | None
    ask: Entry | None
    rfq_id: str | None


@dataclass(slots=True, eq=False)
class Product:
    product_id: str
    rules: ProductRules
    phase: Phase = Phase.CLOSED
    contracts: list["Contract"] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Contract:
    inst: Instrument
    product: Product
    book: OrderBook
    reference_px: int
    index: int
    own_phase: Phase | None = None
    halted: bool = False
    limit_state: LimitState = LimitState.NONE
    last_px: int | None = None
    volume: int = 0
    iopv: int | None = None
    md_seq: int = 0
    cb_timer: TimerHandle | None = None

    @property
    def phase(self) -> Phase:
        if self.halted:
            return Phase.HALTED
        return self.own_phase or self.product.phase


@dataclass(slots=True)
class RfqState:
    rfq: Rfq
    first_response_ns: int | None = None
    responses: int = 0


def listing_order(contract: Contract) -> int:
    return contract.index


def in_scope(contract: Contract, scope: Scope) -> bool:
    inst = contract.inst
    return scope.covers(inst.instrument_id, inst.product, inst.underlying)
