"""A whole simulated day is a function of its seed (or of its recorded flow)."""

from datetime import date

import pytest

from adapters.sim.day import prepare_day, run_day
from adapters.sim.flow import ReplayError
from core.enums import Phase

DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def day7(config, calendar, tmp_path_factory):
    record = tmp_path_factory.mktemp("flow") / "seed7.jsonl"
    return run_day(config, calendar, DAY, 7, record=record), record


def test_same_seed_same_digest_other_seed_other_digest(config, calendar, day7):
    summary, _ = day7
    again = run_day(config, calendar, DAY, 7)
    other = run_day(config, calendar, DAY, 8)
    assert again["digest"] == summary["digest"]
    assert other["digest"] != summary["digest"]


def test_the_day_trades_in_every_product_and_auctions_uncross(day7):
    summary, _ = day7
    assert summary["instruments"] == 191
    assert all(volume > 0 for volume in summary["volume_by_product"].values())
    assert summary["auctions_traded"] > 0
    assert summary["rfqs"]["requests"] > 0
    assert summary["rejects"] == {}


def test_replaying_the_recorded_flow_gives_the_same_log(config, calendar, day7):
    summary, record = day7
    replayed = run_day(config, calendar, DAY, 7, replay=record)
    assert replayed["digest"] == summary["digest"]
    assert replayed["trades"] == summary["trades"]


def test_a_corrupt_recording_names_the_line(config, calendar, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"ts": 1, "session": "TAKE"}\n{"ts": "x"}\n', encoding="utf-8")
    with pytest.raises(ReplayError, match=r"bad\.jsonl:2"):
        run_day(config, calendar, DAY, 7, replay=bad)


def test_no_book_stays_crossed_and_everything_expires_at_the_close(config, calendar):
    sim_day = prepare_day(config, calendar, DAY, 3)
    crossed = []

    def check(product, phase):
        if phase is Phase.CONTINUOUS:
            crossed.extend(c.inst.instrument_id for c in sim_day.exchange.contracts.values()
                           if c.phase is Phase.CONTINUOUS and c.book.is_crossed())

    sim_day.on_phase.append(check)
    sim_day.run()
    assert crossed == []
    assert sim_day.exchange.live_quotes() == [] and sim_day.exchange.live_orders() == []
    assert {p.phase for p in sim_day.exchange.products.values()} == {Phase.CLOSED}


def test_the_stretches_with_every_market_closed_are_the_night_and_the_lunch(config, calendar):
    """ZCE's night session (20:55-23:00 the evening before) opens the trading day; from its end
    to a minute before the next session, and over the lunch break, nothing trades anywhere."""
    from datetime import datetime, timedelta, timezone  # noqa: PLC0415

    from adapters.sim.day import idle_stretches  # noqa: PLC0415

    sim_day = prepare_day(config, calendar, DAY, 7)
    tz = timezone(timedelta(hours=8))

    def local(ns):
        return datetime.fromtimestamp(ns / 1e9, tz).strftime("%m-%d %H:%M")

    stretches = idle_stretches(sim_day.timeline, sim_day.start_ns)
    assert [(local(a), local(b)) for a, b in stretches] == [
        ("11-20 23:00", "11-23 08:59"), ("11-23 11:30", "11-23 12:59")]
    # from 14:00 (the short demo) there is none; from inside one, it starts there
    assert idle_stretches(sim_day.timeline, stretches[1][1] + 3600 * 10**9) == ()
    inside = stretches[0][0] + 3600 * 10**9
    assert idle_stretches(sim_day.timeline, inside)[0] == (inside, stretches[0][1])
    # every stretch really has every product closed or in a break
    for start, end in stretches:
        changes = [p for ts, _, p in sim_day.timeline if start <= ts <= end]
        assert changes == [Phase.BREAK, Phase.BREAK] or all(
            p in (Phase.CLOSED, Phase.BREAK) for p in changes)
