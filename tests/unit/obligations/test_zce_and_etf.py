"""ZCE futures and options, and SSE funds, by hand."""

import json

import pytest

from adapters.refdata.loader import load_rule_pack
from quoting.obligations import sse_etf, zce
from quoting.obligations.timeline import parse

D = "2026-12-01"


def ts(at):
    return f"{D}T{at}.000+08:00"


def future(cid="SR701"):
    return {"type": "contract", "contract": cid, "product": "SR", "venue": "ZCE",
            "kind": "future", "tick": 1}


def zce_day(body, objects):
    phases = [("08:55:00", "opening_auction"), ("09:00:00", "continuous"),
              ("10:15:00", "closed"), ("10:30:00", "continuous"), ("11:30:00", "closed"),
              ("13:30:00", "continuous"), ("15:00:00", "closed")]
    events = [{"ts": ts(at), "type": "phase", "product": "*", "phase": p} for at, p in phases]
    return [*objects, *sorted(events + body, key=lambda e: e["ts"])]


def run(module, pack, objects):
    return module.evaluate(parse([json.dumps(o).encode() for o in objects]),
                           load_rule_pack(pack))


def quote(at, cid, bid, ask, size=10):
    return {"ts": ts(at), "type": "quote", "contract": cid, "bids": [[bid, size]],
            "asks": [[ask, size]]}


# ZCE day: 09:00-10:15, 10:30-11:30, 13:30-15:00 = 225 minutes of continuous trading


def test_zce_futures_time_ratio_against_the_threshold():
    body = [quote("08:56:00", "SR701", 5400, 5405),  # 5 ticks: the agreement's maximum
            {"ts": ts("13:30:00"), "type": "cancel", "contract": "SR701"},
            quote("13:30:00", "SR702", 5400, 5406)]  # 6 ticks: never valid
    result = run(zce, "zce-futures", zce_day(body, [future("SR701"), future("SR702")]))
    sr = result["products"]["SR"]
    month = sr["contracts"]["SR701"]["months"]["2026-12"]
    assert month["valid_time_ratio"] == pytest.approx(135 / 225, abs=1e-12)
    assert month["meets"] is False  # 60% < 80%
    assert sr["contracts"]["SR702"]["months"]["2026-12"]["valid_time_ratio"] == 0.0
    assert sr["months"]["2026-12"] == {"contracts": 2, "meeting": 0}


def test_zce_exempt_time_is_left_out():
    body = [quote("09:00:00", "SR701", 5400, 5405),
            {"ts": ts("10:00:00"), "type": "exempt", "product": "SR", "state": "start",
             "reason": "main contract at limit"},
            {"ts": ts("10:00:00"), "type": "cancel", "contract": "SR701"},
            {"ts": ts("10:30:00"), "type": "exempt", "product": "SR", "state": "end"},
            quote("10:30:00", "SR701", 5400, 5405)]
    result = run(zce, "zce-futures", zce_day(body, [future()]))
    month = result["products"]["SR"]["contracts"]["SR701"]["months"]["2026-12"]
    assert month["valid_time_ratio"] == 1.0 and month["meets"] is True


def option():
    return {"type": "contract", "contract": "SR701C5400", "product": "SR_O", "venue": "ZCE",
            "kind": "option", "call_put": "call", "strike": 5400, "expiry": "2026-12-15",
            "tick": 0.5, "multiplier": 10}


@pytest.mark.parametrize(("chain", "valid"), [
    ([(3, 100, 105), (20, 101, 106)], 1),   # a replacement, 17 + 10 s in all: valid
    ([(3, 100, 105), (8, 100, 120)], 0),    # the replacement's spread breaks the chain
    ([(16, 100, 105)], 0),                  # answered after 15 s
])
def test_zce_option_responses_follow_the_replacement_chain(chain, valid):
    base = 14 * 3600
    def at(seconds):
        s = base + seconds
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    body = [{"ts": ts(at(0)), "type": "rfq", "rfq_id": "R1", "contract": "SR701C5400"}]
    for after, bid, ask in chain:
        body.append({"ts": ts(at(after)), "type": "rfq_quote", "rfq_id": "R1",
                     "contract": "SR701C5400", "bids": [[bid, 10]], "asks": [[ask, 10]]})
    body.append({"ts": ts(at(30)), "type": "rfq_cancel", "rfq_id": "R1",
                 "reason": "cancelled"})
    result = run(zce, "zce-options", zce_day(body, [option()]))
    product = result["products"]["SR_O"]
    assert product["rfq_months"]["2026-12"] == {"requests": 1, "valid": valid,
                                                 "response_ratio": float(valid)}


def fund():
    return {"type": "contract", "contract": "512880", "product": "512880", "venue": "SSE",
            "kind": "etf", "tick": 0.001}


def sse_day(body, objects):
    phases = [("09:15:00", "opening_auction"), ("09:25:00", "closed"),
              ("09:30:00", "continuous"), ("11:30:00", "closed"), ("13:00:00", "continuous"),
              ("14:57:00", "closing_auction"), ("15:00:00", "closed")]
    events = [{"ts": ts(at), "type": "phase", "product": "*", "phase": p} for at, p in phases]
    return [*objects, *sorted(events + body, key=lambda e: e["ts"])]


def test_a_fund_far_from_its_iopv_is_exempt_and_amounts_average_per_order():
    body = [quote("09:20:00", "512880", 1.000, 1.010, size=20000),   # 1% of 1.000: valid
            {"ts": ts("10:00:00"), "type": "exempt", "contract": "512880", "state": "start",
             "reason": "iopv deviation >= 10%"},
            {"ts": ts("10:00:00"), "type": "cancel", "contract": "512880"},
            {"ts": ts("11:00:00"), "type": "exempt", "contract": "512880", "state": "end"},
            quote("11:00:00", "512880", 1.000, 1.011, size=5000)]    # 1.1%: invalid
    result = run(sse_etf, "sse-etf", sse_day(body, [fund()]))
    f = result["products"]["512880"]
    # continuous time 237 - 60 exempt minutes = 177; valid 30 (09:30-10:00) of it
    assert f["continuous_participation"] == pytest.approx(30 / 177, abs=1e-12)
    assert f["opening_participation"] == 1.0 and f["closing_participation"] == 0.0
    # four quote sides: 20,000 x 1.000, 20,000 x 1.010, 5,000 x 1.000, 5,000 x 1.011
    assert f["average_amount_per_order"] == pytest.approx((20000 + 20200 + 5000 + 5055) / 4)
    assert f["meets"]["amount"] is True and f["meets"]["continuous"] is False
