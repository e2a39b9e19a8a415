"""Instruments and limits the risk tests share: a 50ETF chain of two calls and a put, the ETF,
a BSE stock and a ZCE future, with limits small enough to reach."""

from datetime import date
from decimal import Decimal

from core.enums import CallPut, InstrumentKind, Side, Venue
from core.events import NewOrder, Quote
from core.instruments import Instrument
from risk.checks import PreTrade
from risk.limits import Collar, ProductLimits, References, RiskConfig, Throttle

S = 1_000_000_000
NOW = 1_800_000_000 * S


def option(iid: str, strike: str, call: bool = True) -> Instrument:
    return Instrument(instrument_id=iid, venue=Venue.SSE, kind=InstrumentKind.OPTION,
                      product="510050", tick=Decimal("0.0001"), multiplier=10000,
                      prev_close_ticks=1000, underlying="510050",
                      underlying_kind=InstrumentKind.ETF,
                      call_put=CallPut.CALL if call else CallPut.PUT, strike=Decimal(strike),
                      expiry=date(2026, 12, 23))


ETF = Instrument(instrument_id="510050", venue=Venue.SSE, kind=InstrumentKind.ETF,
                 product="510050E", tick=Decimal("0.001"), lot=100, prev_close_ticks=3100)
STOCK = Instrument(instrument_id="830799", venue=Venue.BSE, kind=InstrumentKind.STOCK,
                   product="830799", tick=Decimal("0.01"), lot=100, prev_close_ticks=2500)
FUTURE = Instrument(instrument_id="SR701", venue=Venue.ZCE, kind=InstrumentKind.FUTURE,
                    product="SR", tick=Decimal("1"), multiplier=10, prev_close_ticks=5500)
INSTRUMENTS = [ETF, option("C1", "3.1"), option("C2", "3.2"), option("P1", "3.0", call=False),
               STOCK, FUTURE]


def limits(**overrides) -> ProductLimits:
    values = dict(max_quote_qty=50, max_order_qty=20, max_notional_yuan=1_000_000,
                  theo=Collar(ticks=20, fraction=0.1), last_trade=Collar(ticks=50, fraction=0.2),
                  previous_quote=Collar(ticks=100, fraction=0.5))
    return ProductLimits(**{**values, **overrides})


def config(**overrides) -> RiskConfig:
    values = dict(
        account="MM01", funds_yuan=10_000_000, tradable=["510050", "830799", "SR"],
        throttle=Throttle(per_s=100, burst=20),
        references=References(max_age_s=10, last_trade_window_s=30,
                              previous_quote_window_s=30),
        products={"510050": limits(long_limit=100, total_limit=150, daily_bto_limit=120),
                  "510050E": limits(max_quote_qty=100_000),
                  "830799": limits(max_quote_qty=100_000, opening_inventory=1000,
                                   inventory_max=5000, inventory_min=0),
                  "SR": limits(theo=Collar(ticks=20, fraction=0.01))})
    return RiskConfig(**{**values, **overrides})


def pretrade(**overrides) -> PreTrade:
    return PreTrade(config(**overrides), INSTRUMENTS)


_ids = iter(range(1, 10**9))


def quote(iid="C1", bid=990, bid_qty=10, ask=1010, ask_qty=10, account="MM01",
          quote_id=None) -> Quote:
    return Quote(ts_event=NOW, ts_init=NOW, quote_id=quote_id or f"Q{next(_ids)}",
                 instrument_id=iid, account=account, bid_px_ticks=bid,
                 bid_qty=bid_qty if bid is not None else 0, ask_px_ticks=ask,
                 ask_qty=ask_qty if ask is not None else 0)


def order(iid="C1", side=Side.BUY, px=1000, qty=5, account="MM01", client_id=None) -> NewOrder:
    return NewOrder(ts_event=NOW, ts_init=NOW, client_id=client_id or f"O{next(_ids)}",
                    instrument_id=iid, account=account, side=side, px_ticks=px, qty=qty)


def check(pt: PreTrade, q: Quote, theo: float = 1000.0, now: int = NOW, **refs):
    refs.setdefault("theo_ns", now)
    return pt.check_quote(q, now, theo_ticks=theo, **refs)
