"""The gateway's FIX link's callback, fed real QuickFIX messages (the link built, not
connected): events reach the loop's queue as core Structs, a PossDup resend of one already
handed on does not, and what it keeps against resends is bounded."""

import msgspec
import quickfix as fix

import adapters.fix.link as link_module
from adapters.fix.link import FixLink
from adapters.fix.messages import build, to_fix
from core.clock import RealClock
from core.enums import QuoteStatusCode
from core.events import QuoteStatus, Reject
from tests.integration.linkkit import free_port
from tests.unit.adapters.test_fix_messages import TICKS

STATUS = QuoteStatus(ts_event=1_795_395_300_000_000_000, ts_init=0, quote_id="G1.1",
                     instrument_id="10009001", account="MM01",
                     status=QuoteStatusCode.ACCEPTED, bid_px_ticks=1000, bid_qty=10,
                     ask_px_ticks=1010, ask_qty=10)


def wire(event, possdup: bool = False) -> fix.Message:
    message = build(to_fix(event, TICKS))
    if possdup:
        message.getHeader().setField(fix.PossDupFlag(True))
    return message


def queued(link: FixLink) -> list:
    return [msgspec.structs.replace(e, ts_init=0) for e in link._inbox]


def test_an_event_reaches_the_loop_and_its_possdup_resend_does_not(tmp_path):
    link = FixLink(tmp_path, "127.0.0.1", free_port(), TICKS, RealClock())
    link._inbound(wire(STATUS))
    link._inbound(wire(STATUS, possdup=True))
    assert queued(link) == [STATUS] and link.duplicates == 1
    other = msgspec.structs.replace(STATUS, quote_id="G1.2")
    link._inbound(wire(other, possdup=True))  # resent, but never handed on: it goes on
    assert queued(link) == [STATUS, other]


def test_the_keys_kept_against_resends_are_the_latest(tmp_path, monkeypatch):
    monkeypatch.setattr(link_module, "GIVEN_KEPT", 3)
    link = FixLink(tmp_path, "127.0.0.1", free_port(), TICKS, RealClock())
    statuses = [msgspec.structs.replace(STATUS, quote_id=f"G1.{n}") for n in range(5)]
    for status in statuses:
        link._inbound(wire(status))
    assert len(link._given) == 3
    link._inbound(wire(statuses[4], possdup=True))  # recent: dropped
    link._inbound(wire(statuses[0], possdup=True))  # forgotten: handed on again
    assert queued(link) == [*statuses, statuses[0]] and link.duplicates == 1


def test_a_message_refused_at_the_session_level_is_reported(tmp_path):
    """QuickFIX refuses an exchange message whose value is out of the dictionary's range
    before the application sees it (35=3 sent back): the link hands the loop a Reject
    naming the message, the tag and the reason, and counts it."""
    link = FixLink(tmp_path, "127.0.0.1", free_port(), TICKS, RealClock())
    refusal = fix.Message("8=FIX.4.4\x019=0\x0135=3\x0145=2681\x01371=851\x01372=8\x01373=5\x01"
                          "58=Value is incorrect (out of range) for this tag\x0110=000\x01", False)
    link._session_reject(refusal, ours=True)
    link._session_reject(wire(STATUS), ours=True)  # not a Reject: nothing
    [event] = link._inbox
    assert isinstance(event, Reject) and event.ref_type == "8" and event.ref_id == "2681"
    assert event.reason == ("our FIX session refused the exchange's MsgType 8 (MsgSeqNum "
                            "2681): tag 851: Value is incorrect (out of range) for this tag")
    assert link.refused == 1 and link.errors == 1
