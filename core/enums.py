"""Enumerations shared by every layer. Values are the lower-case words of TIMELINE.md."""

from enum import StrEnum


class Venue(StrEnum):
    SSE = "SSE"
    BSE = "BSE"
    ZCE = "ZCE"


class InstrumentKind(StrEnum):
    STOCK = "stock"
    ETF = "etf"
    FUTURE = "future"
    OPTION = "option"


class CallPut(StrEnum):
    CALL = "call"
    PUT = "put"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class Phase(StrEnum):
    """A trading phase of a product or a contract.

    `break_` is the midday (or overnight) pause between two continuous sessions; orders sent in
    it and in `pre_open` are held by the exchange and processed when continuous trading resumes.
    """

    PRE_OPEN = "pre_open"
    OPENING_AUCTION = "opening_auction"
    CONTINUOUS = "continuous"
    CIRCUIT_BREAKER_AUCTION = "circuit_breaker_auction"
    CLOSING_AUCTION = "closing_auction"
    BREAK = "break"
    HALTED = "halted"
    CLOSED = "closed"

    @property
    def is_auction(self) -> bool:
        return self in _AUCTIONS


_AUCTIONS = frozenset(
    {Phase.OPENING_AUCTION, Phase.CIRCUIT_BREAKER_AUCTION, Phase.CLOSING_AUCTION}
)


class LimitState(StrEnum):
    NONE = "none"
    UP = "up"
    DOWN = "down"


class QuoteStatusCode(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FILLED = "filled"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class ExecType(StrEnum):
    NEW = "new"
    TRADE = "trade"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class TimeInForce(StrEnum):
    DAY = "day"
    IOC = "ioc"


class ScopeKind(StrEnum):
    """How far a mass cancel (or a kill) reaches."""

    CONTRACT = "contract"
    PRODUCT = "product"
    UNDERLYING = "underlying"
    ACCOUNT = "account"
    ALL = "all"


class Liquidity(StrEnum):
    """Who provided the liquidity of a fill (RULES.md 1.1, fees)."""

    MAKER = "maker"
    TAKER = "taker"
    AUCTION = "auction"


class CancelReason(StrEnum):
    USER = "user"
    REPLACED = "replaced"
    MASS_CANCEL = "mass_cancel"
    DISCONNECT = "disconnect"
    SELF_TRADE = "self_trade"
    IOC = "ioc"
    CLOSE = "close"
    CIRCUIT_BREAKER = "circuit_breaker"
