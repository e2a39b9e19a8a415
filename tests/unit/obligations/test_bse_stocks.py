"""The BSE stocks evaluation by hand: the worked example, the valid quote state, top-up time
at its cap, the 09:20 / 14:58 snapshots and the deductions."""

import json
from pathlib import Path

import pytest

from adapters.refdata.loader import load_rule_pack
from quoting.obligations.bse_stocks import evaluate
from quoting.obligations.timeline import parse

PACK = load_rule_pack("bse-stocks")
EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "examples"


def ts(day, hhmmss):
    return f"{day}T{hhmmss}.000+08:00"


def stock():
    return {"type": "contract", "contract": "S", "product": "S", "venue": "BSE",
            "kind": "stock", "tick": 0.01}


def frame(day, body):
    phases = [("09:15:00", "opening_auction"), ("09:25:00", "closed"),
              ("09:30:00", "continuous"), ("11:30:00", "closed"), ("13:00:00", "continuous"),
              ("14:57:00", "closing_auction"), ("15:00:00", "closed")]
    events = [{"ts": ts(day, at), "type": "phase", "product": "*", "phase": p}
              for at, p in phases]
    return sorted(events + body, key=lambda e: e["ts"])


def quote(day, at, bids, asks):
    return {"ts": ts(day, at), "type": "quote", "contract": "S", "bids": bids, "asks": asks}


def run(objects):
    return evaluate(parse([json.dumps(o).encode() for o in objects]), PACK)["products"]["S"]


GOOD = ([[20.0, 1000]], [[20.3, 1000]])  # 0.30 <= 2% of 20.30 = 0.406


def test_the_worked_example_gives_the_expected_figures():
    got = evaluate(parse((EXAMPLES / "bse-stocks-small.jsonl").open("rb")), PACK)
    expected = json.loads((EXAMPLES / "bse-stocks-small.expected.json").read_text())
    product = expected["products"]["920001"]
    ours = got["products"]["920001"]
    assert ours["deductions"] == product["deductions"]
    assert ours["months"]["2026-12"]["deductions"] == product["months"]["2026-12"]["deductions"]
    day = ours["days"]["2026-12-01"]
    assert day["opening"] is True and day["closing"] is False
    assert abs(day["continuous_participation"] - 229 / 237) <= 1e-9


@pytest.mark.parametrize(("bids", "asks", "valid"), [
    ([[20.0, 1000]], [[20.4, 1000]], True),     # 0.40 <= 0.408
    ([[20.0, 1000]], [[20.41, 1000]], False),   # 0.41 > 2% of 20.41 = 0.4082
    ([[20.0, 600], [19.99, 400]], [[20.3, 1000]], True),   # 1,000 reached on level two
    ([[20.0, 600], [19.99, 300]], [[20.3, 1000]], False),  # never reaches 1,000
    ([[0.50, 1000]], [[0.52, 1000]], True),     # two ticks beat 2% of 0.52
    ([[0.50, 1000]], [[0.53, 1000]], False),
])
def test_the_valid_quote_state(bids, asks, valid):
    result = run([stock(), *frame("2026-12-01", [quote("2026-12-01", "09:30:00", bids, asks)])])
    assert result["days"]["2026-12-01"]["continuous_participation"] == (1.0 if valid else 0.0)


@pytest.mark.parametrize(("back", "credited_s"), [("10:02:00", 120), ("10:03:00", 120),
                                                   ("10:01:00", 60)])
def test_top_up_after_a_fill_is_capped_at_two_minutes(back, credited_s):
    d = "2026-12-01"
    body = [quote(d, "09:30:00", *GOOD),
            {"ts": ts(d, "10:00:00"), "type": "fill", "contract": "S", "side": "sell",
             "price": 20.3, "size": 1000},
            quote(d, "10:00:00", GOOD[0], []),
            quote(d, back, *GOOD)]
    result = run([stock(), *frame(d, body)])
    out_s = {"10:01:00": 60, "10:02:00": 120, "10:03:00": 180}[back]
    share = (237 * 60 - out_s + credited_s) / (237 * 60)
    assert result["days"][d]["continuous_participation"] == pytest.approx(share, abs=1e-12)


def test_an_exit_not_caused_by_a_fill_earns_no_top_up():
    d = "2026-12-01"
    body = [quote(d, "09:30:00", *GOOD), quote(d, "10:00:00", GOOD[0], []),
            quote(d, "10:01:00", *GOOD)]
    result = run([stock(), *frame(d, body)])
    assert result["days"][d]["continuous_participation"] == pytest.approx(
        (237 - 1) / 237, abs=1e-12)


def test_the_snapshots_take_every_event_stamped_at_or_before_their_instant():
    d = "2026-12-01"
    body = [quote(d, "09:20:00", *GOOD),                 # at 09:20:00 itself: counts
            {"ts": ts(d, "14:58:00"), "type": "cancel", "contract": "S"}]
    result = run([stock(), *frame(d, body)])
    assert result["days"][d]["opening"] is True
    assert result["days"][d]["closing"] is False         # cancelled at 14:58:00


def test_deductions_by_month_and_by_day():
    # two trading days: opening shown on one (50%: no deduction), closing on none (70% short:
    # 14 x 2 = 28); continuous 230/237 = 97% on the first day (none), 206/237 = 86.9% on the
    # second (3.1% short: a part of 5% counts whole: 1 point)
    events = [stock()]
    d1, d2 = "2026-12-01", "2026-12-02"
    events += frame(d1, [quote(d1, "09:20:00", *GOOD),
                         {"ts": ts(d1, "14:50:00"), "type": "cancel", "contract": "S"}])
    events += frame(d2, [quote(d2, "09:30:00", *GOOD),
                         {"ts": ts(d2, "14:26:00"), "type": "cancel", "contract": "S"}])
    result = run(events)
    month = result["months"]["2026-12"]
    assert month["opening_participation"] == 0.5 and month["closing_participation"] == 0.0
    assert month["deductions"] == {"opening": 0, "closing": 28, "continuous": 1}
    assert result["deductions"] == 29


def test_a_day_halted_throughout_is_not_a_tradable_day():
    d1, d2 = "2026-12-01", "2026-12-02"
    events = [stock(), *frame(d1, [quote(d1, "09:20:00", *GOOD)])]
    events += [{"ts": ts(d2, "09:15:00"), "type": "phase", "product": "*", "phase": "halted"},
               {"ts": ts(d2, "15:00:00"), "type": "phase", "product": "*", "phase": "closed"}]
    result = run(events)
    assert list(result["days"]) == [d1]
    assert result["months"]["2026-12"]["tradable_days"] == 1


def test_the_quarterly_score_by_hand():
    from quoting.obligations.bse_stocks import Peer, Peers  # noqa: PLC0415

    d = "2026-12-01"
    body = [quote(d, "09:20:00", *GOOD),
            {"ts": ts(d, "10:00:00"), "type": "fill", "contract": "S", "side": "sell",
             "price": 20.3, "size": 1000},
            {"ts": ts(d, "10:01:00"), "type": "fill", "contract": "S", "side": "buy",
             "price": 20.0, "size": 500},
            {"ts": ts(d, "14:50:00"), "type": "cancel", "contract": "S"}]
    timeline = parse([json.dumps(o).encode() for o in [stock(), *frame(d, body)]])
    peers = Peers(market_makers={"S": 5},
                  peers=[Peer(name="X", stocks_first=4, stocks_last=4, turnover=1000.0)])
    result = evaluate(timeline, PACK, peers)
    q = result["score"]["quarters"]["2026-Q4"]
    # turnover: min(bought 10,000, sold 20,300) / 5 makers = 2,000, the largest: 50 points;
    # stock count 1 against 4: 12.5 points; deductions: closing 0% of 70%: 28
    assert q["turnover"] == 2000.0 and q["turnover_score"] == 50.0
    assert q["stock_count_score"] == 12.5 and q["deductions"] == 28
    assert q["score"] == 34.5 and result["score"]["annual_score"] == 34.5
    sanctioned = evaluate(timeline, PACK, Peers(market_makers={"S": 5}, peers=[],
                                                minor_measures=1, sanction=True))
    assert sanctioned["score"]["quarters"]["2026-Q4"]["score"] == 0.0
    measured = evaluate(timeline, PACK, Peers(market_makers={"S": 5}, peers=[],
                                              minor_measures=1))
    assert measured["score"]["quarters"]["2026-Q4"]["score"] == 50 + 50 - 28 - 10
