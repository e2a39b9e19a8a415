"""The RFQ responder: every RFQ on a covered contract is answered at once with a gated quote,
and the answer rests at least the minimum time (15 s) unless it is filled or killed.

Pure: the shell passes the RFQ, the time and a `build` function that returns the contract's
quote (already built and gated). The responder decides whether to answer, blocks requoting of a
contract whose answer must still rest, and keeps a record of each request for the meters.
"""

from collections.abc import Callable
from dataclasses import dataclass

from core.events import Quote, Rfq
from quoting.gate import Accept, Decision, Reject

NS = 1_000_000_000

Build = Callable[[str, str], tuple[Quote | None, Decision]]
"""(instrument id, rfq id) -> (the quote answering it, the gate's decision on it)"""


@dataclass(slots=True)
class RfqRecord:
    """One request and what became of it (the input of the RFQ response meter)."""

    rfq_id: str
    instrument_id: str
    requested_ns: int
    deadline_ns: int
    answered_ns: int | None = None
    quote_id: str | None = None
    reason: str = ""
    rest_until_ns: int | None = None
    ended_ns: int | None = None
    end_reason: str = ""

    @property
    def in_time(self) -> bool:
        return self.answered_ns is not None and self.answered_ns <= self.deadline_ns


class RfqResponder:
    def __init__(self, covered: set[str], *, min_rest_s: int = 15) -> None:
        self.covered = covered
        self.min_rest_ns = min_rest_s * NS
        self.records: dict[str, RfqRecord] = {}
        self._resting: dict[str, RfqRecord] = {}  # instrument id -> the answer that rests

    def on_rfq(self, rfq: Rfq, now_ns: int, build: Build) -> Quote | None:
        """The quote to send in answer, or None (not covered, or the gate refused it)."""
        record = RfqRecord(rfq.rfq_id, rfq.instrument_id, rfq.ts_event, rfq.deadline_ns)
        self.records[rfq.rfq_id] = record
        if rfq.instrument_id not in self.covered:
            record.reason = "contract not covered"
            return None
        if now_ns > rfq.deadline_ns:
            record.reason = "received after its deadline"
            return None
        quote, decision = build(rfq.instrument_id, rfq.rfq_id)
        if quote is None:
            record.reason = "no quote: the model has no value for the contract"
            return None
        if isinstance(decision, Reject):
            record.reason = f"gate: {decision.reason}"
            return None
        assert isinstance(decision, Accept)
        record.answered_ns = now_ns
        record.quote_id = quote.quote_id
        record.rest_until_ns = now_ns + self.min_rest_ns
        self._resting[rfq.instrument_id] = record
        return quote

    def blocked(self, instrument_id: str, now_ns: int) -> bool:
        """True while the contract's RFQ answer must rest: no requote, no pull."""
        record = self._resting.get(instrument_id)
        if record is None or record.rest_until_ns is None:
            return False
        if now_ns >= record.rest_until_ns:
            del self._resting[instrument_id]
            return False
        return True

    def ended(self, instrument_id: str, now_ns: int, reason: str) -> None:
        """The answer left the book early: `filled` or `killed` (the only two that may end
        it before its minimum rest), or `cancelled` by the exchange."""
        record = self._resting.pop(instrument_id, None)
        if record is not None:
            record.ended_ns, record.end_reason = now_ns, reason

    def response_rate(self) -> float | None:
        """Answers in time over requests (None before the first request)."""
        if not self.records:
            return None
        return sum(r.in_time for r in self.records.values()) / len(self.records)
