"""Black-Scholes-Merton (with continuous carry) and Black-76, one option at a time.

The simulator prices its fair values with these; the vectorised chain pricer of the quoting
engine is checked against them.
"""

import math

SQRT2 = math.sqrt(2.0)


def norm_cdf(x: float) -> float:
    """The standard normal distribution function, accurate in both tails (erfc)."""
    return 0.5 * math.erfc(-x / SQRT2)


def bsm_price(
    *, spot: float, strike: float, years: float, vol: float, rate: float, carry: float,
    is_call: bool,
) -> float:
    """Black-Scholes-Merton price with continuous dividend yield / carry `carry`.

    At expiry (or with zero volatility) the price is the discounted forward intrinsic value.
    """
    if spot <= 0 or strike <= 0:
        raise ValueError(f"spot and strike must be positive: spot={spot}, strike={strike}")
    forward = spot * math.exp((rate - carry) * years)
    return black76_price(
        forward=forward, strike=strike, years=years, vol=vol, rate=rate, is_call=is_call
    )


def black76_price(
    *, forward: float, strike: float, years: float, vol: float, rate: float, is_call: bool
) -> float:
    """Black-76 price of an option on a forward or future."""
    discount = math.exp(-rate * max(years, 0.0))
    stdev = vol * math.sqrt(max(years, 0.0))
    if stdev <= 0.0:
        intrinsic = forward - strike if is_call else strike - forward
        return discount * max(intrinsic, 0.0)
    d1 = (math.log(forward / strike) + 0.5 * stdev * stdev) / stdev
    d2 = d1 - stdev
    if is_call:
        return discount * (forward * norm_cdf(d1) - strike * norm_cdf(d2))
    return discount * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1))
