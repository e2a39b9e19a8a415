"""`mmgw journal export`: the journal's quote timeline (TIMELINE.md), what compliance staff
and `mmgw obligations evaluate` read.

The journal holds the day's instruments (kind `instrument`) and every event the exchange sent
(kind `event`, a tagged msgpack Struct); the same converter the live meters use turns them into
timeline lines."""

from datetime import timezone
from pathlib import Path

import msgspec
import sqlalchemy as sa

from core.events import DECODER
from core.instruments import Instrument
from gateway.journal import RECORDS, engine_for
from quoting.obligations.convert import ENCODER, TimelineConverter

INSTRUMENT = "instrument"
EVENT = "event"
_INSTRUMENT = msgspec.msgpack.Decoder(Instrument)


def export_timeline(url: str, out: Path, offset: timezone) -> int:
    """Write the timeline of the journal at `url` to `out`; returns the lines written."""
    engine = engine_for(url)
    with engine.connect() as connection:
        instruments = [_INSTRUMENT.decode(row.payload) for row in connection.execute(
            sa.select(RECORDS.c.payload).where(RECORDS.c.kind == INSTRUMENT)
            .order_by(RECORDS.c.seq))]
        converter = TimelineConverter(instruments, offset)
        count = 0
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as fh:
            for line in converter.header():
                fh.write(ENCODER.encode(line) + b"\n")
                count += 1
            # in the exchange's time: the link's streams (market data, execution reports)
            # arrive interleaved as read, and a backlog on one can trail the other
            rows = connection.execute(sa.select(RECORDS.c.payload).where(
                RECORDS.c.kind == EVENT).order_by(RECORDS.c.ts_ns, RECORDS.c.seq))
            for row in rows:
                for line in converter.convert(DECODER.decode(row.payload)):  # type: ignore[arg-type]
                    fh.write(ENCODER.encode(line) + b"\n")
                    count += 1
    engine.dispose()
    return count
