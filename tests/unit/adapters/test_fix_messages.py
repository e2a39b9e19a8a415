"""The FIX layouts: every domain message through a real QuickFIX message and back, valid
against QuickFIX's FIX 4.4 data dictionary (as the link's sessions validate it: user-defined
fields allowed), and bad input named by tag and value."""

from decimal import Decimal
from enum import Enum

import msgspec
import pytest
import quickfix as fix

from adapters.fix.messages import FixError, build, from_fix, parse_text, to_fix
from adapters.fix.settings import dictionary
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
    StatusReport,
    StatusRequest,
)

TICKS = {"10009001": Decimal("0.0001"), "510050": Decimal("0.001"), "SR701": Decimal("1")}
T = 1_795_000_000_123_456_789
INIT = 42


def _dictionary() -> fix.DataDictionary:
    dd = fix.DataDictionary(str(dictionary()))
    dd.checkUserDefinedFields(False)
    dd.allowUnknownMsgFields(True)
    return dd


DD = _dictionary()


def wire(message: fix.Message) -> str:
    """The message as a session would send it: header filled, then read back and
    validated by QuickFIX with the dictionary."""
    header = message.getHeader()
    header.setField(fix.BeginString("FIX.4.4"))
    header.setField(fix.SenderCompID("MM01"))
    header.setField(fix.TargetCompID("SIM"))
    header.setField(fix.MsgSeqNum(7))
    header.setField(fix.SendingTime())
    text = message.toString()
    parsed = fix.Message(text, DD, True)
    DD.validate(parsed)
    return parsed.toString()


MESSAGES = [
    Quote(ts_event=T, ts_init=INIT, quote_id="G1.1", instrument_id="10009001", account="MM01",
          bid_px_ticks=1000, bid_qty=10, ask_px_ticks=1008, ask_qty=12),
    Quote(ts_event=T, ts_init=INIT, quote_id="G1.2", instrument_id="10009001", account="MM01",
          bid_px_ticks=None, bid_qty=0, ask_px_ticks=1008, ask_qty=12, rfq_id="R9"),
    CancelQuote(ts_event=T, ts_init=INIT, request_id="C1", instrument_id="10009001",
                account="MM01"),
    MassCancel(ts_event=T, ts_init=INIT, request_id="M1", account="MM01",
               scope=Scope(kind=ScopeKind.ALL)),
    MassCancel(ts_event=T, ts_init=INIT, request_id="M2", account="MM01",
               scope=Scope(kind=ScopeKind.UNDERLYING, value="510050"), include_orders=False),
    MassCancel(ts_event=T, ts_init=INIT, request_id="M3", account="MM01",
               scope=Scope(kind=ScopeKind.PRODUCT, value="SR_O")),
    MassCancel(ts_event=T, ts_init=INIT, request_id="M4", account="MM01",
               scope=Scope(kind=ScopeKind.ACCOUNT, value="MM01")),
    MassCancel(ts_event=T, ts_init=INIT, request_id="M5", account="MM01",
               scope=Scope(kind=ScopeKind.CONTRACT, value="10009001")),
    NewOrder(ts_event=T, ts_init=INIT, client_id="H1", instrument_id="510050", account="MM01",
             side=Side.SELL, px_ticks=3101, qty=100_000, tif=TimeInForce.IOC),
    CancelOrder(ts_event=T, ts_init=INIT, request_id="X1", client_id="H1",
                instrument_id="510050", account="MM01", side=Side.SELL),
    RequestForQuote(ts_event=T, ts_init=INIT, rfq_id="R1", instrument_id="10009001",
                    account="CL1", qty=30, side=Side.BUY),
    Rfq(ts_event=T, ts_init=INIT, rfq_id="R2", instrument_id="10009001", qty=30, side=None,
        deadline_ns=T + 15_000_000_000),
    QuoteStatus(ts_event=T, ts_init=INIT, quote_id="G1.1", instrument_id="10009001",
                account="MM01", status=QuoteStatusCode.ACCEPTED, bid_px_ticks=1000, bid_qty=10,
                ask_px_ticks=1008, ask_qty=12),
    QuoteStatus(ts_event=T, ts_init=INIT, quote_id="G1.1", instrument_id="10009001",
                account="MM01", status=QuoteStatusCode.CANCELLED,
                cancel_reason=CancelReason.MASS_CANCEL),
    QuoteStatus(ts_event=T, ts_init=INIT, quote_id="G1.3", instrument_id="10009001",
                account="MM01", status=QuoteStatusCode.FILLED, rfq_id="R2"),
    QuoteStatus(ts_event=T, ts_init=INIT, quote_id="G1.4", instrument_id="10009001",
                account="MM01", status=QuoteStatusCode.REJECTED,
                reason="spread: 12 ticks over 10"),
    ExecutionReport(ts_event=T, ts_init=INIT, exec_id="E1", order_id="X9", client_id="G1.1",
                    instrument_id="10009001", account="MM01", side=Side.BUY,
                    exec_type=ExecType.TRADE, status=OrderStatus.PARTIALLY_FILLED,
                    px_ticks=1000, qty=10, last_px_ticks=1000, last_qty=4, cum_qty=4,
                    leaves_qty=6, is_quote=True, liquidity=Liquidity.MAKER),
    ExecutionReport(ts_event=T, ts_init=INIT, exec_id="E2", order_id="X10", client_id="H1",
                    instrument_id="510050", account="MM01", side=Side.SELL,
                    exec_type=ExecType.CANCELLED, status=OrderStatus.CANCELLED,
                    px_ticks=3101, qty=100_000, leaves_qty=0, reason="IOC remainder",
                    cancel_reason=CancelReason.IOC),
    MassCancelReport(ts_event=T, ts_init=INIT, request_id="M1", account="MM01",
                     scope=Scope(kind=ScopeKind.ALL), cancelled_quotes=("G1.1", "G1.2"),
                     cancelled_orders=("H1", "H2")),
    MassCancelReport(ts_event=T, ts_init=INIT, request_id="M2", account="MM01",
                     scope=Scope(kind=ScopeKind.UNDERLYING, value="510050")),
    PhaseChange(ts_event=T, ts_init=INIT, venue=Venue.SSE, phase=Phase.CONTINUOUS,
                product="510050"),
    PhaseChange(ts_event=T, ts_init=INIT, venue=Venue.SSE,
                phase=Phase.CIRCUIT_BREAKER_AUCTION, instrument_id="10009001"),
    LimitStateChange(ts_event=T, ts_init=INIT, instrument_id="10009001", state=LimitState.UP),
    Halt(ts_event=T, ts_init=INIT, instrument_id="SR701", halted=True, reason="news"),
    Reject(ts_event=T, ts_init=INIT, ref_id="G1.9", reason="qty: 0", ref_type="Quote"),
    StatusRequest(ts_event=T, ts_init=INIT, request_id="S1", account="MM01"),
    StatusReport(ts_event=T, ts_init=INIT, request_id="S1", account="MM01",
                 live_quotes=("G1.1", "G1.2"), live_orders=("H1",)),
    StatusReport(ts_event=T, ts_init=INIT, request_id="S2", account="MM01"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_crosses_quickfix_and_comes_back_the_same(message):
    text = wire(build(to_fix(message, TICKS)))
    assert from_fix(parse_text(text), TICKS, INIT) == message


def test_a_quote_is_the_standard_fix44_quote():
    text = wire(build(to_fix(MESSAGES[0], TICKS)))
    fields = dict(p.split("=", 1) for p in text.split("\x01") if p)
    assert fields["35"] == "S" and fields["55"] == "10009001"
    assert (fields["132"], fields["134"], fields["133"], fields["135"]) == (
        "0.1000", "10", "0.1008", "12")


def test_bad_input_names_the_tag_and_the_value():
    text = wire(build(to_fix(MESSAGES[0], TICKS))).replace("132=0.1000", "132=0.10005")
    with pytest.raises(FixError, match=r"tag 132 = '0.10005': not a price in ticks"):
        from_fix(parse_text(text), TICKS, INIT)
    unknown = wire(build(to_fix(MESSAGES[0], TICKS))).replace("55=10009001", "55=99999999")
    with pytest.raises(FixError, match=r"tag 55 = '99999999': unknown instrument"):
        from_fix(parse_text(unknown), TICKS, INIT)
    status = wire(build(to_fix(MESSAGES[12], TICKS))).replace("297=0", "297=3")
    with pytest.raises(FixError, match=r"tag 297 = '3': not one of"):
        from_fix(parse_text(status), TICKS, INIT)
    with pytest.raises(FixError, match="tag 54 = None: a cancel of H1 needs the order's side"):
        to_fix(CancelOrder(ts_event=T, ts_init=INIT, request_id="X", client_id="H1",
                           instrument_id="510050", account="MM01"), TICKS)


def test_a_mass_quote_carries_each_quote_and_validates():
    from adapters.fix.messages import build_mass_quote, mass_quote_ack, mass_quotes_of  # noqa: PLC0415

    quotes = [MESSAGES[0], Quote(ts_event=T + 5, ts_init=INIT, quote_id="G1.5",
                                 instrument_id="SR701", account="MM01", bid_px_ticks=5500,
                                 bid_qty=3, ask_px_ticks=None, ask_qty=0)]
    text = wire(build_mass_quote("MQ1", quotes, TICKS))
    assert "\x0135=i\x01" in text and "\x01296=1\x01" in text and "\x01295=2\x01" in text
    mass_id, back = mass_quotes_of(text, TICKS, INIT)
    assert mass_id == "MQ1" and back == quotes
    ack = wire(mass_quote_ack("MQ1", "MM01", [], TICKS))
    assert "\x0135=b\x01" in ack and "\x01117=MQ1\x01" in ack
    with pytest.raises(FixError, match="tag 1 = None: required in a MassQuote"):
        mass_quotes_of(text.replace("\x011=MM01\x01", "\x01"), TICKS, INIT)


def _every_enum_value():
    """Each message of MESSAGES once for every value of each of its enum fields: a value the
    FIX 4.4 dictionary does not know is refused by the receiving session, the message lost."""
    for message in MESSAGES:
        for name in message.__struct_fields__:
            value = getattr(message, name)
            if isinstance(value, Enum):
                for other in type(value):
                    if other is not value:
                        yield pytest.param(msgspec.structs.replace(message, **{name: other}),
                                           id=f"{type(message).__name__}.{name}={other}")


@pytest.mark.parametrize("message", list(_every_enum_value()))
def test_every_enum_value_crosses_quickfix(message):
    text = wire(build(to_fix(message, TICKS)))
    assert from_fix(parse_text(text), TICKS, INIT) == message


def test_an_auction_fill_is_valid_fix44():
    """851=4 (FIX 5.0's auction) is out of FIX 4.4's range: QuickFIX rejected the sim's
    auction fills at the session level and the gateway never booked them."""
    maker = next(m for m in MESSAGES if getattr(m, "liquidity", None) is Liquidity.MAKER)
    fill = msgspec.structs.replace(maker, liquidity=Liquidity.AUCTION)
    fields = dict(p.split("=", 1) for p in wire(build(to_fix(fill, TICKS))).split("\x01") if p)
    assert "851" not in fields and fields["625"] == "8"


def test_a_mass_quote_ack_carries_each_acceptance_and_gives_back_the_same_statuses():
    """The exchange acknowledges a MassQuote with an entry for each quote it accepted: the
    statuses read back equal the QuoteStatusReports it would have sent, two-sided and
    one-sided, whatever the tick."""
    from adapters.fix.messages import accepted_of_ack, mass_quote_ack  # noqa: PLC0415

    accepted = [
        QuoteStatus(ts_event=T, ts_init=INIT, quote_id="G1.1", instrument_id="10009001",
                    account="MM01", status=QuoteStatusCode.ACCEPTED, bid_px_ticks=1000,
                    bid_qty=10, ask_px_ticks=1008, ask_qty=12),
        QuoteStatus(ts_event=T + 7, ts_init=INIT, quote_id="G1.2", instrument_id="SR701",
                    account="MM01", status=QuoteStatusCode.ACCEPTED, bid_px_ticks=None,
                    bid_qty=0, ask_px_ticks=5501, ask_qty=3)]
    text = wire(mass_quote_ack("MQ7", "MM01", accepted, TICKS))
    assert "\x01296=1\x01" in text and "\x01295=2\x01" in text
    assert accepted_of_ack(text, TICKS, INIT) == accepted
    for accepted_one in accepted:  # and each as its own report: the same event
        assert from_fix(parse_text(wire(build(to_fix(accepted_one, TICKS)))), TICKS,
                        INIT) == accepted_one
    assert accepted_of_ack(wire(mass_quote_ack("MQ8", "MM01", [], TICKS)), TICKS, INIT) == []
    with pytest.raises(FixError, match=r"tag 55 = None: entry G1\.1 of"):
        accepted_of_ack(text.replace("\x0155=10009001\x01", "\x01"), TICKS, INIT)
