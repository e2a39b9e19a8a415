"""Domain Structs to and from STEP messages, in one place (`to_step` / `from_step`).

Prices travel as decimals in yuan and become integer ticks of the instrument on the way in,
so both directions take the instruments' ticks. Times travel in TransactTime (60) with
nanoseconds, UTC.

Layouts (MsgType: body tags):
- Quote, S: 117 QuoteID, 131 QuoteReqID (an RFQ answer), 48, 1 Account, 54 Side (1 bid only,
  2 ask only, B both, 0 none), 44/38 bid Price/OrderQty, 640/192 ask Price2/OrderQty2.
- CancelQuote, Z: 1166 QuoteMsgID, 298 QuoteCancelType=5 (security), 48, 1.
- MassCancel, q: 11, 1, 530 MassCancelRequestType (1 security/48, 2 underlying/311,
  3 product/1227, A account/10011, 7 all), 10003 include orders Y/N.
- NewOrder, D: 11, 48, 1, 54, 40=2, 44, 38, 59 (0 day, 3 IOC). CancelOrder, F: 11, 41, 48, 1.
- RequestForQuote / Rfq, R: 131, 48, 38, 54; 1 from a client, 126 ExpireTime from the exchange.
- QuoteStatus, AI: 117, 131, 48, 1, 297 (0 accepted, 5 rejected, 17 cancelled, 100 filled),
  58, 132/134 bid, 133/135 offer, 10001 cancel reason.
- ExecutionReport, 8: 17, 37, 11, 48, 1, 54, 150, 39, 44, 38, 31, 32, 14, 151,
  10002 quote Y/N, 851, 58, 10001.
- MassCancelReport, r: 11, 1, 530 and its value tag, 531=7, 10004 NoAffectedQuotes/117,
  534 NoAffectedOrders/41, 58.
- PhaseChange, h: 207 venue, 625 phase, 1227 product, 48.
- LimitStateChange / Halt, f: 48, 10006 limit state; or 326 (2 halt, 3 resume), 58.
- Reject, j: 379 BusinessRejectRefID, 380=0, 58.
"""

import calendar
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from adapters.stepfile.codec import StepError, StepMessage
from core.enums import (
    CancelReason,
    ExecType,
    LimitState,
    Liquidity,
    OrderStatus,
    Phase,
    QuoteStatusCode,
    ScopeKind,
    Side,
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
)
from core.prices import PriceError, from_ticks, to_ticks

Ticks = Mapping[str, Decimal]
Body = list[tuple[int, str]]
Domain = (Quote | CancelQuote | MassCancel | NewOrder | CancelOrder | RequestForQuote | Rfq
          | QuoteStatus | ExecutionReport | MassCancelReport | PhaseChange | LimitStateChange
          | Halt | Reject)

SIDE = {Side.BUY: "1", Side.SELL: "2"}
SIDE_BACK = {v: k for k, v in SIDE.items()}
TIF = {TimeInForce.DAY: "0", TimeInForce.IOC: "3"}
TIF_BACK = {v: k for k, v in TIF.items()}
_QUOTE_STATUS = {QuoteStatusCode.ACCEPTED: "0", QuoteStatusCode.REJECTED: "5",
                 QuoteStatusCode.CANCELLED: "17", QuoteStatusCode.FILLED: "100"}
_QUOTE_STATUS_BACK = {v: k for k, v in _QUOTE_STATUS.items()}
EXEC_TYPE = {ExecType.NEW: "0", ExecType.TRADE: "F", ExecType.CANCELLED: "4",
              ExecType.REJECTED: "8"}
EXEC_TYPE_BACK = {v: k for k, v in EXEC_TYPE.items()}
ORD_STATUS = {OrderStatus.NEW: "0", OrderStatus.PARTIALLY_FILLED: "1",
               OrderStatus.FILLED: "2", OrderStatus.CANCELLED: "4", OrderStatus.REJECTED: "8"}
ORD_STATUS_BACK = {v: k for k, v in ORD_STATUS.items()}
LIQUIDITY = {Liquidity.MAKER: "1", Liquidity.TAKER: "2", Liquidity.AUCTION: "4"}
LIQUIDITY_BACK = {v: k for k, v in LIQUIDITY.items()}
_SCOPE = {ScopeKind.CONTRACT: ("1", 48), ScopeKind.UNDERLYING: ("2", 311),
          ScopeKind.PRODUCT: ("3", 1227), ScopeKind.ACCOUNT: ("A", 10011),
          ScopeKind.ALL: ("7", None)}
_SCOPE_BACK = {code: (kind, tag) for kind, (code, tag) in _SCOPE.items()}


# ---- times -------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _second_text(seconds: int) -> str:
    return f"{datetime.fromtimestamp(seconds, UTC):%Y%m%d-%H:%M:%S}"


def format_ns(ts_ns: int) -> str:
    """UTC `YYYYMMDD-HH:MM:SS.nnnnnnnnn`."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{_second_text(seconds)}.{nanos:09d}"


@lru_cache(maxsize=512)
def _day_seconds(day_text: str) -> int:
    return calendar.timegm(date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:8]))
                           .timetuple())


def parse_ns(text: str, tag: int = 60) -> int:
    """The inverse of `format_ns` (the fraction may have 0 to 9 digits)."""
    stamp, _, frac = text.partition(".")
    try:
        if (len(stamp) != 17 or stamp[8] != "-" or stamp[11] != ":" or stamp[14] != ":"
                or not (stamp[:8] + stamp[9:11] + stamp[12:14] + stamp[15:]).isdigit()
                or (frac and (not frac.isdigit() or len(frac) > 9))):
            raise ValueError(text)
        hours, minutes, seconds = int(stamp[9:11]), int(stamp[12:14]), int(stamp[15:17])
        if hours > 23 or minutes > 59 or seconds > 60:
            raise ValueError(text)
        base = _day_seconds(stamp[:8]) + hours * 3600 + minutes * 60 + seconds
        nanos = int(frac.ljust(9, "0")) if frac else 0
    except ValueError as exc:
        raise StepError(tag, text, "not a UTC timestamp YYYYMMDD-HH:MM:SS[.fraction]") from exc
    return base * 1_000_000_000 + nanos


# ---- helpers -----------------------------------------------------------------------------------

def _px(ticks: Ticks, instrument_id: str, px_ticks: int) -> str:
    return str(from_ticks(px_ticks, _tick(ticks, instrument_id)))


def _tick(ticks: Ticks, instrument_id: str) -> Decimal:
    tick = ticks.get(instrument_id)
    if tick is None:
        raise StepError(48, instrument_id, "unknown instrument")
    return tick


def _int(msg: StepMessage, tag: int, default: int | None = None) -> int:
    value = msg.get(tag)
    if value is None:
        if default is None:
            raise StepError(tag, "", f"required in MsgType {msg.msg_type}")
        return default
    if not value.lstrip("-").isdigit():
        raise StepError(tag, value, "not an integer")
    return int(value)


def _ticks_of(msg: StepMessage, tag: int, ticks: Ticks, iid: str) -> int | None:
    value = msg.get(tag)
    if value is None:
        return None
    try:
        return to_ticks(value, _tick(ticks, iid), field=f"tag {tag}")
    except PriceError as exc:
        raise StepError(tag, value, str(exc)) from exc


def _enum(msg: StepMessage, tag: int, table: Mapping[str, object], default: object = None):
    value = msg.get(tag)
    if value is None:
        if default is None:
            raise StepError(tag, "", f"required in MsgType {msg.msg_type}")
        return default
    if value not in table:
        raise StepError(tag, value, f"not one of {', '.join(sorted(table))}")
    return table[value]


def _yes(msg: StepMessage, tag: int) -> bool:
    value = msg.get(tag, "N")
    if value not in ("Y", "N"):
        raise StepError(tag, value, "not Y or N")
    return value == "Y"


def _opt(body: Body, tag: int, value: object) -> None:
    if value is not None and value != "":
        body.append((tag, str(value)))


def _scope_fields(body: Body, scope: Scope) -> None:
    code, tag = _SCOPE[scope.kind]
    body.append((530, code))
    if tag is not None:
        body.append((tag, scope.value))


def _scope_of(msg: StepMessage) -> Scope:
    code = msg.require(530)
    if code not in _SCOPE_BACK:
        raise StepError(530, code, f"not one of {', '.join(sorted(_SCOPE_BACK))}")
    kind, tag = _SCOPE_BACK[code]
    return Scope(kind=kind, value=msg.require(tag) if tag is not None else "")


def _group(msg: StepMessage, count_tag: int, item_tag: int) -> tuple[str, ...]:
    count = _int(msg, count_tag, 0)
    items = tuple(msg.all(item_tag))
    if len(items) != count:
        raise StepError(count_tag, str(count), f"group has {len(items)} entries")
    return items


# ---- to STEP -----------------------------------------------------------------------------------

def to_step(msg: Domain, ticks: Ticks) -> tuple[str, Body]:
    """(MsgType, body fields) of a domain message."""
    body: Body = []
    match msg:
        case Quote():
            iid = msg.instrument_id
            side = {(True, True): "B", (True, False): "1", (False, True): "2",
                    (False, False): "0"}[(msg.bid_px_ticks is not None,
                                          msg.ask_px_ticks is not None)]
            body += [(117, msg.quote_id)]
            _opt(body, 131, msg.rfq_id)
            body += [(48, iid), (1, msg.account), (54, side)]
            if msg.bid_px_ticks is not None:
                body.append((44, _px(ticks, iid, msg.bid_px_ticks)))
            if msg.bid_px_ticks is not None or msg.bid_qty:
                body.append((38, str(msg.bid_qty)))
            if msg.ask_px_ticks is not None:
                body.append((640, _px(ticks, iid, msg.ask_px_ticks)))
            if msg.ask_px_ticks is not None or msg.ask_qty:
                body.append((192, str(msg.ask_qty)))
            kind = "S"
        case CancelQuote():
            body += [(1166, msg.request_id), (298, "5"), (48, msg.instrument_id),
                     (1, msg.account)]
            kind = "Z"
        case MassCancel():
            body += [(11, msg.request_id), (1, msg.account)]
            _scope_fields(body, msg.scope)
            body.append((10003, "Y" if msg.include_orders else "N"))
            kind = "q"
        case NewOrder():
            body += [(11, msg.client_id), (48, msg.instrument_id), (1, msg.account),
                     (54, SIDE[msg.side]), (40, "2"),
                     (44, _px(ticks, msg.instrument_id, msg.px_ticks)), (38, str(msg.qty)),
                     (59, TIF[msg.tif])]
            kind = "D"
        case CancelOrder():
            body += [(11, msg.request_id), (41, msg.client_id), (48, msg.instrument_id),
                     (1, msg.account)]
            kind = "F"
        case RequestForQuote():
            body += [(131, msg.rfq_id), (48, msg.instrument_id), (1, msg.account),
                     (38, str(msg.qty))]
            _opt(body, 54, SIDE.get(msg.side) if msg.side else None)
            kind = "R"
        case Rfq():
            body += [(131, msg.rfq_id), (48, msg.instrument_id), (38, str(msg.qty))]
            _opt(body, 54, SIDE.get(msg.side) if msg.side else None)
            body.append((126, format_ns(msg.deadline_ns)))
            kind = "R"
        case QuoteStatus():
            iid = msg.instrument_id
            body += [(117, msg.quote_id)]
            _opt(body, 131, msg.rfq_id)
            body += [(48, iid), (1, msg.account), (297, _QUOTE_STATUS[msg.status])]
            _opt(body, 58, msg.reason)
            if msg.bid_px_ticks is not None:
                body.append((132, _px(ticks, iid, msg.bid_px_ticks)))
            body.append((134, str(msg.bid_qty)))
            if msg.ask_px_ticks is not None:
                body.append((133, _px(ticks, iid, msg.ask_px_ticks)))
            body.append((135, str(msg.ask_qty)))
            _opt(body, 10001, msg.cancel_reason)
            kind = "AI"
        case ExecutionReport():
            iid = msg.instrument_id
            body += [(17, msg.exec_id), (37, msg.order_id), (11, msg.client_id), (48, iid),
                     (1, msg.account), (54, SIDE[msg.side]), (150, EXEC_TYPE[msg.exec_type]),
                     (39, ORD_STATUS[msg.status]), (44, _px(ticks, iid, msg.px_ticks)),
                     (38, str(msg.qty)), (31, _px(ticks, iid, msg.last_px_ticks)),
                     (32, str(msg.last_qty)), (14, str(msg.cum_qty)),
                     (151, str(msg.leaves_qty)), (10002, "Y" if msg.is_quote else "N")]
            _opt(body, 851, LIQUIDITY.get(msg.liquidity) if msg.liquidity else None)
            _opt(body, 58, msg.reason)
            _opt(body, 10001, msg.cancel_reason)
            kind = "8"
        case MassCancelReport():
            body += [(11, msg.request_id), (1, msg.account)]
            _scope_fields(body, msg.scope)
            body.append((531, "7"))
            body.append((10004, str(len(msg.cancelled_quotes))))
            body += [(117, q) for q in msg.cancelled_quotes]
            body.append((534, str(len(msg.cancelled_orders))))
            body += [(41, o) for o in msg.cancelled_orders]
            _opt(body, 58, msg.reason)
            kind = "r"
        case PhaseChange():
            body += [(207, msg.venue.value), (625, msg.phase.value)]
            _opt(body, 1227, msg.product)
            _opt(body, 48, msg.instrument_id)
            kind = "h"
        case LimitStateChange():
            body += [(48, msg.instrument_id), (10006, msg.state.value)]
            kind = "f"
        case Halt():
            body += [(48, msg.instrument_id), (326, "2" if msg.halted else "3")]
            _opt(body, 58, msg.reason)
            kind = "f"
        case Reject():
            _opt(body, 379, msg.ref_id)
            body.append((380, "0"))
            _opt(body, 58, msg.reason)
            kind = "j"
        case _:
            raise TypeError(f"no STEP layout for {type(msg).__name__}")
    body.append((60, format_ns(msg.ts_event)))
    return kind, body


# ---- from STEP ---------------------------------------------------------------------------------

def from_step(msg: StepMessage, ticks: Ticks, ts_init: int) -> Domain:
    """The domain message a STEP message carries; a StepError names the tag and value."""
    decoder = _DECODERS.get(msg.msg_type)
    if decoder is None:
        raise StepError(35, msg.msg_type, "not an application message of this link")
    return decoder(msg, ticks, parse_ns(msg.require(60)), ts_init)


def _quote(m: StepMessage, ticks: Ticks, ts: int, init: int) -> Quote:
    iid = m.require(48)
    _enum(m, 54, {"B": 1, "1": 1, "2": 1, "0": 1})
    return Quote(ts_event=ts, ts_init=init, quote_id=m.require(117), instrument_id=iid,
                 account=m.require(1), bid_px_ticks=_ticks_of(m, 44, ticks, iid),
                 bid_qty=_int(m, 38, 0), ask_px_ticks=_ticks_of(m, 640, ticks, iid),
                 ask_qty=_int(m, 192, 0), rfq_id=m.get(131))


def _cancel_quote(m: StepMessage, ticks: Ticks, ts: int, init: int) -> CancelQuote:
    if m.require(298) != "5":
        raise StepError(298, m.require(298), "only 5 (cancel for a security) is supported")
    return CancelQuote(ts_event=ts, ts_init=init, request_id=m.require(1166),
                       instrument_id=m.require(48), account=m.require(1))


def _mass_cancel(m: StepMessage, ticks: Ticks, ts: int, init: int) -> MassCancel:
    return MassCancel(ts_event=ts, ts_init=init, request_id=m.require(11), account=m.require(1),
                      scope=_scope_of(m), include_orders=_yes(m, 10003))


def _new_order(m: StepMessage, ticks: Ticks, ts: int, init: int) -> NewOrder:
    iid = m.require(48)
    if m.get(40, "2") != "2":
        raise StepError(40, m.get(40, ""), "only limit orders (2)")
    px = _ticks_of(m, 44, ticks, iid)
    if px is None:
        raise StepError(44, "", "required in MsgType D")
    return NewOrder(ts_event=ts, ts_init=init, client_id=m.require(11), instrument_id=iid,
                    account=m.require(1), side=_enum(m, 54, SIDE_BACK), px_ticks=px,
                    qty=_int(m, 38), tif=_enum(m, 59, TIF_BACK, TimeInForce.DAY))


def _cancel_order(m: StepMessage, ticks: Ticks, ts: int, init: int) -> CancelOrder:
    return CancelOrder(ts_event=ts, ts_init=init, request_id=m.require(11),
                       client_id=m.require(41), instrument_id=m.require(48),
                       account=m.require(1))


def _quote_request(m: StepMessage, ticks: Ticks, ts: int,
                   init: int) -> RequestForQuote | Rfq:
    side = SIDE_BACK.get(m.get(54) or "")
    if m.get(54) is not None and side is None:
        raise StepError(54, m.get(54) or "", "not 1 or 2")
    if m.get(126) is not None:
        return Rfq(ts_event=ts, ts_init=init, rfq_id=m.require(131),
                   instrument_id=m.require(48), qty=_int(m, 38), side=side,
                   deadline_ns=parse_ns(m.require(126), 126))
    return RequestForQuote(ts_event=ts, ts_init=init, rfq_id=m.require(131),
                           instrument_id=m.require(48), account=m.require(1), qty=_int(m, 38),
                           side=side)


def _cancel_reason(m: StepMessage) -> CancelReason | None:
    value = m.get(10001)
    if value is None:
        return None
    try:
        return CancelReason(value)
    except ValueError as exc:
        raise StepError(10001, value, "not a cancel reason") from exc


def _quote_status(m: StepMessage, ticks: Ticks, ts: int, init: int) -> QuoteStatus:
    iid = m.require(48)
    return QuoteStatus(
        ts_event=ts, ts_init=init, quote_id=m.require(117), instrument_id=iid,
        account=m.require(1), status=_enum(m, 297, _QUOTE_STATUS_BACK), reason=m.get(58, ""),
        bid_px_ticks=_ticks_of(m, 132, ticks, iid), bid_qty=_int(m, 134, 0),
        ask_px_ticks=_ticks_of(m, 133, ticks, iid), ask_qty=_int(m, 135, 0),
        rfq_id=m.get(131), cancel_reason=_cancel_reason(m),
    )


def _exec_report(m: StepMessage, ticks: Ticks, ts: int, init: int) -> ExecutionReport:
    iid = m.require(48)
    liquidity = m.get(851)
    return ExecutionReport(
        ts_event=ts, ts_init=init, exec_id=m.require(17), order_id=m.require(37),
        client_id=m.require(11), instrument_id=iid, account=m.require(1),
        side=_enum(m, 54, SIDE_BACK), exec_type=_enum(m, 150, EXEC_TYPE_BACK),
        status=_enum(m, 39, ORD_STATUS_BACK), px_ticks=_ticks_of(m, 44, ticks, iid) or 0,
        qty=_int(m, 38), last_px_ticks=_ticks_of(m, 31, ticks, iid) or 0,
        last_qty=_int(m, 32, 0), cum_qty=_int(m, 14, 0), leaves_qty=_int(m, 151, 0),
        is_quote=_yes(m, 10002),
        liquidity=_enum(m, 851, LIQUIDITY_BACK) if liquidity is not None else None,
        reason=m.get(58, ""), cancel_reason=_cancel_reason(m),
    )


def _mass_cancel_report(m: StepMessage, ticks: Ticks, ts: int,
                        init: int) -> MassCancelReport:
    return MassCancelReport(
        ts_event=ts, ts_init=init, request_id=m.require(11), account=m.require(1),
        scope=_scope_of(m), cancelled_quotes=_group(m, 10004, 117),
        cancelled_orders=_group(m, 534, 41), reason=m.get(58, ""),
    )


def _phase_change(m: StepMessage, ticks: Ticks, ts: int, init: int) -> PhaseChange:
    try:
        venue, phase = Venue(m.require(207)), Phase(m.require(625))
    except ValueError as exc:
        raise StepError("207/625", f"{m.get(207)}/{m.get(625)}", "unknown venue or phase") from exc
    return PhaseChange(ts_event=ts, ts_init=init, venue=venue, phase=phase,
                       product=m.get(1227, ""), instrument_id=m.get(48, ""))


def _security_status(m: StepMessage, ticks: Ticks, ts: int,
                     init: int) -> LimitStateChange | Halt:
    iid = m.require(48)
    if m.get(326) is not None:
        halted = _enum(m, 326, {"2": True, "3": False})
        return Halt(ts_event=ts, ts_init=init, instrument_id=iid, halted=halted,
                    reason=m.get(58, ""))
    try:
        state = LimitState(m.require(10006))
    except ValueError as exc:
        raise StepError(10006, m.get(10006) or "", "not up, down or none") from exc
    return LimitStateChange(ts_event=ts, ts_init=init, instrument_id=iid, state=state)


def _reject(m: StepMessage, ticks: Ticks, ts: int, init: int) -> Reject:
    return Reject(ts_event=ts, ts_init=init, ref_id=m.get(379, "") or "",
                  reason=m.get(58, "") or "")


_DECODERS: dict[str, Callable[[StepMessage, Ticks, int, int], Domain]] = {
    "S": _quote, "Z": _cancel_quote, "q": _mass_cancel, "D": _new_order, "F": _cancel_order,
    "R": _quote_request, "AI": _quote_status, "8": _exec_report, "r": _mass_cancel_report,
    "h": _phase_change, "f": _security_status, "j": _reject,
}
