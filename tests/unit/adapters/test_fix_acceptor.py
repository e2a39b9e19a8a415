"""The simulator's FIX acceptor's callbacks, fed real QuickFIX messages (the acceptor built,
not listening): commands reach the loop's queue, a PossDup resend of a command already
carried out does not, an unreadable message is answered and never raises."""

import msgspec
import quickfix as fix

from adapters.fix.acceptor import DROP_COPY, MEMBER, FixAcceptor
from adapters.fix.messages import accepted_of_ack, build, build_mass_quote, parse_text, to_fix
from core.enums import CancelReason, ExecType, QuoteStatusCode
from core.events import ExecutionReport, QuoteStatus
from tests.integration.linkkit import free_port
from tests.unit.adapters.test_fix_messages import MESSAGES, TICKS

MEMBER_SESSION = fix.SessionID("FIX.4.4", "SIM", "MM01")
QUOTE = MESSAGES[0]


def acceptor(tmp_path) -> FixAcceptor:
    return FixAcceptor(free_port(), tmp_path, TICKS)


def wire(command, possdup: bool = False) -> fix.Message:
    message = build(to_fix(command, TICKS))
    if possdup:
        message.getHeader().setField(fix.PossDupFlag(True))
    return message


def same(command):
    """The command as sent (ts_init is when the acceptor read it)."""
    return msgspec.structs.replace(command, ts_init=QUOTE.ts_init)


def test_a_command_reaches_the_loop(tmp_path):
    a = acceptor(tmp_path)
    a._inbound(wire(QUOTE), MEMBER_SESSION)
    taken = a.take()
    assert [(i.session, same(i.command)) for i in taken] == [(MEMBER, QUOTE)]


def test_a_possdup_resend_of_a_command_already_carried_out_is_dropped(tmp_path):
    a = acceptor(tmp_path)
    a._inbound(wire(QUOTE), MEMBER_SESSION)
    a._inbound(wire(QUOTE, possdup=True), MEMBER_SESSION)
    assert len(a.take()) == 1 and a.duplicates == 1
    # one it never saw (lost before the restart) is carried out, PossDup or not
    other = MESSAGES[1]
    a._inbound(wire(other, possdup=True), MEMBER_SESSION)
    assert [same(i.command) for i in a.take()] == [other]
    # remembered from the journal at a restart: a fresh acceptor drops the resend too
    b = acceptor(tmp_path / "b")
    b.remember(QUOTE)
    b._inbound(wire(QUOTE, possdup=True), MEMBER_SESSION)
    assert b.take() == [] and b.duplicates == 1


def test_an_unreadable_message_is_counted_and_never_raises(tmp_path):
    a = acceptor(tmp_path)
    message = wire(QUOTE)
    message.setField(fix.StringField(132, "0.10005"))  # not a whole tick
    a._inbound(message, MEMBER_SESSION)  # the Reject cannot go out (not logged on): no raise
    assert a.take() == [] and a.errors == 1
    event = build(to_fix(MESSAGES[12], TICKS))  # a QuoteStatus: the exchange's, not a member's
    a._inbound(event, MEMBER_SESSION)
    assert a.take() == [] and a.errors == 2



def test_a_mass_quotes_acceptances_go_in_its_ack_where_the_first_stood(tmp_path):
    """The acceptances of a MassQuote's quotes travel together in its acknowledgement, at
    the place of the first (so each quote's own later events follow it); a refused quote,
    a replaced quote's end, a quote of no MassQuote and a fill keep their own messages,
    the fill copied to the drop copy."""
    a = acceptor(tmp_path)
    quotes = [msgspec.structs.replace(QUOTE, quote_id=f"G1.{n}", ts_event=QUOTE.ts_event + n)
              for n in (2, 4, 5)]
    a._inbound(build_mass_quote("MQ1", quotes, TICKS), MEMBER_SESSION)
    assert len(a.take()) == 3

    def status(quote_id, code, **kw):
        return QuoteStatus(ts_event=QUOTE.ts_event + 9, ts_init=0, quote_id=quote_id,
                           instrument_id=QUOTE.instrument_id, account="MM01", status=code,
                           **kw)

    accepted2 = status("G1.2", QuoteStatusCode.ACCEPTED, bid_px_ticks=1000, bid_qty=10,
                       ask_px_ticks=1008, ask_qty=12)
    accepted4 = msgspec.structs.replace(accepted2, quote_id="G1.4", bid_px_ticks=None,
                                        bid_qty=0)
    fill = next(m for m in MESSAGES if isinstance(m, ExecutionReport)
                and m.exec_type is ExecType.TRADE)
    batch = [status("G0.1", QuoteStatusCode.CANCELLED, cancel_reason=CancelReason.REPLACED),
             accepted2, fill, accepted4,
             status("G1.5", QuoteStatusCode.REJECTED, reason="phase: closed"),
             status("G9.9", QuoteStatusCode.ACCEPTED)]
    plan = [(make().toString(), target) for make, target in a._plan(batch)]
    assert [(parse_text(text).msg_type, target) for text, target in plan] == [
        ("AI", MEMBER), ("b", MEMBER), ("8", MEMBER), ("8", DROP_COPY), ("AI", MEMBER),
        ("AI", MEMBER)]
    assert accepted_of_ack(plan[1][0], TICKS, 0) == [accepted2, accepted4]
    # each acceptance is acknowledged once: told again, it is a report of its own
    assert [parse_text(make().toString()).msg_type for make, _ in a._plan([accepted2])] == [
        "AI"]
