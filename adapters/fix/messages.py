"""Domain Structs to and from FIX 4.4 messages, in one place for both ends of the link (the
gateway's initiator and the simulator's acceptor): `to_fix` / `from_fix` on a plain layout,
`build` / `parse_text` between the layout and QuickFIX's Message (its text).

FIX 4.4 fields where FIX has them; what FIX 4.4 has no field for travels in user-defined tags
5001-5012 (the sessions allow user-defined fields). The instrument is Symbol (55) throughout;
prices are decimals in yuan, integer ticks of the instrument inside; times are TransactTime
(60), UTC, to the nanosecond.

- Quote S: 117 QuoteID, 131 QuoteReqID (an RFQ answer), 55, 1, 132/134 BidPx/BidSize,
  133/135 OfferPx/OfferSize (a side left out is not quoted).
- CancelQuote Z: 117 (the request's id), 298 QuoteCancelType=1, 1, NoQuoteEntries 295 {55}.
- MassCancel q: 11, 530 MassCancelRequestType (1 security: 55, 2 underlying: 311,
  3 product: 5001, 7 all; an account scope is 7 with 5006 = the account), 1,
  5002 include orders Y/N.
- NewOrder D: 11, 1, 55, 54, 40=2, 44, 38, 59 (0 day, 3 IOC).
- CancelOrder F: 11 (the request's id), 41 OrigClOrdID, 1, 55, 54.
- RequestForQuote / Rfq R: 131, 1 (a client's), NoRelatedSym 146 {55, 38, 54, 126
  ExpireTime (the exchange's)}.
- QuoteStatus AI: 117, 131, 55, 1, 297 QuoteStatus (0 accepted, 5 rejected, 1 cancelled,
  6 removed from the market with 5004=filled), 58, 132/134, 133/135, 5003 cancel reason;
  cancelled is 1 (QuickFIX's FIX44 dictionary has no 17).
- ExecutionReport 8: 37, 11, 17, 150 ExecType, 39, 55, 1, 54, 44, 38, 31, 32, 14, 151,
  6 AvgPx, 851 LastLiquidityInd (1 maker, 2 taker), 58, 5005 quote Y/N, 5003; an auction's
  fill has no 851 (FIX 4.4 knows 1-3 only: QuickFIX refuses 4 at the session level, the fill
  lost) but 625 TradingSessionSubID=8, "any auction" (FIX 5.0's value).
- MassCancelReport r: 11, 37 (the request's id), 530 and its scope field, 531 = 530,
  533 TotalAffectedOrders, NoAffectedOrders 534 {41}, 5007 the cancelled quote ids
  (space-separated), 1, 58.
- PhaseChange h: 336 TradingSessionID = venue, 340 TradSesStatus, 5009 the phase, 5001, 55.
- LimitStateChange f: 55, 5008 limit state. Halt f: 55, 326 (2 halt, 3 resume), 58.
- Reject j: 379, 372 RefMsgType, 380=0, 58.
- MassQuote i (quotes of a venue whose FIX configuration takes it): 117 QuoteID, 1,
  NoQuoteSets 296 {302 QuoteSetID=1, 304 TotNoQuoteEntries, NoQuoteEntries 295
  {299 QuoteEntryID = the quote's id,
  55, 132/134, 133/135, 60}}; acknowledged, once the exchange has taken its quotes, by one
  MassQuoteAcknowledgement b (117, 297=0, 1, the same quote set: an entry {299, 55, 132/134,
  133/135, 60 the acceptance's time} for each quote accepted) in place of their
  QuoteStatusReports; a quote refused, and every later status, has its own report.
- StatusRequest a (QuoteStatusRequest): 649 QuoteStatusReqID, 1, 55=* (every contract).
- StatusReport AI with 649: 117 = 649 = the request's id, 297=8 (the answer to a query),
  55=*, 1, 5007 the live quote ids, 5010 the live order ids (space-separated).
"""

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import quickfix as fix

from adapters.fix.settings import dictionary
from adapters.stepfile.messages import (  # the FIX values STEP shares
    EXEC_TYPE,
    EXEC_TYPE_BACK,
    LIQUIDITY,
    LIQUIDITY_BACK,
    ORD_STATUS,
    ORD_STATUS_BACK,
    SIDE,
    SIDE_BACK,
    TIF,
    TIF_BACK,
    format_ns,
    parse_ns,
)
from core.enums import (
    CancelReason,
    LimitState,
    Liquidity,
    Phase,
    QuoteStatusCode,
    ScopeKind,
    TimeInForce,
    Venue,
)
from core.events import (
    CancelOrder,
    CancelQuote,
    ExecutionReport,
    Halt,
    LimitStateChange,
    MassCancel,
    MassCancelReport,
    NewOrder,
    PhaseChange,
    Quote,
    QuoteStatus,
    Reject,
    RequestForQuote,
    Rfq,
    Scope,
    StatusReport,
    StatusRequest,
)
from core.prices import PriceError, from_ticks, to_ticks

SOH = "\x01"
AUCTION_SESSION = "8"
"""TradingSessionSubID (625) of an auction's fill: "any auction" (FIX 4.4's LastLiquidityInd
has no value for it)"""
Ticks = Mapping[str, Decimal]
Domain = (Quote | CancelQuote | MassCancel | NewOrder | CancelOrder | RequestForQuote | Rfq
          | QuoteStatus | ExecutionReport | MassCancelReport | PhaseChange | LimitStateChange
          | Halt | Reject | StatusRequest | StatusReport)

# user-defined tags
PRODUCT, INCLUDE_ORDERS, CANCEL_REASON, QUOTE_END, IS_QUOTE = 5001, 5002, 5003, 5004, 5005
ACCOUNT_SCOPE, QUOTE_IDS, LIMIT_STATE, PHASE, ORDER_IDS = 5006, 5007, 5008, 5009, 5010
STATUS_REQ_ID = 649
GROUPS = {295: 55, 146: 55, 534: 41}  # count tag -> the first field of an entry

_QUOTE_STATUS = {QuoteStatusCode.ACCEPTED: "0", QuoteStatusCode.REJECTED: "5",
                 QuoteStatusCode.CANCELLED: "1", QuoteStatusCode.FILLED: "6"}
_QUOTE_STATUS_BACK = {v: k for k, v in _QUOTE_STATUS.items()}
_SCOPE = {ScopeKind.CONTRACT: ("1", 55), ScopeKind.UNDERLYING: ("2", 311),
          ScopeKind.PRODUCT: ("3", PRODUCT), ScopeKind.ALL: ("7", None),
          ScopeKind.ACCOUNT: ("7", ACCOUNT_SCOPE)}
# TradSesStatus (340): 1 halted, 2 open, 3 closed, 4 pre-open, 5 pre-close
_SESSION_STATUS = {Phase.PRE_OPEN: "4", Phase.OPENING_AUCTION: "4", Phase.CONTINUOUS: "2",
                   Phase.CIRCUIT_BREAKER_AUCTION: "1", Phase.CLOSING_AUCTION: "5",
                   Phase.BREAK: "1", Phase.HALTED: "1", Phase.CLOSED: "3"}
_FIX_TYPE = {Quote: "S", CancelQuote: "Z", MassCancel: "q", NewOrder: "D", CancelOrder: "F",
             RequestForQuote: "R", Rfq: "R", QuoteStatus: "AI", ExecutionReport: "8",
             MassCancelReport: "r", PhaseChange: "h", LimitStateChange: "f", Halt: "f",
             Reject: "j", StatusRequest: "a", StatusReport: "AI"}
_FIX_TYPE_BY_NAME = {t.__name__: code for t, code in _FIX_TYPE.items()}


class FixError(ValueError):
    """A FIX message the link cannot read: names the tag, the value and why."""

    def __init__(self, tag: int, value: str | None, reason: str) -> None:
        self.tag, self.value, self.reason = tag, value, reason
        super().__init__(f"tag {tag} = {value!r}: {reason}")


@dataclass
class Layout:
    """A message as FIX fields: the body in order, and repeating groups by count tag."""

    msg_type: str
    body: list[tuple[int, str]]
    groups: dict[int, list[list[tuple[int, str]]]] = field(default_factory=dict)
    possdup: bool = False  # read with PossDupFlag (43) Y: a resend

    def get(self, tag: int) -> str | None:
        for t, v in self.body:
            if t == tag:
                return v
        return None

    def require(self, tag: int) -> str:
        value = self.get(tag)
        if value is None:
            raise FixError(tag, None, f"required in a {self.msg_type} message, missing")
        return value


# ---- to FIX ------------------------------------------------------------------------------------

def _px(ticks: Ticks, iid: str, px_ticks: int) -> str:
    return str(from_ticks(px_ticks, _tick(ticks, iid)))


def _tick(ticks: Ticks, iid: str) -> Decimal:
    tick = ticks.get(iid)
    if tick is None:
        raise FixError(55, iid, "unknown instrument")
    return tick


def _opt(body: list[tuple[int, str]], tag: int, value: object) -> None:
    if value is not None and value != "":
        body.append((tag, str(value)))


def _sides(body: list[tuple[int, str]], ticks: Ticks, iid: str, bid: int | None,
           bid_qty: int, ask: int | None, ask_qty: int) -> None:
    if bid is not None:
        body += [(132, _px(ticks, iid, bid)), (134, str(bid_qty))]
    if ask is not None:
        body += [(133, _px(ticks, iid, ask)), (135, str(ask_qty))]


def _scope(body: list[tuple[int, str]], scope: Scope) -> None:
    code, tag = _SCOPE[scope.kind]
    body.append((530, code))
    if tag is not None:
        body.append((tag, scope.value))


def to_fix(msg: Domain, ticks: Ticks) -> Layout:
    """The FIX layout of a domain message."""
    body: list[tuple[int, str]] = []
    groups: dict[int, list[list[tuple[int, str]]]] = {}
    match msg:
        case Quote():
            body += [(117, msg.quote_id)]
            _opt(body, 131, msg.rfq_id)
            body += [(55, msg.instrument_id), (1, msg.account)]
            _sides(body, ticks, msg.instrument_id, msg.bid_px_ticks, msg.bid_qty,
                   msg.ask_px_ticks, msg.ask_qty)
        case CancelQuote():
            body += [(117, msg.request_id), (298, "1"), (1, msg.account)]
            groups[295] = [[(55, msg.instrument_id)]]
        case MassCancel():
            body += [(11, msg.request_id)]
            _scope(body, msg.scope)
            body += [(1, msg.account), (INCLUDE_ORDERS, "Y" if msg.include_orders else "N")]
        case NewOrder():
            body += [(11, msg.client_id), (1, msg.account), (55, msg.instrument_id),
                     (54, SIDE[msg.side]), (40, "2"),
                     (44, _px(ticks, msg.instrument_id, msg.px_ticks)), (38, str(msg.qty)),
                     (59, TIF[msg.tif])]
        case CancelOrder():
            if msg.side is None:
                raise FixError(54, None, f"a cancel of {msg.client_id} needs the order's side")
            body += [(11, msg.request_id), (41, msg.client_id), (1, msg.account),
                     (55, msg.instrument_id), (54, SIDE[msg.side])]
        case RequestForQuote() | Rfq():
            body += [(131, msg.rfq_id)]
            entry = [(55, msg.instrument_id), (38, str(msg.qty))]
            _opt(entry, 54, SIDE[msg.side] if msg.side else None)
            if isinstance(msg, Rfq):
                entry.append((126, format_ns(msg.deadline_ns)))
            else:
                body.append((1, msg.account))
            groups[146] = [entry]
        case QuoteStatus():
            body += [(117, msg.quote_id)]
            _opt(body, 131, msg.rfq_id)
            body += [(55, msg.instrument_id), (1, msg.account),
                     (297, _QUOTE_STATUS[msg.status])]
            _opt(body, 58, msg.reason)
            _sides(body, ticks, msg.instrument_id, msg.bid_px_ticks, msg.bid_qty,
                   msg.ask_px_ticks, msg.ask_qty)
            _opt(body, CANCEL_REASON, msg.cancel_reason)
            if msg.status is QuoteStatusCode.FILLED:
                body.append((QUOTE_END, "filled"))
        case ExecutionReport():
            iid = msg.instrument_id
            body += [(37, msg.order_id), (11, msg.client_id), (17, msg.exec_id),
                     (150, EXEC_TYPE[msg.exec_type]), (39, ORD_STATUS[msg.status]),
                     (55, iid), (1, msg.account), (54, SIDE[msg.side]),
                     (44, _px(ticks, iid, msg.px_ticks)), (38, str(msg.qty)),
                     (31, _px(ticks, iid, msg.last_px_ticks)), (32, str(msg.last_qty)),
                     (14, str(msg.cum_qty)), (151, str(msg.leaves_qty)),
                     (6, _px(ticks, iid, msg.last_px_ticks)),
                     (IS_QUOTE, "Y" if msg.is_quote else "N")]
            if msg.liquidity is Liquidity.AUCTION:
                body.append((625, AUCTION_SESSION))
            else:
                _opt(body, 851, LIQUIDITY[msg.liquidity] if msg.liquidity else None)
            _opt(body, 58, msg.reason)
            _opt(body, CANCEL_REASON, msg.cancel_reason)
        case MassCancelReport():
            body += [(11, msg.request_id), (37, msg.request_id)]
            _scope(body, msg.scope)
            body += [(531, _SCOPE[msg.scope.kind][0]),
                     (533, str(len(msg.cancelled_quotes) + len(msg.cancelled_orders))),
                     (1, msg.account)]
            _opt(body, QUOTE_IDS, " ".join(msg.cancelled_quotes))
            _opt(body, 58, msg.reason)
            if msg.cancelled_orders:
                groups[534] = [[(41, o)] for o in msg.cancelled_orders]
        case PhaseChange():
            body += [(336, msg.venue.value), (340, _SESSION_STATUS[msg.phase]),
                     (PHASE, msg.phase.value)]
            _opt(body, PRODUCT, msg.product)
            _opt(body, 55, msg.instrument_id)
        case LimitStateChange():
            body += [(55, msg.instrument_id), (LIMIT_STATE, msg.state.value)]
        case Halt():
            body += [(55, msg.instrument_id), (326, "2" if msg.halted else "3")]
            _opt(body, 58, msg.reason)
        case Reject():
            body += [(379, msg.ref_id), (372, _FIX_TYPE_BY_NAME.get(msg.ref_type, "U")),
                     (380, "0")]
            _opt(body, 58, msg.reason)
        case StatusRequest():
            body += [(STATUS_REQ_ID, msg.request_id), (1, msg.account), (55, "*")]
        case StatusReport():
            body += [(117, msg.request_id), (STATUS_REQ_ID, msg.request_id), (55, "*"),
                     (1, msg.account), (297, "8")]
            _opt(body, QUOTE_IDS, " ".join(msg.live_quotes))
            _opt(body, ORDER_IDS, " ".join(msg.live_orders))
        case _:
            raise TypeError(f"no FIX layout for {type(msg).__name__}")
    body.append((60, format_ns(msg.ts_event)))
    return Layout(_FIX_TYPE[type(msg)], body, groups)


def build(layout: Layout) -> fix.Message:
    """A QuickFIX message of the layout (the session fills the header, the length and the
    checksum), parsed from its text in one call into QuickFIX: a fifth of the cost of setting
    field by field, a fortieth for a message with repeating groups (parsed against the FIX 4.4
    dictionary, which says where each group's entries begin and end)."""
    parts = [f"8=FIX.4.4{SOH}9=0{SOH}35={layout.msg_type}{SOH}"]
    parts += [f"{tag}={value}{SOH}" for tag, value in layout.body]
    if not layout.groups:
        parts.append(f"10=000{SOH}")
        return fix.Message("".join(parts), False)
    for count_tag, entries in layout.groups.items():
        parts.append(f"{count_tag}={len(entries)}{SOH}")
        parts += [f"{tag}={value}{SOH}" for entry in entries for tag, value in entry]
    parts.append(f"10=000{SOH}")
    return fix.Message("".join(parts), _data_dictionary(), False)


@functools.cache
def _data_dictionary() -> fix.DataDictionary:
    """QuickFIX's FIX 4.4 dictionary, read once."""
    return fix.DataDictionary(str(dictionary("FIX44")))


# ---- from FIX ----------------------------------------------------------------------------------

_HEADER = frozenset({8, 9, 35, 34, 49, 56, 52, 43, 97, 122, 115, 128, 50, 57, 142, 143, 10})


def parse_text(text: str) -> Layout:
    msg_type = ""
    body: list[tuple[int, str]] = []
    groups: dict[int, list[list[tuple[int, str]]]] = {}
    group: int | None = None  # the count tag whose entries are being read
    possdup = False
    for pair in text.split(SOH):
        if not pair:
            continue
        tag_text, _, value = pair.partition("=")
        try:
            tag = int(tag_text)
        except ValueError:
            raise FixError(0, tag_text, "not a tag number") from None
        if tag == 35:
            msg_type = value
        elif tag == 43:
            possdup = value == "Y"
        if tag in _HEADER:
            continue
        if tag in GROUPS:
            group = tag
            groups[tag] = []
            continue
        if group is not None and tag == GROUPS[group]:
            groups[group].append([(tag, value)])
            continue
        if group is not None and groups[group] and tag in _GROUP_FIELDS[group]:
            groups[group][-1].append((tag, value))
            continue
        group = None
        body.append((tag, value))
    return Layout(msg_type, body, groups, possdup)


_GROUP_FIELDS = {295: frozenset({55}), 146: frozenset({55, 38, 54, 126}),
                 534: frozenset({41, 535, 536})}


def _int(m: Layout | list[tuple[int, str]], tag: int, default: int | None = None) -> int:
    value = m.get(tag) if isinstance(m, Layout) else dict(m).get(tag)
    if value is None:
        if default is None:
            raise FixError(tag, None, "required, missing")
        return default
    try:
        return int(value)
    except ValueError:
        raise FixError(tag, value, "not a whole number") from None


def _ticks_of(m: Layout, tag: int, ticks: Ticks, iid: str) -> int | None:
    value = m.get(tag)
    if value is None:
        return None
    try:
        return to_ticks(Decimal(value), _tick(ticks, iid))
    except (InvalidOperation, PriceError) as exc:
        raise FixError(tag, value, f"not a price in ticks of {iid}: {exc}") from None


def _enum(m: Layout, tag: int, table: Mapping[str, object], default: object = None):
    value = m.get(tag)
    if value is None:
        if default is None:
            raise FixError(tag, None, "required, missing")
        return default
    if value not in table:
        raise FixError(tag, value, f"not one of {', '.join(sorted(table))}")
    return table[value]


def _value_enum(m: Layout, tag: int, kind, default=None, *, required: bool = False):
    value = m.get(tag)
    if value is None:
        if required:
            raise FixError(tag, None, "required, missing")
        return default
    try:
        return kind(value)
    except ValueError:
        raise FixError(tag, value, f"not one of {', '.join(k.value for k in kind)}") from None


def _scope_of(m: Layout) -> Scope:
    code = m.require(530)
    if code == "7":
        account = m.get(ACCOUNT_SCOPE)
        return (Scope(kind=ScopeKind.ACCOUNT, value=account) if account
                else Scope(kind=ScopeKind.ALL))
    for kind, (value, tag) in _SCOPE.items():
        if value == code and tag is not None:
            return Scope(kind=kind, value=m.require(tag))
    raise FixError(530, code, "not a MassCancelRequestType of this link (1, 2, 3, 7)")


def from_fix(m: Layout, ticks: Ticks, ts_init: int) -> Domain:
    """The domain message a FIX layout carries; a FixError names the tag and value."""
    ts = parse_ns(m.require(60))
    match m.msg_type:
        case "S":
            iid = m.require(55)
            bid, ask = _ticks_of(m, 132, ticks, iid), _ticks_of(m, 133, ticks, iid)
            return Quote(ts_event=ts, ts_init=ts_init, quote_id=m.require(117),
                         instrument_id=iid, account=m.require(1), bid_px_ticks=bid,
                         bid_qty=_int(m, 134, 0) if bid is not None else 0, ask_px_ticks=ask,
                         ask_qty=_int(m, 135, 0) if ask is not None else 0,
                         rfq_id=m.get(131))
        case "Z":
            entries = m.groups.get(295) or []
            if len(entries) != 1:
                raise FixError(295, str(len(entries)), "one contract a QuoteCancel")
            return CancelQuote(ts_event=ts, ts_init=ts_init, request_id=m.require(117),
                               instrument_id=dict(entries[0])[55], account=m.require(1))
        case "q":
            return MassCancel(ts_event=ts, ts_init=ts_init, request_id=m.require(11),
                              account=m.require(1), scope=_scope_of(m),
                              include_orders=m.get(INCLUDE_ORDERS) != "N")
        case "D":
            iid = m.require(55)
            px = _ticks_of(m, 44, ticks, iid)
            if px is None:
                raise FixError(44, None, "a limit order needs its price")
            return NewOrder(ts_event=ts, ts_init=ts_init, client_id=m.require(11),
                            instrument_id=iid, account=m.require(1),
                            side=_enum(m, 54, SIDE_BACK), px_ticks=px, qty=_int(m, 38),
                            tif=_enum(m, 59, TIF_BACK, TimeInForce.DAY))
        case "F":
            return CancelOrder(ts_event=ts, ts_init=ts_init, request_id=m.require(11),
                               client_id=m.require(41), instrument_id=m.require(55),
                               account=m.require(1), side=_enum(m, 54, SIDE_BACK))
        case "R":
            entries = m.groups.get(146) or []
            if len(entries) != 1:
                raise FixError(146, str(len(entries)), "one contract a QuoteRequest")
            entry = dict(entries[0])
            side = SIDE_BACK.get(entry.get(54, "")) if 54 in entry else None
            if 54 in entry and side is None:
                raise FixError(54, entry[54], "not 1 or 2")
            common = {"ts_event": ts, "ts_init": ts_init, "rfq_id": m.require(131),
                      "instrument_id": entry[55], "qty": _int(entries[0], 38), "side": side}
            if 126 in entry:
                return Rfq(**common, deadline_ns=parse_ns(entry[126], 126))
            return RequestForQuote(**common, account=m.require(1))
        case "AI" if m.get(STATUS_REQ_ID) is not None:
            return StatusReport(ts_event=ts, ts_init=ts_init, request_id=m.require(STATUS_REQ_ID),
                                account=m.require(1),
                                live_quotes=tuple((m.get(QUOTE_IDS) or "").split()),
                                live_orders=tuple((m.get(ORDER_IDS) or "").split()))
        case "a":
            return StatusRequest(ts_event=ts, ts_init=ts_init,
                                 request_id=m.require(STATUS_REQ_ID), account=m.require(1))
        case "AI":
            iid = m.require(55)
            bid, ask = _ticks_of(m, 132, ticks, iid), _ticks_of(m, 133, ticks, iid)
            return QuoteStatus(ts_event=ts, ts_init=ts_init, quote_id=m.require(117),
                               instrument_id=iid, account=m.require(1),
                               status=_enum(m, 297, _QUOTE_STATUS_BACK), reason=m.get(58) or "",
                               bid_px_ticks=bid, bid_qty=_int(m, 134, 0), ask_px_ticks=ask,
                               ask_qty=_int(m, 135, 0), rfq_id=m.get(131),
                               cancel_reason=_value_enum(m, CANCEL_REASON, CancelReason))
        case "8":
            iid = m.require(55)
            return ExecutionReport(
                ts_event=ts, ts_init=ts_init, exec_id=m.require(17), order_id=m.require(37),
                client_id=m.require(11), instrument_id=iid, account=m.require(1),
                side=_enum(m, 54, SIDE_BACK), exec_type=_enum(m, 150, EXEC_TYPE_BACK),
                status=_enum(m, 39, ORD_STATUS_BACK),
                px_ticks=_ticks_of(m, 44, ticks, iid) or 0, qty=_int(m, 38, 0),
                last_px_ticks=_ticks_of(m, 31, ticks, iid) or 0, last_qty=_int(m, 32, 0),
                cum_qty=_int(m, 14, 0), leaves_qty=_int(m, 151, 0),
                is_quote=m.get(IS_QUOTE) == "Y",
                liquidity=(_enum(m, 851, LIQUIDITY_BACK) if m.get(851)
                           else Liquidity.AUCTION if m.get(625) == AUCTION_SESSION else None),
                reason=m.get(58) or "",
                cancel_reason=_value_enum(m, CANCEL_REASON, CancelReason))
        case "r":
            quotes = tuple((m.get(QUOTE_IDS) or "").split())
            orders = tuple(dict(e)[41] for e in m.groups.get(534, []))
            return MassCancelReport(ts_event=ts, ts_init=ts_init, request_id=m.require(11),
                                    account=m.require(1), scope=_scope_of(m),
                                    cancelled_quotes=quotes, cancelled_orders=orders,
                                    reason=m.get(58) or "")
        case "h":
            return PhaseChange(ts_event=ts, ts_init=ts_init,
                               venue=_value_enum(m, 336, Venue, required=True),
                               phase=_value_enum(m, PHASE, Phase, required=True),
                               product=m.get(PRODUCT) or "", instrument_id=m.get(55) or "")
        case "f":
            iid = m.require(55)
            if m.get(LIMIT_STATE) is not None:
                return LimitStateChange(ts_event=ts, ts_init=ts_init, instrument_id=iid,
                                        state=_value_enum(m, LIMIT_STATE, LimitState,
                                                          required=True))
            halted = _enum(m, 326, {"2": True, "3": False})
            return Halt(ts_event=ts, ts_init=ts_init, instrument_id=iid, halted=halted,
                        reason=m.get(58) or "")
        case "j":
            ref_type = next((name for name, code in _FIX_TYPE_BY_NAME.items()
                             if code == m.get(372)), "")
            return Reject(ts_event=ts, ts_init=ts_init, ref_id=m.get(379) or "",
                          reason=m.get(58) or "", ref_type=ref_type)
    raise FixError(35, m.msg_type, "not an application message of this link")


# ---- MassQuote -----------------------------------------------------------------------------

MASS_ENTRY_FIELDS = frozenset({55, 132, 133, 134, 135, 60})


def _quote_set(msg_type: str, head: list[tuple[int, str]],
               entries: list[list[tuple[int, str]]]) -> fix.Message:
    """A message of one quote set: NoQuoteSets 296 {302 QuoteSetID, 304 TotNoQuoteEntries,
    NoQuoteEntries 295 {the entries}} (MassQuote's and MassQuoteAcknowledgement's)."""
    set_head = [(302, "1"), (304, str(len(entries))), (295, str(len(entries)))]
    return build(Layout(msg_type, head, {296: [set_head + [kv for e in entries for kv in e]]}))


def _entry(quote_id: str, iid: str, bid: int | None, bid_qty: int, ask: int | None,
           ask_qty: int, ts: int, ticks: Ticks) -> list[tuple[int, str]]:
    entry: list[tuple[int, str]] = [(299, quote_id), (55, iid)]
    _sides(entry, ticks, iid, bid, bid_qty, ask, ask_qty)
    entry.append((60, format_ns(ts)))
    return entry


def build_mass_quote(mass_id: str, quotes: list[Quote], ticks: Ticks) -> fix.Message:
    """One MassQuote (35=i) carrying `quotes` (one quote set, an entry a quote)."""
    return _quote_set("i", [(117, mass_id), (1, quotes[0].account)],
                      [_entry(q.quote_id, q.instrument_id, q.bid_px_ticks, q.bid_qty,
                              q.ask_px_ticks, q.ask_qty, q.ts_event, ticks) for q in quotes])


def _entries_of(text: str, what: str) -> tuple[str, str, list[dict[int, str]]]:
    """The id (117), the account and the quote entries (by tag) of a MassQuote's or a
    MassQuoteAcknowledgement's text."""
    mass_id, account = "", ""
    entries: list[dict[int, str]] = []
    for pair in text.split(SOH):
        tag_text, _, value = pair.partition("=")
        if not tag_text.isdigit():
            continue
        tag = int(tag_text)
        if tag == 117:
            mass_id = value
        elif tag == 1:
            account = value
        elif tag == 299:
            entries.append({299: value})
        elif entries and tag in MASS_ENTRY_FIELDS:
            entries[-1][tag] = value
    if not mass_id:
        raise FixError(117, None, f"required in a {what}, missing")
    if not account:
        raise FixError(1, None, f"required in a {what}, missing")
    for entry in entries:
        if 55 not in entry:
            raise FixError(55, None, f"entry {entry[299]} of {what} {mass_id}: missing")
    return mass_id, account, entries


def mass_quotes_of(text: str, ticks: Ticks, ts_init: int) -> tuple[str, list[Quote]]:
    """The MassQuote's id and its quotes, from the message's text."""
    mass_id, account, entries = _entries_of(text, "MassQuote")
    quotes = []
    for entry in entries:
        iid = entry[55]
        layout = Layout("S", [(k, v) for k, v in entry.items()])
        bid, ask = _ticks_of(layout, 132, ticks, iid), _ticks_of(layout, 133, ticks, iid)
        quotes.append(Quote(ts_event=parse_ns(layout.require(60)), ts_init=ts_init,
                            quote_id=entry[299], instrument_id=iid, account=account,
                            bid_px_ticks=bid,
                            bid_qty=_int(layout, 134, 0) if bid is not None else 0,
                            ask_px_ticks=ask,
                            ask_qty=_int(layout, 135, 0) if ask is not None else 0))
    return mass_id, quotes


def mass_quote_ack(mass_id: str, account: str, accepted: Sequence[QuoteStatus],
                   ticks: Ticks) -> fix.Message:
    """MassQuoteAcknowledgement (35=b) of the MassQuote `mass_id`: an entry for each of its
    quotes the exchange accepted (QuoteEntryID, the contract, the sides as accepted and
    TransactTime, the acceptance's time), one message for a requote's acceptances instead
    of a QuoteStatusReport each. A quote refused, with its reason, has its own report."""
    head = [(117, mass_id), (297, "0"), (1, account)]
    if not accepted:
        return build(Layout("b", head))
    return _quote_set("b", head, [_entry(s.quote_id, s.instrument_id, s.bid_px_ticks,
                                         s.bid_qty, s.ask_px_ticks, s.ask_qty, s.ts_event,
                                         ticks) for s in accepted])


def accepted_of_ack(text: str, ticks: Ticks, ts_init: int) -> list[QuoteStatus]:
    """The acceptances a MassQuoteAcknowledgement's entries carry, each the QuoteStatus the
    exchange would have reported on its own."""
    _, account, entries = _entries_of(text, "MassQuoteAcknowledgement")
    out = []
    for entry in entries:
        iid = entry[55]
        layout = Layout("AI", [(k, v) for k, v in entry.items()])
        try:
            ts = parse_ns(layout.require(60))
        except ValueError as exc:
            raise FixError(60, entry.get(60), f"entry {entry[299]}: {exc}") from None
        out.append(QuoteStatus(ts_event=ts, ts_init=ts_init, quote_id=entry[299],
                               instrument_id=iid, account=account,
                               status=QuoteStatusCode.ACCEPTED,
                               bid_px_ticks=_ticks_of(layout, 132, ticks, iid),
                               bid_qty=_int(layout, 134, 0),
                               ask_px_ticks=_ticks_of(layout, 133, ticks, iid),
                               ask_qty=_int(layout, 135, 0)))
    return out
