"""The RFQ responder and the coverage guard."""

from adapters.refdata.loader import load_rule_pack
from core.enums import Phase
from core.events import Quote, Rfq
from quoting.coverage import check_withdrawal
from quoting.gate import Accept, Reject, Rule
from quoting.rfq import RfqResponder

S = 1_000_000_000
PACK = load_rule_pack("sse-options")


def rfq(rfq_id="R1", contract="C1", at=0):
    return Rfq(ts_event=at, ts_init=at, rfq_id=rfq_id, instrument_id=contract, qty=5,
               deadline_ns=at + 15 * S)


def answer(contract, rfq_id):
    return (Quote(ts_event=0, ts_init=0, quote_id=f"A-{rfq_id}", instrument_id=contract,
                  account="MM", bid_px_ticks=100, bid_qty=10, ask_px_ticks=110, ask_qty=10,
                  rfq_id=rfq_id), Accept())


def test_a_covered_rfq_is_answered_at_once_and_rests_fifteen_seconds():
    responder = RfqResponder({"C1"})
    quote = responder.on_rfq(rfq(), 2 * S, answer)
    assert quote.rfq_id == "R1"
    record = responder.records["R1"]
    assert record.in_time and record.answered_ns == 2 * S
    assert responder.blocked("C1", 16 * S)
    assert not responder.blocked("C1", 17 * S)
    assert responder.response_rate() == 1.0


def test_a_fill_or_a_kill_ends_the_rest_early():
    responder = RfqResponder({"C1"})
    responder.on_rfq(rfq(), 0, answer)
    responder.ended("C1", 5 * S, "filled")
    assert not responder.blocked("C1", 6 * S)
    assert responder.records["R1"].end_reason == "filled"


def test_uncovered_late_and_gated_requests_are_recorded_unanswered():
    responder = RfqResponder({"C1"})
    assert responder.on_rfq(rfq("R1", "C9"), 0, answer) is None
    assert responder.on_rfq(rfq("R2", "C1", at=0), 16 * S, answer) is None
    refused = responder.on_rfq(rfq("R3", "C1"), 0,
                               lambda c, r: (answer(c, r)[0], Reject(Rule.SPREAD, "spread: x")))
    assert refused is None
    reasons = {k: r.reason for k, r in responder.records.items()}
    assert reasons == {"R1": "contract not covered", "R2": "received after its deadline",
                       "R3": "gate: spread: x"}
    assert responder.response_rate() == 0.0


CONTRACTS = [f"C{i:02d}" for i in range(40)]


def test_forty_contracts_need_thirty_two_covered():
    live = set(CONTRACTS[:33])
    ok = check_withdrawal("510050", CONTRACTS, live, {"C00"}, Phase.CONTINUOUS, PACK,
                          override=False, now_ns=0, phase_ends_ns=None)
    assert ok.allowed and not ok.alert and ok.covered_after == 32
    refused = check_withdrawal("510050", CONTRACTS, live, {"C00", "C01"}, Phase.CONTINUOUS,
                               PACK, override=False, now_ns=0, phase_ends_ns=5400 * S)
    assert not refused.allowed and refused.alert
    assert refused.contracts == ("C00", "C01")
    assert "31 of 40" in refused.message and "32 needed" in refused.message
    assert "remaining 1h30m of the continuous" in refused.message


def test_an_override_goes_through_and_still_alerts():
    done = check_withdrawal("510050", CONTRACTS, set(CONTRACTS[:32]), {"C00"},
                            Phase.CONTINUOUS, PACK, override=True, now_ns=0,
                            phase_ends_ns=None)
    assert done.allowed and done.alert and "done on override" in done.message


def test_the_closing_auction_needs_every_contract():
    check = check_withdrawal("510050", CONTRACTS, set(CONTRACTS), {"C39"},
                             Phase.CLOSING_AUCTION, PACK, override=False, now_ns=0,
                             phase_ends_ns=None)
    assert not check.allowed and check.required == 1.0
    free = check_withdrawal("510050", CONTRACTS, set(CONTRACTS), set(CONTRACTS),
                            Phase.BREAK, PACK, override=False, now_ns=0, phase_ends_ns=None)
    assert free.allowed
