"""Quote models, switchable while running, and the whole chain built and gated."""

import math
from datetime import date

import numpy as np
import pytest

from adapters.refdata.loader import load_rule_pack
from core.enums import Phase
from quoting.construct import QuoteParams
from quoting.engine import ChainMarket, ProductQuoter, QuoteModel, phase_codes
from quoting.gate import NO_PRICE, ChainRules
from quoting.models.black import bsm
from quoting.surface import Surface, SviSlice
from tests.simkit import option

EXPIRY = date(2026, 12, 23)
INSTS = [option(f"C{i}", prev=1500, up=9000, down=1, strike=s, cp=cp)
         for i, (s, cp) in enumerate([("2.9", "call"), ("3.0", "call"), ("3.1", "put")])]


def market(phase=Phase.CONTINUOUS, **kw):
    n = len(INSTS)
    base = dict(phase=phase_codes([phase] * n), limit=np.zeros(n, dtype=np.int64),
                best_bid=np.full(n, NO_PRICE), best_ask=np.full(n, NO_PRICE),
                last_px=np.full(n, NO_PRICE), iopv=np.full(n, NO_PRICE),
                underlying_px=np.full(n, 3.0), years=np.full(n, 30 / 365))
    return ChainMarket(**(base | kw))


def quoter(**kw):
    surface = Surface("510050")
    surface.set_fit(EXPIRY, SviSlice(0.004, 0.05, -0.3, 0.0, 0.1, 30 / 365))
    return ProductQuoter(ChainRules(load_rule_pack("sse-options"), INSTS),
                         QuoteParams.uniform(len(INSTS), width_ticks=6), surface=surface, **kw)


def test_surface_theo_is_the_model_price_at_the_slice_vol():
    q = quoter()
    theo = q.theo(market())
    k = math.log(3.0 / 3.0)
    vol = float(SviSlice(0.004, 0.05, -0.3, 0.0, 0.1, 30 / 365).vol(np.array([k]))[0])
    expected = float(bsm(3.0, 3.0, 30 / 365, vol, 0.015, 0.0, True).price)
    assert abs(theo[1] - expected) < 1e-12


def test_every_built_quote_of_the_chain_passes_the_gate_in_each_phase():
    q = quoter()
    for phase in (Phase.OPENING_AUCTION, Phase.CONTINUOUS, Phase.CLOSING_AUCTION):
        result = q.quote(market(phase), phase)
        assert result.accepted.all(), result.rejections()


def test_models_switch_while_running():
    q = quoter()
    mkt = market(best_bid=np.array([1000, NO_PRICE, 800]), best_ask=np.array([1010, 900, 820]),
                 last_px=np.array([1005, 950, NO_PRICE]))
    q.switch(QuoteModel.MID_SKEW)
    q.skew_yuan = 0.0001
    mid = q.theo(mkt)
    assert abs(mid[0] - 0.1006) < 1e-12 and math.isnan(mid[1]) and abs(mid[2] - 0.0811) < 1e-12
    q.switch(QuoteModel.REFERENCE)
    ref = q.theo(mkt)
    assert list(np.round(ref, 6)) == [0.1005, 0.095, 0.15]  # the last, else the previous close
    q.switch(QuoteModel.IOPV)
    assert np.isnan(q.theo(mkt)).all()  # options have no IOPV
    q.switch("surface")
    assert q.model is QuoteModel.SURFACE


def test_contracts_without_a_theo_send_nothing_and_are_not_rejections():
    q = quoter()
    q.switch(QuoteModel.MID_SKEW)
    result = q.quote(market(), Phase.CONTINUOUS)
    assert result.rejections() == {} and not result.accepted.any()


def test_parameters_are_set_per_contract_or_for_the_whole_underlying():
    q = quoter()
    q.configure(None, width_ticks=10, size=20)
    q.configure(["C1"], width_ticks=4)
    assert list(q.params.width_ticks) == [10, 4, 10] and list(q.params.size) == [20] * 3
    with pytest.raises(ValueError, match=r"size: 0\.5"):
        q.configure(["C0"], size=0.5)
    with pytest.raises(KeyError, match="not in sse-options chain"):
        q.configure(["NOPE"], size=10)


def test_disabling_under_the_coverage_obligation_needs_an_override():
    q = quoter()
    live = {"C0", "C1", "C2"}
    refused = q.disable(["C0"], live_valid=live, phase=Phase.CONTINUOUS, override=False,
                        now_ns=0, phase_ends_ns=None)
    assert not refused.allowed and q.params.enabled.all()  # 2 of 3 < 80%
    done = q.disable(["C0"], live_valid=live, phase=Phase.CONTINUOUS, override=True,
                     now_ns=0, phase_ends_ns=None)
    assert done.allowed and done.alert and not q.params.enabled[0]
    q.enable(["C0"])
    assert q.params.enabled.all()
