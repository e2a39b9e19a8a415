"""The STEP codec: round trips, and every corruption caught."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stepfile.codec import StepError, decode, encode
from adapters.stepfile.messages import format_ns, from_step, parse_ns, to_step
from core.events import Reject
from tests.stepfile_strategies import TICKS, messages


def wire(message) -> bytes:
    kind, body = to_step(message, TICKS)
    return encode(kind, body, sender="MM01", target="SSE", seq=7,
                  sending_time=format_ns(message.ts_event))


@settings(max_examples=400, deadline=None)
@given(messages)
def test_every_message_encodes_and_decodes_to_itself(message):
    decoded = decode(wire(message))
    assert (decoded.sender, decoded.target, decoded.seq) == ("MM01", "SSE", 7)
    assert from_step(decoded, TICKS, message.ts_init) == message


@settings(max_examples=400, deadline=None)
@given(messages, st.data())
def test_any_single_changed_byte_is_caught(message, data):
    raw = bytearray(wire(message))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    new = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != raw[index]))
    raw[index] = new
    with pytest.raises(StepError):
        from_step(decode(bytes(raw)), TICKS, 0)


def test_known_message_layout_and_checksum():
    data = encode("0", [], sender="A", target="B", seq=1, sending_time="20261123-01:30:00")
    assert data == (b"8=FIXT.1.1\x019=48\x0135=0\x011128=9\x0149=A\x0156=B\x0134=1\x01"
                    b"52=20261123-01:30:00\x0110=" + f"{sum(data[:-7]) % 256:03d}".encode()
                    + b"\x01")
    assert data.endswith(b"10=" + f"{sum(data[:-7]) % 256:03d}".encode() + b"\x01")


def test_gbk_text_survives_and_is_gbk_on_the_wire():
    reject = Reject(ts_event=1_795_000_000 * 10**9, ts_init=0, ref_id="q1",
                    reason="价格超出涨跌停")
    data = wire(reject)
    assert "价格超出涨跌停".encode("gbk") in data
    assert from_step(decode(data), TICKS, 0) == reject


@pytest.mark.parametrize(("mutate", "tag"), [
    (lambda d: d.replace(b"8=FIXT.1.1", b"8=FIXT.1.2"), 10),
    (lambda d: d.replace(b"\x0110=", b"\x0111="), 10),
    (lambda d: d[:-1], 10),
])
def test_broken_messages_name_the_tag(mutate, tag):
    data = encode("0", [], sender="A", target="B", seq=1, sending_time="20261123-01:30:00")
    with pytest.raises(StepError) as info:
        decode(mutate(data))
    assert info.value.tag == tag


def _reframed(fields: list[bytes]) -> bytes:
    """A message with a valid BodyLength and CheckSum around arbitrary header fields."""
    payload = b"\x01".join(fields[1:]) + b"\x01"
    head = fields[0] + b"\x01" + f"9={len(payload)}".encode() + b"\x01"
    whole = head + payload
    return whole + f"10={sum(whole) % 256:03d}".encode() + b"\x01"


def test_header_order_and_required_fields_are_checked_even_with_a_good_checksum():
    good = [b"8=FIXT.1.1", b"35=0", b"49=A", b"56=B", b"34=1", b"52=20261123-01:30:00"]
    decode(_reframed(good))
    with pytest.raises(StepError, match="tag 49"):
        decode(_reframed([f for f in good if not f.startswith(b"49=")]))
    with pytest.raises(StepError, match="tag 35"):
        decode(_reframed([good[0], good[2], good[1], *good[3:]]))
    with pytest.raises(StepError, match="tag without a value"):
        decode(_reframed([*good, b"58="]))
    with pytest.raises(StepError, match="malformed"):
        decode(_reframed([*good, b"abc"]))


def test_a_price_off_the_tick_grid_is_refused_naming_the_tag():
    data = encode("D", [(11, "c1"), (48, "830799"), (1, "A"), (54, "1"), (40, "2"),
                        (44, "25.001"), (38, "100"), (60, "20261123-01:30:00.000000000")],
                  sender="A", target="B", seq=1, sending_time="20261123-01:30:00")
    with pytest.raises(StepError) as info:
        from_step(decode(data), TICKS, 0)
    assert info.value.tag == 44 and "25.001" in str(info.value)


def test_times_keep_nanoseconds():
    assert parse_ns(format_ns(1_795_000_000_123_456_789)) == 1_795_000_000_123_456_789
    with pytest.raises(StepError):
        parse_ns("2026-11-23T01:30:00")
