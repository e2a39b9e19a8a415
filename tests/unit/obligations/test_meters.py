"""Live meters: fed event by event, they show at the close what the evaluation computes."""

from datetime import datetime
from pathlib import Path

import pytest

from adapters.refdata.loader import load_rule_pack
from quoting.obligations.meters import LiveMeters
from quoting.obligations.sse_options import evaluate
from quoting.obligations.timeline import parse

PACK = load_rule_pack("sse-options")
EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "examples" / "sse-options-small.jsonl"


def ns(text):
    return int(datetime.fromisoformat(text).timestamp()) * 1_000_000_000


@pytest.fixture
def timeline():
    return parse(EXAMPLE.open("rb"))


def fed_until(timeline, stop_ns):
    meters = LiveMeters(list(timeline.contracts.values()), PACK, timeline.offset)
    for event, now in zip(timeline.events, timeline.times, strict=True):
        if now > stop_ns:
            break
        meters.feed(event, now)
    return meters


def test_at_the_close_the_meters_show_what_the_evaluation_computes(timeline):
    close = timeline.times[-1]
    product = fed_until(timeline, close).read(close, 0)[0]
    evaluated = evaluate(timeline, PACK)["products"]["588000"]
    assert product.participation == pytest.approx(
        evaluated["days"]["2026-12-01"]["continuous_participation"], abs=1e-12)
    assert product.rfq_response_rate == evaluated["rfq_response_rate"]


def test_mid_morning_readings_and_projections(timeline):
    # 10:45: continuous since 09:30 (75 minutes); the far contract was invalid 10:30-10:45
    now = ns("2026-12-01T10:45:00+08:00")
    remaining = (11 * 60 + 30 - (10 * 60 + 45)) * 60 + 117 * 60  # 45 + 117 minutes
    product = fed_until(timeline, now).read(now, remaining)[0]
    near, far = product.contracts
    assert near.participation == 1.0 and near.valid_now
    assert far.participation == pytest.approx(60 / 75) and not far.valid_now
    assert far.if_stopped == pytest.approx(60 / 237)
    assert far.if_resumed == pytest.approx((60 + 162) / 237)
    # slack: valid + remaining - 80% x 237 minutes = 222 - 189.6 = 32.4 minutes
    assert far.slack_s == pytest.approx(32.4 * 60)
    assert product.coverage_now == 0.5
    assert any("live coverage 50.0%" in alert for alert in product.alerts)


def test_an_alert_when_a_contract_is_about_to_miss(timeline):
    now = ns("2026-12-01T10:45:00+08:00")
    meters = fed_until(timeline, now)
    meters.warn_s = 40 * 60  # warn with 40 minutes of slack left
    product = meters.read(now, (45 + 117) * 60)[0]
    assert any(a.startswith("90000002: no valid quote; the day's participation falls under "
                            "80% after 32.4 more minutes") for a in product.alerts)
