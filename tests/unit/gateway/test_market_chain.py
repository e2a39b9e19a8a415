"""The chain the quoters price: each contract's time to expiry, its underlying's price and its
phase, as the per-contract functions give them (the chain computes the expiries' closes once
and each underlying's price once per requote)."""

import numpy as np

from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config
from adapters.sim.day import prepare_day, venue_tz
from core.clock import NS_PER_S
from core.enums import Phase, Venue
from core.events import LinkStatus, MarketData, PhaseChange, Reject
from gateway.desk import MarketState, years_to
from quoting.gate import NO_PRICE, PHASE_CODE
from tests.deskkit import DAY


def test_the_chain_agrees_with_each_contract_s_own_figures():
    config = load_config()
    sim_day = prepare_day(config, build_calendar(config.holidays), DAY, 11)
    offset = venue_tz(config)
    instruments = {i.instrument_id: i for i in sim_day.listing.instruments}
    options = [i for i in instruments.values() if i.is_option]
    assert len({i.expiry for i in options}) > 1 and len({i.underlying for i in options}) > 1
    market = MarketState(instruments)
    market.product_phase = {i.product: Phase.CONTINUOUS for i in options}
    market.own_phase[options[0].instrument_id] = Phase.HALTED
    start = sim_day.clock.now_ns()
    for hours in (0, 3, 30 * 24):  # the same chain again later: the cached closes hold
        market.now_ns = start + hours * 3600 * NS_PER_S
        chain = market.chain(options, offset)
        assert np.array_equal(chain.years, [years_to(i.expiry, market.now_ns, offset)
                                            for i in options])
        assert np.array_equal(chain.underlying_px, [market.price(i.underlying) or np.nan
                                                    for i in options], equal_nan=True)
        assert chain.phase.tolist() == [PHASE_CODE[market.phase(i)] for i in options]


def test_the_chain_tells_everyone_else_s_best_prices_from_our_own_quote():
    config = load_config()
    sim_day = prepare_day(config, build_calendar(config.holidays), DAY, 11)
    offset = venue_tz(config)
    instruments = {i.instrument_id: i for i in sim_day.listing.instruments}
    a, b, c = [i for i in instruments.values() if i.is_option][:3]
    market = MarketState(instruments)
    now = sim_day.clock.now_ns()

    def book(inst, bids, asks):
        market.apply(MarketData(ts_event=now, ts_init=now, instrument_id=inst.instrument_id,
                                seq=1, phase=Phase.CONTINUOUS, bids=bids, asks=asks))

    book(a, ((100, 10), (98, 30)), ((108, 10), (110, 30)))  # our quote alone at the top
    book(b, ((100, 40),), ((108, 10),))                       # someone beside us at 100
    own = {a.instrument_id: (100, 10, 108, 10), b.instrument_id: (100, 10, 108, 10)}
    chain = market.chain([a, b, c], offset, own)
    assert chain.other_bid.tolist() == [98, 100, NO_PRICE]
    assert chain.other_ask.tolist() == [110, NO_PRICE, NO_PRICE]
    assert market.chain([a, b, c], offset).other_bid is None  # not asked: not known


def test_the_market_s_time_is_the_exchange_s_not_the_link_s_wall_clock():
    """A link's own events carry the gateway's wall clock: a simulated day in the past (the
    night session, or any day before the machine's date) must not look stale by them."""
    market = MarketState({})
    market.apply(PhaseChange(ts_event=1_000, ts_init=1_000, venue=Venue.ZCE, product="SR",
                             phase=Phase.CONTINUOUS))
    market.apply(LinkStatus(ts_event=9_000_000, ts_init=9_000_000, link="fix", state="up"))
    market.apply(Reject(ts_event=9_000_001, ts_init=9_000_001, ref_id="7", reason="35=3"))
    assert market.now_ns == 1_000
