"""The timeline converter's times: ISO 8601 with the venue's offset, to the microsecond, the
same as `datetime.isoformat` gives for any instant (the converter makes a second's text once
and reuses it within the second)."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from quoting.obligations.convert import TimelineConverter
from quoting.obligations.timeline import SECOND_NS

OFFSETS = [timezone(timedelta(hours=8)), UTC, timezone(timedelta(hours=-5, minutes=-30))]


def expected(ts_ns: int, offset: timezone) -> str:
    seconds, nanos = divmod(ts_ns, SECOND_NS)
    moment = datetime.fromtimestamp(seconds, offset).replace(microsecond=nanos // 1000)
    return moment.isoformat(timespec="microseconds")


@given(st.sampled_from(OFFSETS),
       st.lists(st.integers(1_600_000_000 * SECOND_NS, 1_900_000_000 * SECOND_NS),
                min_size=1, max_size=20))
def test_every_instant_reads_as_isoformat_would_write_it(offset, instants):
    converter = TimelineConverter([], offset)
    # within one second, across seconds, and back to an earlier second
    for ts in [*instants, *(t + 1 for t in instants), *(t - SECOND_NS for t in instants)]:
        assert converter._ts(ts) == expected(ts, offset)


def test_a_second_boundary_and_the_last_microsecond():
    converter = TimelineConverter([], OFFSETS[0])
    base = 1_795_395_300 * SECOND_NS
    assert converter._ts(base - 1) == "2026-11-23T08:54:59.999999+08:00"
    assert converter._ts(base) == "2026-11-23T08:55:00.000000+08:00"
    assert converter._ts(base + 999) == "2026-11-23T08:55:00.000000+08:00"
    assert converter._ts(base + 1000) == "2026-11-23T08:55:00.000001+08:00"
