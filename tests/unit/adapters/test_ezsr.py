"""The EzSR snapshot file: round trips, conflation to changes, and clear errors."""

from datetime import date
from decimal import Decimal

import pytest

from adapters.ezsr.snapshot import EzsrError, SnapshotReader, SnapshotWriter
from core.enums import LimitState, Phase
from core.events import MarketData
from core.listing import Listing
from tests.simkit import T0, option, stock

LISTING = Listing(date(2026, 11, 23), (option("10009001"), stock("830799")))
TICKS = {i.instrument_id: i.tick for i in LISTING.instruments}


def md(iid, seq, **kw):
    base = dict(ts_event=T0, ts_init=0, instrument_id=iid, seq=seq, phase=Phase.CONTINUOUS)
    return MarketData(**(base | kw))


def test_a_snapshot_reads_back_as_the_market_data_written(tmp_path):
    path = tmp_path / "mktdt.txt"
    writer = SnapshotWriter(path, LISTING)
    first = [md("10009001", 1, last_px_ticks=512, volume=30, bids=((510, 10), (509, 5)),
                asks=((515, 10),), limit_state=LimitState.NONE),
             md("830799", 1, phase=Phase.OPENING_AUCTION, indicative_px_ticks=2501,
                indicative_qty=300, bids=tuple((2500 - i, 100 * i + 100) for i in range(5)),
                asks=tuple((2502 + i, 100) for i in range(5)))]
    for item in first:
        writer.update(item)
    writer.write(T0)
    reader = SnapshotReader(path, TICKS)
    assert reader.poll() == first  # the writer's first snapshot is number 1
    assert reader.poll() == []  # nothing new


def test_only_what_changed_comes_out_of_the_next_snapshot(tmp_path):
    path = tmp_path / "mktdt.txt"
    writer = SnapshotWriter(path, LISTING)
    writer.update(md("10009001", 1, bids=((510, 10),)))
    writer.update(md("830799", 1, bids=((2500, 100),)))
    writer.write(T0)
    reader = SnapshotReader(path, TICKS)
    reader.poll()
    writer.update(md("830799", 2, bids=((2500, 300),), iopv_ticks=None))
    writer.update(md("10009001", 2, bids=((510, 10),)))  # same content
    writer.write(T0 + 1)
    changed = reader.poll()
    assert [(m.instrument_id, m.bids, m.seq) for m in changed] == [("830799", ((2500, 300),), 2)]


def test_a_truncated_snapshot_is_refused(tmp_path):
    path = tmp_path / "mktdt.txt"
    writer = SnapshotWriter(path, LISTING)
    writer.update(md("10009001", 1))
    writer.update(md("830799", 1))
    writer.write(T0)
    text = path.read_text(encoding="ascii")
    path.write_text("\n".join(text.splitlines()[:2]) + "\n", encoding="ascii")
    with pytest.raises(EzsrError, match="the header says 2"):
        SnapshotReader(path, TICKS).poll()


def test_a_bad_field_names_the_line_and_the_field(tmp_path):
    path = tmp_path / "mktdt.txt"
    writer = SnapshotWriter(path, LISTING)
    writer.update(md("10009001", 1, bids=((510, 10),)))
    writer.write(T0)
    text = path.read_text(encoding="ascii").replace("|0.0510|", "|0.05105|")
    path.write_text(text, encoding="ascii")
    with pytest.raises(EzsrError) as info:
        SnapshotReader(path, TICKS).poll()
    assert ":2:" in str(info.value) and "bid1_px" in str(info.value)
    assert "0.05105" in str(info.value)


def test_unknown_security_is_named(tmp_path):
    path = tmp_path / "mktdt.txt"
    writer = SnapshotWriter(path, LISTING)
    writer.update(md("830799", 1))
    writer.write(T0)
    with pytest.raises(EzsrError, match="code = '830799': unknown security"):
        SnapshotReader(path, {"10009001": Decimal("0.0001")}).poll()
