"""Black-Scholes-Merton (with a continuous carry) and Black-76, vectorised over a whole chain.

Every function takes numpy arrays (or scalars) that broadcast together and returns arrays.
Greeks are per unit change: vega per 1.00 of volatility, rho per 1.00 of the rate, theta per
year. For BSM delta and gamma are with respect to the spot; for Black-76 with respect to the
futures price, and rho holds the futures price fixed (so it is -T x price).

`implied_vol` inverts either model. It works on the out-of-the-money side of put-call parity
(an in-the-money price carries the same time value as its out-of-the-money twin, without the
cancellation), in the normalised total deviation s = vol x sqrt(T), by Newton's method on the
log of the undiscounted price, safeguarded by a bisection bracket; so it converges deep in and
out of the money and for very short expiries. Where no volatility fits it returns NaN and says
why.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

F64 = NDArray[np.float64]
SQRT_2PI = np.sqrt(2.0 * np.pi)
MAX_STDEV = 50.0
MAX_ITERATIONS = 100
CUBIC_STEP = 1e-5
"""a Halley step this small (relative) leaves an error of the order of its cube"""


def _pdf(x: F64) -> F64:
    return np.exp(-0.5 * x * x) / SQRT_2PI


@dataclass(frozen=True, slots=True)
class Greeks:
    price: F64
    delta: F64
    gamma: F64
    vega: F64
    theta: F64
    rho: F64


def _arrays(*values: ArrayLike) -> list[F64]:
    """The inputs as float arrays; scalars stay 0-d (numpy broadcasts them in every
    operation), arrays must broadcast together."""
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    np.broadcast_shapes(*(a.shape for a in arrays))  # a shape mismatch fails here, clearly
    return arrays


def _broadcast(*values: ArrayLike) -> list[F64]:
    """The inputs as float arrays of one common shape (for searches that index them)."""
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    shape = arrays[0].shape
    if all(a.shape == shape for a in arrays):
        return arrays
    return list(np.broadcast_arrays(*arrays))


def _black(forward: F64, strike: F64, stdev: F64, is_call: NDArray[np.bool_]) -> tuple[F64, ...]:
    """Undiscounted Black price and its pieces (d1, d2, N(+-d1), N(+-d2)), stdev > 0."""
    safe = np.where(stdev > 0, stdev, 1.0)
    d1 = np.log(forward / strike) / safe + 0.5 * safe
    d2 = d1 - safe
    sign = np.where(is_call, 1.0, -1.0)
    nd1, nd2 = ndtr(sign * d1), ndtr(sign * d2)
    value = sign * (forward * nd1 - strike * nd2)
    intrinsic = np.maximum(sign * (forward - strike), 0.0)
    return np.where(stdev > 0, value, intrinsic), d1, d2, nd1, nd2, sign


def bsm(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, vol: ArrayLike, rate: ArrayLike,
        carry: ArrayLike, is_call: ArrayLike) -> Greeks:
    """Black-Scholes-Merton price and Greeks; `carry` is the continuous dividend yield.

    BSM is Black-76 on the forward F = S exp((r - q) T): the price is the same, and the
    spot Greeks follow from dF/dS = exp((r - q) T), dF/dT = (r - q) F and dF/dr = T F."""
    s, k, t, v, r, q, call = _arrays(spot, strike, years, vol, rate, carry, is_call)
    t = np.maximum(t, 0.0)
    growth = np.exp((r - q) * t)
    forward = s * growth
    b = black76(forward, k, t, v, r, call)
    return Greeks(
        price=b.price,
        delta=b.delta * growth,
        gamma=b.gamma * growth * growth,
        vega=b.vega,
        theta=b.theta - b.delta * (r - q) * forward,
        rho=b.rho + b.delta * t * forward,
    )


def black76(forward: ArrayLike, strike: ArrayLike, years: ArrayLike, vol: ArrayLike,
            rate: ArrayLike, is_call: ArrayLike) -> Greeks:
    """Black-76 price and Greeks of an option on a future (sensitivities to the future)."""
    f, k, t, v, r, call = _arrays(forward, strike, years, vol, rate, is_call)
    call = call.astype(bool)
    t = np.maximum(t, 0.0)
    disc = np.exp(-r * t)
    root_t = np.sqrt(t)
    stdev = v * root_t
    live = stdev > 0
    if live.all():  # the usual case: no expired or zero-vol contract to guard
        d1 = np.log(f / k) / stdev + 0.5 * stdev
        sign = np.where(call, 1.0, -1.0)
        nd1 = ndtr(sign * d1)
        price = disc * sign * (f * nd1 - k * ndtr(sign * (d1 - stdev)))
        pdf = np.exp(-0.5 * d1 * d1) / SQRT_2PI
        disc_pdf = disc * pdf
        return Greeks(price, sign * disc * nd1, disc_pdf / (f * stdev), f * disc_pdf * root_t,
                      -f * disc_pdf * v / (2.0 * root_t) + r * price, -t * price)
    undiscounted, d1, _, nd1, _, sign = _black(f, k, stdev, call)
    price = disc * undiscounted
    safe_stdev = np.where(live, stdev, 1.0)
    safe_t = np.where(t > 0, t, 1.0)
    pdf = np.where(live, _pdf(d1), 0.0)
    exercised = np.where(sign * (f - k) > 0, 1.0, 0.0)
    delta = sign * disc * np.where(live, nd1, exercised)
    gamma = np.where(live, disc * pdf / (f * safe_stdev), 0.0)
    vega = f * disc * pdf * root_t
    theta = np.where(live, -f * disc * pdf * v / (2.0 * np.sqrt(safe_t)), 0.0) + r * price
    rho = -t * price
    return Greeks(price, delta, gamma, vega, theta, rho)


REASONS = np.array([
    "",
    "a forward, strike or discount that is not positive and finite",
    "no time to expiry",
    "price below the intrinsic value",
    "price equals the intrinsic value: no time value",
    "time value lost in the rounding of the price (too deep in the money)",
    "price at or above the no-arbitrage upper bound",
    "did not converge",
])


@dataclass(frozen=True, slots=True)
class ImpliedVol:
    vol: F64
    """NaN where no volatility fits"""
    reason: NDArray[np.str_]
    """empty where a volatility was found, else why not"""
    iterations: int


def implied_vol(premium: ArrayLike, forward: ArrayLike, strike: ArrayLike, years: ArrayLike,
                discount: ArrayLike, is_call: ArrayLike, *, tolerance: float = 1e-12,
                guess: ArrayLike | None = None) -> ImpliedVol:
    """The Black volatility that reproduces `premium` (a discounted price) for an option on
    `forward` (for BSM: spot x exp((rate - carry) x T)); `discount` = exp(-rate x T).
    `guess` (e.g. the last solution, when a chain is repriced) starts the search near the
    answer; a NaN guess starts from the default."""
    arrays = _broadcast(premium, forward, strike, years, discount, is_call)
    shape = arrays[0].shape
    p, f, k, t, d, call = (a.ravel() for a in arrays)  # the search indexes a flat array
    call = call.astype(bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        code = np.zeros(p.shape, dtype=np.int8)  # an index into REASONS; 0 = solved
        ok_input = ((f > 0) & (k > 0) & (d > 0) & np.isfinite(p) & np.isfinite(f)
                    & np.isfinite(k) & np.isfinite(t))
        code[~ok_input] = 1
        code[ok_input & (t <= 0)] = 2
        undiscounted = p / d
        # the out-of-the-money twin: same time value, no cancellation against the intrinsic
        intrinsic = np.maximum(np.where(call, f - k, k - f), 0.0)
        time_value = undiscounted - intrinsic
        otm_call = f <= k
        upper = np.where(otm_call, f, k)
        free = code == 0
        code[free & (time_value >= upper)] = 6
        # deep in the money the time value can sink below the precision of the price itself
        code[free & (time_value > 0) & (time_value <= 1e-12 * intrinsic)] = 5
        code[free & (time_value == 0)] = 4
        code[free & (time_value < 0)] = 3
        rows = np.flatnonzero(code == 0)
        fr, kr, tv = f[rows], k[rows], time_value[rows]
        tr = np.log(tv)
        # start at the inflection point sqrt(2|x|), or the at-the-money approximation
        sr = np.maximum(np.sqrt(2.0 * np.abs(np.log(fr / kr))), SQRT_2PI * tv / fr)
        if guess is not None:
            warm = (np.broadcast_to(np.asarray(guess, dtype=np.float64), shape).ravel()[rows]
                    * np.sqrt(t[rows]))
            sr = np.where(np.isfinite(warm) & (warm > 0), warm, sr)
        sr = np.clip(sr, 1e-8, MAX_STDEV)
        sign = np.where(otm_call[rows], 1.0, -1.0)
        sf, sk = sign * fr, sign * kr
        lor, hir = np.zeros(rows.size), np.full(rows.size, MAX_STDEV)
        log_moneyness = np.log(fr / kr)
        solved = np.full(p.shape, np.nan)
        left = rows  # the rows still being solved; the converged leave the arrays
        iterations = 0
        for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (reported below)
            if not left.size:
                break
            d1 = log_moneyness / sr + 0.5 * sr
            d2 = d1 - sr
            value = sf * ndtr(sign * d1) - sk * ndtr(sign * d2)
            g = np.log(value) - tr
            # Halley's step on the log price: g' = b'/b, g'' = b''/b - g'^2, with
            # b' = F n(d1) and b'' = b' d1 d2 / s
            slope = fr * np.exp(-0.5 * d1 * d1) / (SQRT_2PI * value)
            slope2 = slope * slope
            step = g / slope / (1.0 - 0.5 * g * (slope * d1 * d2 / sr - slope2) / slope2)
            below = g < 0
            lor = np.where(below, sr, lor)
            hir = np.where(below, hir, sr)
            new = sr - step
            bisect = ~((new > lor) & (new < hir))  # also catches NaN
            new = np.where(bisect, 0.5 * (lor + hir), new)
            # done: the price fits, or Halley's step was small enough that the cubic
            # convergence puts the next point within the tolerance (take that point)
            fits = np.abs(g) <= tolerance
            done = fits | (~bisect & (np.abs(new - sr) <= CUBIC_STEP * sr))
            if done.any():
                solved[left[done]] = np.where(fits, sr, new)[done]
                keep = ~done
                left, sr, new = left[keep], sr[keep], new[keep]
                fr, tr, sign, sf, sk = fr[keep], tr[keep], sign[keep], sf[keep], sk[keep]
                lor, hir, log_moneyness = lor[keep], hir[keep], log_moneyness[keep]
            sr = new
        code[left] = 7
        vol = solved / np.sqrt(np.where(t > 0, t, 1.0))
        vol[code != 0] = np.nan
    reason = REASONS[code]
    return ImpliedVol(vol.reshape(shape), reason.reshape(shape), iterations)
