"""The SSE options evaluation by hand: the worked examples, every indicator at its boundary,
and the grading tables cell by cell."""

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.refdata.loader import load_rule_pack
from quoting.obligations.sse_options import annual_grade, evaluate, grade
from quoting.obligations.timeline import TimelineError, parse

PACK = load_rule_pack("sse-options")
EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "examples"
DAY = "2026-12-01"


def ts(hhmmss: str) -> str:
    return f"{DAY}T{hhmmss}.000+08:00"


def contract(cid, tier="near"):
    return {"type": "contract", "contract": cid, "product": "P", "venue": "SSE",
            "kind": "option", "underlying_kind": "etf", "call_put": "call", "strike": 1.0,
            "expiry": "2026-12-23", "tier": tier, "tick": 0.0001}


def phase(at, name, **kw):
    return {"ts": ts(at), "type": "phase", "product": "*", "phase": name} | kw


def quote(at, cid, bid, ask, size=10):
    return {"ts": ts(at), "type": "quote", "contract": cid, "bids": [[bid, size]],
            "asks": [[ask, size]]}


def day_frame(body, contracts=("C1",)):
    """A day: opening auction 09:15-09:25, continuous 09:30-11:30 and 13:00-14:57, closing
    auction 14:57-15:00; `body` events inserted in time order."""
    frame = [phase("09:15:00", "opening_auction"), phase("09:25:00", "closed"),
             phase("09:30:00", "continuous"), phase("11:30:00", "closed"),
             phase("13:00:00", "continuous"), phase("14:57:00", "closing_auction"),
             phase("15:00:00", "closed")]
    timed = sorted(frame + body, key=lambda e: e["ts"])
    records = [contract(c) if isinstance(c, str) else c for c in contracts]
    return run(records + timed)


def run(objects, **kw):
    lines = [json.dumps(o).encode() for o in objects]
    return evaluate(parse(lines), PACK, **kw)["products"]["P"]


def test_the_worked_example_gives_the_expected_figures():
    got = evaluate(parse((EXAMPLES / "sse-options-small.jsonl").open("rb")), PACK)
    expected = json.loads((EXAMPLES / "sse-options-small.expected.json").read_text())

    def check(a, b, path):
        if isinstance(b, dict):
            for key in b:
                check(a[key], b[key], f"{path}.{key}")
        elif isinstance(b, float):
            assert abs(a - b) <= 1e-9, path
        else:
            assert a == b, path

    check(got, expected, "")


@pytest.mark.parametrize(("ask", "valid", "ratio"), [
    (0.055, 1.0, 1.0),   # 0.0050 = 10% of 0.0500: equal to the limit is valid
    (0.0551, 0.0, 1.02),  # one tick more: invalid all day
])
def test_a_spread_equal_to_the_limit_is_valid(ask, valid, ratio):
    result = day_frame([quote("09:30:00", "C1", 0.05, ask)])
    assert result["days"][DAY]["continuous_participation"] == valid
    assert result["spread_ratio"] == pytest.approx(ratio, abs=1e-12)


def test_participation_exactly_at_the_threshold_counts_for_coverage():
    # 237 minutes of continuous time; C1 valid 189.6 minutes = 80.0% exactly, C2 one second less
    body = [quote("09:30:00", "C1", 0.05, 0.055), quote("09:30:00", "C2", 0.05, 0.055),
            {"ts": ts("14:09:36"), "type": "cancel", "contract": "C1"},
            {"ts": ts("14:09:35"), "type": "cancel", "contract": "C2"}]
    body.sort(key=lambda e: e["ts"])
    result = day_frame(body, contracts=("C1", "C2"))
    assert result["days"][DAY]["coverage"] == 0.5


def test_forty_contracts_with_thirty_two_covered_meet_the_coverage():
    ids = [f"C{i:02d}" for i in range(40)]
    body = [quote("09:30:00", c, 0.05, 0.055) for c in ids[:32]]
    result = day_frame(body, contracts=ids)
    assert result["days"][DAY]["coverage"] == 0.8  # >= 80%: the obligation is met


@pytest.mark.parametrize(("quoted", "counts"), [(20, True), (19, False)])
def test_the_opening_auction_needs_half_the_contracts_in_its_last_five_minutes(quoted, counts):
    ids = [f"C{i:02d}" for i in range(40)]
    body = [quote("09:20:01", c, 0.05, 0.055, size=1) for c in ids[:quoted]]
    assert day_frame(body, contracts=ids)["days"][DAY]["opening_auction"] is counts


def test_a_quote_gone_before_the_last_five_minutes_does_not_count():
    body = [quote("09:16:00", "C1", 0.05, 0.055, size=1),
            {"ts": ts("09:19:59"), "type": "cancel", "contract": "C1"}]
    assert day_frame(body)["days"][DAY]["opening_auction"] is False


@pytest.mark.parametrize(("gone", "counts"), [("14:58:59", False), ("14:59:01", True)])
def test_the_closing_auction_needs_every_contract_in_its_last_minute(gone, counts):
    body = [quote("09:30:00", "C1", 0.05, 0.055), quote("09:30:00", "C2", 0.05, 0.055),
            {"ts": ts(gone), "type": "cancel", "contract": "C2"}]
    result = day_frame(sorted(body, key=lambda e: e["ts"]), contracts=("C1", "C2"))
    assert result["days"][DAY]["closing_auction"] is counts
    if not counts:  # missed by one contract: closing participation 0, so no composite
        assert result["closing_participation"] == 0.0 and result["composite"] == 0.0


def test_limit_time_is_not_continuous_time():
    body = [quote("09:30:00", "C1", 0.05, 0.055),
            {"ts": ts("10:00:00"), "type": "limit", "contract": "C1", "state": "up"},
            {"ts": ts("10:00:00"), "type": "cancel", "contract": "C1"},
            {"ts": ts("10:30:00"), "type": "limit", "contract": "C1", "state": "none"},
            {"ts": ts("10:30:00"), "type": "quote", "contract": "C1",
             "bids": [[0.05, 10]], "asks": [[0.055, 10]]}]
    result = day_frame(sorted(body, key=lambda e: e["ts"]))
    assert result["days"][DAY]["continuous_participation"] == 1.0


def test_a_circuit_breaker_auction_counts_when_quoted_in_its_last_minute():
    body = [quote("09:30:00", "C1", 0.05, 0.055),
            {"ts": ts("10:00:00"), "type": "phase", "contract": "C1",
             "phase": "circuit_breaker_auction"},
            {"ts": ts("10:03:00"), "type": "phase", "contract": "C1", "phase": "continuous"},
            {"ts": ts("11:00:00"), "type": "phase", "contract": "C1",
             "phase": "circuit_breaker_auction"},
            {"ts": ts("11:01:30"), "type": "cancel", "contract": "C1"},
            {"ts": ts("11:03:00"), "type": "phase", "contract": "C1", "phase": "continuous"}]
    result = day_frame(sorted(body, key=lambda e: e["ts"]))
    assert result["circuit_breaker_participation"] == 0.5
    # the two auctions' 3 minutes each are out of the continuous time (237 - 6 minutes);
    # valid 09:30-10:00 and 10:03-11:00
    assert result["days"][DAY]["continuous_participation"] == pytest.approx(87 / 231,
                                                                            abs=1e-12)


@pytest.mark.parametrize(("answer_after", "left_after", "reason", "rate"), [
    (3, 27, "cancelled", 1.0), (16, 30, "cancelled", 0.0),   # answered in 15 s or less
    (3, 14, "cancelled", 0.0), (3, 15, "cancelled", 1.0),    # rests 15 s or more
    (3, 5, "filled", 1.0),                                    # unless filled
])
def test_rfq_answers(answer_after, left_after, reason, rate):
    t0 = 14 * 3600
    def at(seconds):
        s = t0 + seconds
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    body = [{"ts": ts(at(0)), "type": "rfq", "rfq_id": "R1", "contract": "C1"},
            {"ts": ts(at(answer_after)), "type": "rfq_quote", "rfq_id": "R1",
             "contract": "C1", "bids": [[0.05, 10]], "asks": [[0.055, 10]]},
            {"ts": ts(at(answer_after + left_after)), "type": "rfq_cancel", "rfq_id": "R1",
             "reason": reason}]
    assert day_frame(body)["rfq_response_rate"] == rate


def test_no_rfq_gives_no_rate():
    assert day_frame([])["rfq_response_rate"] is None


@pytest.mark.parametrize(("spread", "participation", "expected"), [
    (0.6, 0.8, "A"), (0.6, 0.7999, "B"), (0.6, 0.7, "B"), (0.6, 0.6999, "D"),
    (0.6001, 0.8, "B"), (1.0, 0.8, "B"), (1.0, 0.7, "C"), (1.0, 0.6999, "D"),
    (1.0001, 0.9, "D"), (math.nan, 0.9, "D"), (0.1, 0.75, "B"),
])
def test_the_grading_table_cell_by_cell(spread, participation, expected):
    assert grade(spread, participation, PACK) == expected


@pytest.mark.parametrize(("volume", "expected"), [(125, "AA"), (124, "A"), (50, "A"),
                                                  (49, "B")])
def test_volume_moves_the_grade(volume, expected):
    assert grade(0.5, 0.9, PACK, volume=volume, peer_volume=Decimal(100)) == expected


def test_d_is_neither_raised_nor_lowered_by_volume_and_letters_lower_it():
    assert grade(2.0, 0.9, PACK, volume=500, peer_volume=Decimal(100)) == "D"
    assert grade(0.5, 0.9, PACK, letters=1) == "B"
    assert grade(0.5, 0.9, PACK, letters=2) == "D"


@pytest.mark.parametrize(("months", "expected"), [
    (["AA", "AA", "A"], "AA"),  # mean 3.67
    (["AA", "A"], "AA"),        # mean 3.5: the edge of AA
    (["A", "B"], "A"),          # 2.5
    (["B", "C"], "B"),          # 1.5
    (["C", "D"], "C"),          # 0.5
    (["D", "D"], "D"),
    (["AA", "AA", "D", "AA", "AA", "AA", "AA"], "A"),  # a D caps the year at A
])
def test_the_annual_fold(months, expected):
    assert annual_grade(months) == expected


def test_general_makers_and_letters_in_the_annual_fold():
    assert annual_grade(["A", "A", "D"], primary=False) == "B"
    assert annual_grade(["AA", "AA"], letters=3) == "D"


@pytest.mark.parametrize(("line", "field", "problem"), [
    ('{"ts": "2026-12-01T09:30:00.000+08:00", "type": "quote", "bids": [], "asks": []}',
     "contract", "missing required field"),
    ('{"ts": "2026-12-01T09:30:00.000+08:00", "type": "quote", "contract": "C1", '
     '"bids": [[0.05, -1]], "asks": []}', "bids[0][1]", ">= 0"),
    ('{"ts": "2026-12-01T09:30:00.000+08:00", "type": "quote", "contract": "C9", '
     '"bids": [], "asks": []}', "contract", "'C9' has no contract record"),
    ('{"ts": "2026-12-01T09:00:00.000+08:00", "type": "cancel", "contract": "C1"}', "ts",
     "earlier than the line before"),
    ('{"ts": "yesterday", "type": "cancel", "contract": "C1"}', "ts", "datetime"),
    ('{"type": "nonsense"}', "type", "Invalid value 'nonsense'"),
])
def test_a_malformed_line_is_named_with_its_field(line, field, problem):
    lines = [json.dumps(contract("C1")).encode(),
             json.dumps(phase("09:15:00", "opening_auction")).encode(), line.encode()]
    with pytest.raises(TimelineError) as info:
        parse(lines)
    assert info.value.line == 3 and info.value.field == field
    assert problem in info.value.problem
