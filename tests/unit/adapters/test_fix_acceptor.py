"""The simulator's FIX acceptor's callbacks, fed real QuickFIX messages (the acceptor built,
not listening): commands reach the loop's queue, a PossDup resend of a command already
carried out does not, an unreadable message is answered and never raises."""

import msgspec
import quickfix as fix

from adapters.fix.acceptor import MEMBER, FixAcceptor
from adapters.fix.messages import build, to_fix
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
