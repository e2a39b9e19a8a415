"""The vectorised models against QuantLib, an independent pricer, to 1e-8 relative."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from quoting.models.black import black76, bsm, implied_vol

TODAY = ql.Date(23, 11, 2026)
DAYS = (1, 7, 30, 91, 365)
CASES = [(s, k, d, v, r, q) for s, k in ((3.1, 3.0), (3.1, 3.1), (3.1, 2.5), (3.1, 4.0),
                                         (4.7, 6.5))
         for d in DAYS for v, r, q in ((0.2, 0.015, 0.0), (0.45, 0.03, 0.02))]


def close(ours: float, theirs: float, rel: float = 1e-8, floor: float = 1e-12) -> bool:
    return abs(ours - theirs) <= max(rel * abs(theirs), floor)


def ql_option(spot, strike, days, vol, rate, carry, is_call):
    ql.Settings.instance().evaluationDate = TODAY
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, carry, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, rate, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vol, dc)))
    option = ql.VanillaOption(
        ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike),
        ql.EuropeanExercise(TODAY + days))
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return option, process


@pytest.mark.parametrize("is_call", [True, False])
@pytest.mark.parametrize(("spot", "strike", "days", "vol", "rate", "carry"), CASES)
def test_bsm_matches_quantlib(spot, strike, days, vol, rate, carry, is_call):
    option, _ = ql_option(spot, strike, days, vol, rate, carry, is_call)
    ours = bsm(spot, strike, days / 365.0, vol, rate, carry, is_call)
    for name, theirs in (("price", option.NPV()), ("delta", option.delta()),
                         ("gamma", option.gamma()), ("vega", option.vega()),
                         ("theta", option.theta()), ("rho", option.rho())):
        assert close(float(getattr(ours, name)), theirs), (name, float(getattr(ours, name)),
                                                           theirs)


@pytest.mark.parametrize("is_call", [True, False])
@pytest.mark.parametrize(("forward", "strike"), [(5400.0, 5400.0), (5400.0, 5000.0),
                                                  (5400.0, 6200.0)])
@pytest.mark.parametrize("days", DAYS)
def test_black76_matches_quantlib(forward, strike, days, is_call):
    vol, rate = 0.15, 0.02
    # Black-76 is BSM on the futures price with a carry equal to the rate
    option, _ = ql_option(forward, strike, days, vol, rate, rate, is_call)
    ours = black76(forward, strike, days / 365.0, vol, rate, is_call)
    for name, theirs in (("price", option.NPV()), ("delta", option.delta()),
                         ("gamma", option.gamma()), ("vega", option.vega()),
                         ("theta", option.theta())):
        assert close(float(getattr(ours, name)), theirs), name
    # rho with the futures price held fixed
    assert close(float(ours.rho), -(days / 365.0) * option.NPV())


def test_the_whole_chain_at_once_equals_one_at_a_time():
    strikes = np.linspace(2.0, 4.5, 26)
    chain = bsm(3.1, strikes, 0.1, 0.22, 0.015, 0.0, True)
    for i, strike in enumerate(strikes):
        single = bsm(3.1, strike, 0.1, 0.22, 0.015, 0.0, True)
        assert float(single.price) == chain.price[i]


@pytest.mark.parametrize("is_call", [True, False])
@pytest.mark.parametrize(("strike", "days", "vol"), [
    (3.1, 1, 0.2), (2.9, 1, 0.3), (3.3, 1, 0.6), (2.6, 30, 0.2), (8.0, 30, 0.8),
    (3.0, 365, 0.05), (3.0, 365, 2.5), (2.8, 7, 0.15), (2.0, 30, 0.6), (5.0, 91, 0.3),
])
def test_implied_vol_recovers_the_volatility(strike, days, vol, is_call):
    spot, rate, carry = 3.1, 0.015, 0.0
    years = days / 365.0
    price = bsm(spot, strike, years, vol, rate, carry, is_call).price
    forward = spot * math.exp((rate - carry) * years)
    found = implied_vol(price, forward, strike, years, math.exp(-rate * years), is_call)
    assert found.reason[()] == ""
    assert abs(float(found.vol) - vol) <= 1e-8 * vol


@pytest.mark.parametrize(("strike", "days", "vol"), [(2.0, 1, 0.3), (1.0, 30, 0.2)])
def test_a_time_value_lost_in_rounding_is_said_not_guessed(strike, days, vol):
    years = days / 365.0
    price = bsm(3.1, strike, years, vol, 0.015, 0.0, True).price  # ~20 stdevs in the money
    found = implied_vol(price, 3.1 * math.exp(0.015 * years), strike, years,
                        math.exp(-0.015 * years), True)
    assert math.isnan(float(found.vol))
    assert found.reason[()].startswith(("time value lost", "price equals the intrinsic"))


def test_implied_vol_agrees_with_quantlib():
    option, process = ql_option(3.1, 3.3, 45, 0.27, 0.015, 0.0, True)
    price = option.NPV()
    theirs = option.impliedVolatility(price, process, 1e-12, 1000, 1e-4, 4.0)
    years = 45 / 365.0
    ours = implied_vol(price, 3.1 * math.exp(0.015 * years), 3.3, years,
                       math.exp(-0.015 * years), True)
    assert close(float(ours.vol), theirs)


@pytest.mark.parametrize(("premium", "reason"), [
    (0.05, "price below the intrinsic value"),       # a call 0.1 in the money
    (3.2, "price at or above the no-arbitrage upper bound"),
    (-1.0, "price below the intrinsic value"),
])
def test_no_volatility_fits_gives_nan_and_a_reason(premium, reason):
    found = implied_vol(premium, 3.1, 3.0, 0.25, 1.0, True)
    assert math.isnan(float(found.vol))
    assert found.reason[()] == reason


def test_inputs_that_are_not_positive_are_named():
    found = implied_vol([0.1, 0.1], [3.1, -3.1], [3.0, 3.0], [0.0, 0.25], 1.0, True)
    assert list(found.reason) == ["no time to expiry",
                                  "a forward, strike or discount that is not positive and "
                                  "finite"]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-3.0, max_value=3.0), st.floats(min_value=0.005, max_value=3.0),
       st.booleans())
def test_implied_vol_inverts_black_wherever_time_value_is_representable(x, stdev, is_call):
    forward, years = 100.0, 0.5
    strike = forward * math.exp(-x)
    vol = stdev / math.sqrt(years)
    price = black76(forward, strike, years, vol, 0.0, is_call).price
    intrinsic = max(forward - strike, 0.0) if is_call else max(strike - forward, 0.0)
    if float(price) - intrinsic < 1e-9 * forward:
        return  # the time value is lost in the intrinsic value's rounding
    found = implied_vol(price, forward, strike, years, 1.0, is_call)
    assert found.reason[()] == ""
    assert abs(float(found.vol) - vol) <= 1e-6 * vol


def test_the_price_command_matches_quantlib():
    mmgw = Path(sys.executable).with_name("mmgw")
    result = subprocess.run(
        [str(mmgw), "price", "--model", "bs", "--spot", "3.1", "--strike", "3.2", "--years",
         str(91 / 365), "--vol", "0.2", "--rate", "0.015", "--carry", "0.01", "--put", "--json"],
        capture_output=True, text=True, check=True)
    out = json.loads(result.stdout)
    option, _ = ql_option(3.1, 3.2, 91, 0.2, 0.015, 0.01, False)
    assert close(out["price"], option.NPV()) and close(out["vega"], option.vega())
    assert close(out["theta"], option.theta()) and close(out["rho"], option.rho())
    implied = subprocess.run(
        [str(mmgw), "price", "--spot", "3.1", "--strike", "3.2", "--years", str(91 / 365),
         "--premium", repr(option.NPV()), "--rate", "0.015", "--carry", "0.01", "--put",
         "--json"], capture_output=True, text=True, check=True)
    assert abs(json.loads(implied.stdout)["implied_vol"] - 0.2) < 1e-10
    bad = subprocess.run(
        [str(mmgw), "price", "--spot", "3.1", "--strike", "3.0", "--years", "0.25",
         "--premium", "0.05", "--rate", "0.015", "--call", "--json"],
        capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "--premium: 0.05: price below the intrinsic value" in bad.stderr


@pytest.mark.parametrize(("strike", "is_call"), [(2.5, True), (3.1, False), (4.0, True)])
def test_the_simulators_scalar_pricer_agrees_with_the_chain_pricer(strike, is_call):
    from quoting.models import bsm as scalar  # noqa: PLC0415 (the simulator's one-at-a-time pricer)

    ours = float(bsm(3.1, strike, 0.2, 0.25, 0.015, 0.01, is_call).price)
    theirs = scalar.bsm_price(spot=3.1, strike=strike, years=0.2, vol=0.25, rate=0.015,
                              carry=0.01, is_call=is_call)
    assert close(theirs, ours, rel=1e-12)
