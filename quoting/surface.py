"""Volatility surfaces: one SVI slice per underlying and expiry, fitted to market mids, with
arbitrage checks and the trader's overrides (the worksheet's volatility-curve management).

A slice gives total implied variance w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)) in
log-moneyness k = ln(K / F); the volatility is sqrt(w / T). `fit_slice` fits the raw SVI
parameters by bounded least squares on total variance (weights, e.g. by vega, are the
caller's). `butterfly_violations` evaluates Gatheral's density condition g(k) >= 0 on a grid;
`calendar_violations` checks that total variance never falls from one expiry to the next.
Overrides: a trader may pin a slice's parameters, shift a slice's volatility, or pin the
volatility of single contracts; what a trader set always wins over a fit.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SviSlice:
    a: float
    b: float
    rho: float
    m: float
    sigma: float
    years: float

    def total_variance(self, k: F64) -> F64:
        d = np.asarray(k, dtype=np.float64) - self.m
        return self.a + self.b * (self.rho * d + np.sqrt(d * d + self.sigma * self.sigma))

    def vol(self, k: F64) -> F64:
        return np.sqrt(np.maximum(self.total_variance(k), 0.0) / self.years)

    def density(self, k: F64) -> F64:
        """Gatheral's g(k); a negative value is a butterfly arbitrage."""
        k = np.asarray(k, dtype=np.float64)
        d = k - self.m
        root = np.sqrt(d * d + self.sigma * self.sigma)
        w = self.total_variance(k)
        w1 = self.b * (self.rho + d / root)
        w2 = self.b * self.sigma * self.sigma / root**3
        return (1 - k * w1 / (2 * w)) ** 2 - w1 * w1 / 4 * (1 / w + 0.25) + w2 / 2


@dataclass(frozen=True, slots=True)
class FitResult:
    slice: SviSlice
    rms_vol_error: float
    points: int


class SurfaceError(ValueError):
    """A slice that cannot be fitted (too few points, nothing finite)."""


def fit_slice(k: F64, vol: F64, years: float, weights: F64 | None = None) -> FitResult:
    """Fit one SVI slice to implied volatilities at log-moneyness `k` (NaNs are skipped)."""
    k = np.asarray(k, dtype=np.float64)
    vol = np.asarray(vol, dtype=np.float64)
    ok = np.isfinite(k) & np.isfinite(vol) & (vol > 0)
    if ok.sum() < 5:
        raise SurfaceError(f"an SVI slice needs 5 quotes with a volatility, got {ok.sum()}")
    k, w = k[ok], vol[ok] ** 2 * years
    wt = np.ones_like(k) if weights is None else np.asarray(weights, dtype=np.float64)[ok]

    def residual(p: F64) -> F64:
        a, b, rho, m, sigma = p
        d = k - m
        return wt * (a + b * (rho * d + np.sqrt(d * d + sigma * sigma)) - w)

    atm = float(np.interp(0.0, np.sort(k), w[np.argsort(k)]))
    start = np.array([atm * 0.5, 0.1, -0.3, 0.0, 0.1])
    lower = np.array([-1.0, 0.0, -0.999, -2.0, 1e-4])
    upper = np.array([max(w.max(), 1e-6) * 2, 4.0 / years if years > 0 else 10.0, 0.999, 2.0,
                      5.0])
    result = least_squares(residual, np.clip(start, lower, upper), bounds=(lower, upper),
                           xtol=1e-12, ftol=1e-12)
    a, b, rho, m, sigma = (float(x) for x in result.x)
    # the smallest total variance must stay non-negative
    a = max(a, -b * sigma * np.sqrt(1 - rho * rho))
    fitted = SviSlice(a, b, rho, m, sigma, years)
    error = float(np.sqrt(np.mean((fitted.vol(k) - np.sqrt(w / years)) ** 2)))
    return FitResult(fitted, error, int(ok.sum()))


def butterfly_violations(slice_: SviSlice, k: F64 | None = None) -> F64:
    """The log-moneyness points where the slice's density is negative."""
    grid = np.linspace(-1.5, 1.5, 301) if k is None else np.asarray(k, dtype=np.float64)
    return grid[slice_.density(grid) < -1e-12]


def calendar_violations(earlier: SviSlice, later: SviSlice, k: F64 | None = None) -> F64:
    """The points where the later expiry's total variance is below the earlier one's."""
    grid = np.linspace(-1.5, 1.5, 301) if k is None else np.asarray(k, dtype=np.float64)
    return grid[later.total_variance(grid) < earlier.total_variance(grid) - 1e-12]


@dataclass
class Surface:
    """The slices of one underlying by expiry, with the trader's overrides on top."""

    underlying: str
    slices: dict[date, SviSlice] = field(default_factory=dict)
    pinned: dict[date, SviSlice] = field(default_factory=dict)
    shifts: dict[date, float] = field(default_factory=dict)
    contract_vols: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._version = 0
        self._cache: dict[tuple[str, ...], tuple[int, F64]] = {}

    def _changed(self) -> None:
        self._version += 1

    def set_fit(self, expiry: date, slice_: SviSlice) -> None:
        self.slices[expiry] = slice_
        self._changed()

    def pin(self, expiry: date, slice_: SviSlice) -> None:
        """A trader's own parameters for a slice: a fit no longer replaces them."""
        self.pinned[expiry] = slice_
        self._changed()

    def unpin(self, expiry: date) -> None:
        self.pinned.pop(expiry, None)
        self._changed()

    def shift(self, expiry: date, vol_points: float) -> None:
        """Move a whole slice's volatility by `vol_points` (0.01 = one point)."""
        self.shifts[expiry] = vol_points
        self._changed()

    def override(self, contract: str, vol: float | None) -> None:
        """Pin one contract's volatility (None removes the pin)."""
        if vol is None:
            self.contract_vols.pop(contract, None)
        else:
            if not vol > 0:
                raise ValueError(f"vol: {vol} for {contract} must be positive")
            self.contract_vols[contract] = vol
        self._changed()

    def slice(self, expiry: date) -> SviSlice | None:
        return self.pinned.get(expiry) or self.slices.get(expiry)

    def _params(self, contracts: list[str], expiries: list[date]) -> F64:
        """Per contract: a, b, rho, m, sigma, years, shift, pinned vol (NaN: none); a row of
        NaN where no slice covers the expiry. Cached until the surface changes."""
        key = tuple(contracts)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        out = np.full((8, len(contracts)), np.nan)
        for i, (contract, expiry) in enumerate(zip(contracts, expiries, strict=True)):
            slice_ = self.slice(expiry)
            if slice_ is not None:
                out[:7, i] = (slice_.a, slice_.b, slice_.rho, slice_.m, slice_.sigma,
                              slice_.years, self.shifts.get(expiry, 0.0))
            out[7, i] = self.contract_vols.get(contract, np.nan)
        self._cache[key] = (self._version, out)
        return out

    def vols(self, contracts: list[str], expiries: list[date], k: F64) -> F64:
        """Volatility per contract: a pinned contract vol, else its slice (shifted), else NaN.
        The slice's volatility is as fitted: its total variance over its own years."""
        a, b, rho, m, sigma, years, shift, pinned = self._params(contracts, expiries)
        d = k - m
        w = a + b * (rho * d + np.sqrt(d * d + sigma * sigma))
        vol = np.sqrt(np.maximum(w, 0.0) / years) + shift
        return np.where(np.isnan(pinned), vol, pinned)

    def arbitrage(self) -> dict[str, list[float]]:
        """Every butterfly and calendar violation of the current slices, by slice."""
        out: dict[str, list[float]] = {}
        ordered = sorted((e, s) for e in set(self.slices) | set(self.pinned)
                         if (s := self.slice(e)) is not None)
        for expiry, slice_ in ordered:
            bad = butterfly_violations(slice_)
            if bad.size:
                out[f"butterfly {expiry}"] = bad.tolist()
        for (e1, s1), (e2, s2) in itertools.pairwise(ordered):
            bad = calendar_violations(s1, s2)
            if bad.size:
                out[f"calendar {e1}/{e2}"] = bad.tolist()
        return out
