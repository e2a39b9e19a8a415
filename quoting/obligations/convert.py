"""From what the exchange told the gateway to the quote timeline (TIMELINE.md): one converter
for the journal's export and for the live meters, so both see the same timeline.

The quote the market maker shows is what the exchange accepted: a QuoteStatus `accepted` makes
it rest (a `quote` line, and an `rfq_quote` line when it answers an RFQ); a fill on it is a
`fill` line and the rest of the quote after it; a cancel (not a replacement, which the next
`accepted` covers) is a `cancel` line, and ends an RFQ answer (`rfq_cancel`). Phases, price
limits, halts and RFQs pass through. Prices become decimals in yuan.
"""

from datetime import datetime, timezone
from typing import Any

import msgspec

from core.enums import CancelReason, ExecType, QuoteStatusCode, Side
from core.events import (
    Event,
    ExecutionReport,
    Halt,
    LimitStateChange,
    PhaseChange,
    QuoteStatus,
    Rfq,
)
from core.instruments import Instrument
from quoting.obligations.timeline import SECOND_NS, AnyEvent, TimedEvent

Line = dict[str, Any]
_TO_EVENT = msgspec.json.Decoder(AnyEvent)
ENCODER = msgspec.json.Encoder(decimal_format="number")


def contract_line(inst: Instrument) -> Line:
    line: Line = {"type": "contract", "contract": inst.instrument_id, "product": inst.product,
                  "venue": inst.venue.value, "kind": inst.kind.value, "tick": inst.tick,
                  "multiplier": inst.multiplier}
    if inst.is_option:
        line |= {"underlying_kind": "etf" if inst.underlying_kind is None
                 else inst.underlying_kind.value, "call_put": inst.call_put,
                 "strike": inst.strike, "expiry": inst.expiry, "tier": inst.tier}
    return line


class TimelineConverter:
    def __init__(self, instruments: list[Instrument], offset: timezone) -> None:
        self.instruments = {i.instrument_id: i for i in instruments}
        self.offset = offset
        self._quote: dict[str, list] = {}  # contract -> [bid px, bid qty, ask px, ask qty]
        self._answers: dict[str, str] = {}  # quote id -> the rfq it answers
        self._second = -1  # the second whose text `_second_text` holds
        self._second_text = ("", "")

    def header(self) -> list[Line]:
        return [contract_line(i) for i in self.instruments.values()]

    def _ts(self, ts_ns: int) -> str:
        """ISO 8601 with the offset, to the microsecond (what a datetime can carry); the
        second's text is made once a second."""
        seconds, nanos = divmod(ts_ns, SECOND_NS)
        if seconds != self._second:
            text = datetime.fromtimestamp(seconds, self.offset).isoformat()
            self._second, self._second_text = seconds, (text[:19], text[19:])
        date_time, offset = self._second_text
        return f"{date_time}.{nanos // 1000:06d}{offset}"

    def _levels(self, inst: Instrument, px: int | None, qty: int) -> list:
        return [[inst.price(px), qty]] if px is not None and qty > 0 else []

    def _quote_line(self, inst: Instrument, ts: str) -> Line:
        bid_px, bid_qty, ask_px, ask_qty = self._quote[inst.instrument_id]
        return {"ts": ts, "type": "quote", "contract": inst.instrument_id,
                "bids": self._levels(inst, bid_px, bid_qty),
                "asks": self._levels(inst, ask_px, ask_qty)}

    def convert(self, event: Event) -> list[Line]:
        """The timeline lines an event from the exchange makes (often none)."""
        match event:
            case PhaseChange():
                phase = "closed" if event.phase.value == "break" else event.phase.value
                line: Line = {"ts": self._ts(event.ts_event), "type": "phase", "phase": phase}
                if event.instrument_id:
                    line["contract"] = event.instrument_id
                else:
                    line["product"] = event.product or "*"
                return [line]
            case LimitStateChange():
                return [{"ts": self._ts(event.ts_event), "type": "limit",
                         "contract": event.instrument_id, "state": event.state.value}]
            case Halt():
                return [{"ts": self._ts(event.ts_event), "type": "phase",
                         "contract": event.instrument_id,
                         "phase": "halted" if event.halted else "continuous"}]
            case Rfq():
                return [{"ts": self._ts(event.ts_event), "type": "rfq",
                         "rfq_id": event.rfq_id, "contract": event.instrument_id}]
            case QuoteStatus():
                return self._status(event)
            case ExecutionReport():
                return self._fill(event)
        return []

    def _status(self, event: QuoteStatus) -> list[Line]:
        inst = self.instruments.get(event.instrument_id)
        if inst is None:
            return []
        ts = self._ts(event.ts_event)
        if event.status is QuoteStatusCode.ACCEPTED:
            self._quote[inst.instrument_id] = [event.bid_px_ticks, event.bid_qty,
                                               event.ask_px_ticks, event.ask_qty]
            lines = [self._quote_line(inst, ts)]
            if event.rfq_id is not None:
                self._answers[event.quote_id] = event.rfq_id
                lines.append({**lines[0], "type": "rfq_quote", "rfq_id": event.rfq_id})
            return lines
        if event.status is QuoteStatusCode.REJECTED:
            return []
        rfq = self._answers.pop(event.quote_id, None)
        lines = []
        if event.cancel_reason is not CancelReason.REPLACED:
            self._quote.pop(inst.instrument_id, None)
            if event.status is QuoteStatusCode.CANCELLED:
                lines.append({"ts": ts, "type": "cancel", "contract": inst.instrument_id})
        if rfq is not None:
            reason = "filled" if event.status is QuoteStatusCode.FILLED else "cancelled"
            lines.append({"ts": ts, "type": "rfq_cancel", "rfq_id": rfq, "reason": reason})
        return lines

    def _fill(self, event: ExecutionReport) -> list[Line]:
        inst = self.instruments.get(event.instrument_id)
        if inst is None or event.exec_type is not ExecType.TRADE or not event.is_quote:
            return []
        ts = self._ts(event.ts_event)
        lines = [{"ts": ts, "type": "fill", "contract": inst.instrument_id,
                  "side": event.side.value, "price": inst.price(event.last_px_ticks),
                  "size": event.last_qty}]
        quote = self._quote.get(inst.instrument_id)
        if quote is not None:
            slot = 1 if event.side is Side.BUY else 3
            quote[slot] = max(quote[slot] - event.last_qty, 0)
            lines.append(self._quote_line(inst, ts))
        return lines


def to_events(lines: list[Line]) -> list[TimedEvent]:
    """Timeline lines as the evaluation engine's events (for the live meters)."""
    return [_TO_EVENT.decode(ENCODER.encode(line)) for line in lines]  # type: ignore[misc]
