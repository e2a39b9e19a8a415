"""A simulated day quoted by the engine: for every configured chain and in every phase, each
quote built passes the gate, and the simulated exchange accepts every quote the gate passed."""

import pytest

from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config
from adapters.sim.day import prepare_day
from core.enums import InstrumentKind, QuoteStatusCode
from tests.deskkit import DAY, PRODUCTS, Desk, quote_the_day


@pytest.fixture(scope="module")
def quoted_day():
    config = load_config()
    sim_day = prepare_day(config, build_calendar(config.holidays), DAY, 11)
    desk = Desk(sim_day)
    quote_the_day(sim_day, desk)
    return desk


def test_every_built_quote_passes_the_gate(quoted_day):
    assert quoted_day.rejected == []


def test_quotes_were_built_in_every_phase(quoted_day):
    phases = set(quoted_day.accepted)
    assert {"opening_auction", "continuous", "closing_auction"} <= phases
    assert quoted_day.exemptions["FREE_PHASE"] > 0  # ZCE's opening auction


def test_the_exchange_accepts_every_quote_the_gate_passed(quoted_day):
    refused = [s for s in quoted_day.statuses if s.status is QuoteStatusCode.REJECTED]
    assert refused == []
    accepted = sum(1 for s in quoted_day.statuses if s.status is QuoteStatusCode.ACCEPTED)
    assert accepted > 1000


def test_every_product_kind_was_quoted(quoted_day):
    kinds = {c.inst.kind for p in PRODUCTS
             for c in quoted_day.exchange.products[p].contracts}
    assert kinds == {InstrumentKind.OPTION, InstrumentKind.ETF, InstrumentKind.STOCK,
                     InstrumentKind.FUTURE}
