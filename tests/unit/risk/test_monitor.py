"""The department monitor: Greeks, P&L, margin, expiry, exercise, orders and BSE indicators
from events, each against its level, each alert once while it lasts."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core.enums import (
    CancelReason,
    ExecType,
    OrderStatus,
    QuoteStatusCode,
    Side,
)
from core.events import ExecutionReport, MarketData, Quote, QuoteStatus
from quoting.models.black import bsm
from risk.checks import margin_per_lot
from risk.limits import BseLimits, CashLimits, Department, GreekLimits
from risk.monitor import DepartmentMonitor
from tests.unit.risk.kit import INSTRUMENTS, config

CST = timezone(timedelta(hours=8))
S = 1_000_000_000


def at(day: date, hh: int, mm: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=CST).timestamp()) * S


EXPIRY = date(2026, 12, 23)
FAR = date(2026, 11, 23)  # a month before the expiry
NEAR = date(2026, 12, 22)  # the day before


P1 = INSTRUMENTS[3]  # the 3.0 put of kit's 50ETF chain, expiring on EXPIRY


def monitor(**department) -> DepartmentMonitor:
    return DepartmentMonitor(config(department=Department(**department)), INSTRUMENTS, CST)


_exec_ids = iter(range(1, 10**9))


def fill(iid: str, side: Side, qty: int, px: int, ts: int) -> ExecutionReport:
    return ExecutionReport(ts_event=ts, ts_init=ts, exec_id=f"E{next(_exec_ids)}", order_id="X",
                           client_id="Q", instrument_id=iid, account="MM01", side=side,
                           exec_type=ExecType.TRADE, status=OrderStatus.FILLED, px_ticks=px,
                           qty=qty, last_px_ticks=px, last_qty=qty, is_quote=True)


def book(iid: str, bid: int, ask: int, ts: int, last: int | None = None,
         volume: int = 0) -> MarketData:
    return MarketData(ts_event=ts, ts_init=ts, instrument_id=iid, seq=1,
                      phase="continuous", bids=((bid, 100),), asks=((ask, 100),),
                      last_px_ticks=last, volume=volume)


def quote(iid: str, bid: int | None, ask: int | None, ts: int, qty: int = 10) -> Quote:
    return Quote(ts_event=ts, ts_init=ts, quote_id="Q", instrument_id=iid, account="MM01",
                 bid_px_ticks=bid, bid_qty=qty if bid else 0, ask_px_ticks=ask,
                 ask_qty=qty if ask else 0)


def test_greeks_per_contract_underlying_and_total_follow_the_model():
    m = monitor()
    now = at(FAR, 10)
    m.on_event(book("510050", 3099, 3101, now))
    m.on_event(book("C1", 990, 1010, now))
    m.on_event(fill("C1", Side.BUY, 10, 1000, now))
    m.on_event(fill("510050", Side.SELL, 20_000, 3100, now))
    reading, _, _ = m.evaluate(now)
    c1 = reading["greeks"]["contracts"]["C1"]
    years = (datetime(2026, 12, 23, 15, tzinfo=CST) - datetime(2026, 11, 23, 10, tzinfo=CST)
             ) / timedelta(days=365)
    g = bsm(3.1, 3.1, years, c1["iv"], 0.015, 0.0, True)
    assert c1["delta"] == pytest.approx(10 * 10000 * float(g.delta), rel=1e-3)
    assert c1["vega"] == pytest.approx(10 * 10000 * float(g.vega) / 100, rel=1e-3)
    assert 0.05 < c1["iv"] < 1.0  # from the mid 0.1000
    under = reading["greeks"]["underlyings"]["510050"]
    assert under["delta"] == pytest.approx(c1["delta"] - 20_000, abs=1)
    # the BSE stock's opening 1,000 shares at 25.00 are in the book's total too
    assert reading["greeks"]["total"]["delta_yuan"] == pytest.approx(
        under["delta"] * 3.1 + 1000 * 25.0, rel=1e-6)


def test_an_underlying_delta_alert_starts_once_and_clears():
    m = monitor(underlyings={"510050": GreekLimits(delta=40_000)})
    now = at(FAR, 10)
    m.on_event(book("510050", 3099, 3101, now))
    m.on_event(fill("C1", Side.BUY, 10, 1000, now))  # about 55,000 units of delta
    _, started, _ = m.evaluate(now)
    assert [a.key for a in started] == ["delta:underlying:510050"]
    assert started[0].products == ("510050", "510050E")
    _, again, _ = m.evaluate(now + S)
    assert again == []  # still breached: no second prompt
    m.on_event(fill("510050", Side.SELL, 50_000, 3100, now + S))
    _, started, cleared = m.evaluate(now + 2 * S)
    assert started == [] and cleared == ["delta:underlying:510050"]


def test_pnl_marks_positions_at_the_mid_and_the_opening_at_the_previous_close():
    m = monitor(loss_alert_yuan=500)
    now = at(FAR, 10)
    m.on_event(fill("C1", Side.BUY, 10, 1000, now))
    m.on_event(book("C1", 1090, 1110, now))  # mid 0.1100: +0.01 x 10 x 10000
    m.on_event(book("830799", 2490, 2510, now))  # opening 1000 shares at 25.00: flat
    reading, started, _ = m.evaluate(now)
    assert reading["pnl"]["total"] == pytest.approx(1000.0)
    assert started == []
    m.on_event(book("830799", 2390, 2410, now + S))  # the stock down 1.00 on 1000 shares
    m.on_event(book("C1", 940, 960, now + S))  # the option down to 0.0950: -500
    reading, started, _ = m.evaluate(now + S)
    assert reading["pnl"]["total"] == pytest.approx(-1500.0)
    assert reading["pnl"]["underlyings"]["830799"] == pytest.approx(-1000.0)
    assert [a.kind for a in started] == ["loss"]


def test_a_hard_loss_asks_the_process_to_halt():
    m = monitor(loss_alert_yuan=100, loss_halt_yuan=1000)
    now = at(FAR, 10)
    m.on_event(fill("C1", Side.BUY, 10, 1000, now))
    m.on_event(book("C1", 790, 810, now))  # -2,000
    _, started, _ = m.evaluate(now)
    assert [(a.kind, a.halt, a.scope) for a in started] == [("loss_halt", True, "all")]


def test_margin_used_and_the_maintenance_ratio():
    m = monitor(maintenance_min=500.0)
    now = at(FAR, 10)
    m.on_event(book("510050", 3099, 3101, now))
    m.on_event(book("P1", 490, 510, now))
    m.on_event(fill("P1", Side.SELL, 10, 500, now))
    reading, started, _ = m.evaluate(now)
    per_lot = margin_per_lot(P1, 0.05, 3.1, config().margin)
    assert reading["margin"]["used"] == pytest.approx(10 * per_lot, rel=1e-9)
    assert reading["margin"]["cash"] == pytest.approx(10_000_000 + 5_000)
    ratio = (10_000_000 + 5_000) / (10 * per_lot)
    assert reading["margin"]["maintenance_ratio"] == pytest.approx(ratio, rel=1e-3)
    assert ratio < 500 and [a.kind for a in started] == ["maintenance"]


def test_expiry_pin_and_exercise_cover_near_the_expiry():
    m = monitor(expiry_days=3, pin_days=2, pin_band=0.02)
    now = at(NEAR, 10)
    m.on_event(book("510050", 3149, 3151, now))  # S = 3.15: C1 (3.1) in the money
    m.on_event(fill("C1", Side.SELL, 10, 600, now))  # short 10 calls: deliver 100,000 units
    reading, started, _ = m.evaluate(now)
    assert reading["expiry"]["510050"] == [{"contract": "C1", "position": -10, "days": 1}]
    assert [p["contract"] for p in reading["pin"]] == ["C1"]  # 3.1 is 1.6% from 3.15
    ex = reading["exercise"]
    assert ex["units_needed"] == {"510050": 100_000}
    assert ex["cash_needed"] == pytest.approx(100_000 * 3.15)  # none held: bought at spot
    assert ex["covered"]  # 10 million of cash covers it
    assert {a.kind for a in started} == {"expiry", "pin"}
    # with the ETF held, nothing needs buying; with too little cash, uncovered
    m2 = DepartmentMonitor(config(funds_yuan=100_000, department=Department()), INSTRUMENTS,
                           CST)
    m2.on_event(book("510050", 3149, 3151, now))
    m2.on_event(fill("C1", Side.SELL, 10, 600, now))
    reading, started, _ = m2.evaluate(now)
    assert not reading["exercise"]["covered"]
    assert "exercise" in {a.kind for a in started}
    m2.on_event(fill("510050", Side.BUY, 100_000, 3150, now))
    reading, _, _ = m2.evaluate(now)
    assert reading["exercise"]["cash_needed"] == 0


def test_orders_per_second_and_notional_per_side():
    m = monitor(max_orders_per_s=4, max_notional_yuan=15_000)
    now = at(FAR, 10)
    for k in range(5):
        m.on_event(quote("C1", 990, 1010, now + k * S // 10))
    reading, started, _ = m.evaluate(now + S // 2)
    assert reading["orders"]["per_s_peak"] == 5
    assert reading["orders"]["notional_max"] == pytest.approx(1010 * 0.0001 * 10 * 10000)
    assert [a.kind for a in started] == ["orders_per_s"]
    m.on_event(quote("C1", 990, 2000, now + 10 * S, qty=10))  # 20,000 yuan a side
    _, started, _ = m.evaluate(now + 10 * S)
    assert [a.kind for a in started] == ["notional"]


def test_bse_indicators():
    m = monitor(bse=BseLimits(turnover_share=0.5, reverse_share=0.3, cancel_ratio=0.5,
                              self_trades=0, price_band=0.05, price_outliers=0))
    now = at(FAR, 10)
    m.on_event(book("830799", 2490, 2510, now, last=2500, volume=1000))
    m.on_event(book("830799", 2490, 2510, now + S, last=2500, volume=3000))  # 2000 x 25.00
    m.on_event(quote("830799", 2490, 2510, now))
    m.on_event(quote("830799", 2300, 2510, now + S))  # 8% under the last trade
    m.on_event(QuoteStatus(ts_event=now, ts_init=now, quote_id="Q", instrument_id="830799",
                           account="MM01", status=QuoteStatusCode.CANCELLED,
                           cancel_reason=CancelReason.REPLACED))
    m.on_event(fill("830799", Side.BUY, 400, 2500, now + 2 * S))
    m.on_event(fill("830799", Side.SELL, 400, 2500, now + 2 * S))  # our bid met our ask
    reading, started, _ = m.evaluate(now + 3 * S)
    bse = reading["bse"]["830799"]
    assert bse["turnover_share"] == pytest.approx(20_000 / 50_000)
    assert bse["reverse_share"] == pytest.approx(0.5)
    assert bse["cancel_ratio"] == pytest.approx(0.5)
    assert bse["self_trades"] == 1 and bse["price_outliers"] == 1
    assert {a.kind for a in started} == {"bse_reverse_share", "bse_self_trades",
                                         "bse_price_outliers"}


def test_overnight_levels_apply_from_their_time():
    m = monitor(overnight_from="14:45", overnight=CashLimits(delta_yuan=100_000),
                total=CashLimits(delta_yuan=1_000_000))
    m.on_event(book("510050", 3099, 3101, at(FAR, 10)))
    m.on_event(fill("510050", Side.BUY, 100_000, 3100, at(FAR, 10)))  # 310,000 yuan
    reading, started, _ = m.evaluate(at(FAR, 14, 30))
    assert not reading["overnight"]["applies"] and started == []
    reading, started, _ = m.evaluate(at(FAR, 14, 50))
    assert reading["overnight"]["applies"]
    assert [a.key for a in started] == ["overnight_delta:all"]


def test_seed_takes_the_gateways_positions_and_cash():
    m = monitor()
    m.seed({"C1": 5, "unknown": 3}, {"C1": -5000.0}, {"C1": [990, 1010, 1000, 7]})
    reading, _, _ = m.evaluate(at(FAR, 10))
    assert reading["greeks"]["contracts"]["C1"]["position"] == 5
    assert reading["pnl"]["total"] == pytest.approx(5 * 0.1 * 10000 - 5000)


def test_utc_default_offset_is_accepted():
    assert DepartmentMonitor(config(), INSTRUMENTS).offset is UTC
