"""SVI slices: fitting, arbitrage checks and the trader's overrides."""

from datetime import date

import numpy as np
import pytest

from quoting.surface import (
    Surface,
    SurfaceError,
    SviSlice,
    butterfly_violations,
    calendar_violations,
    fit_slice,
)

TRUE = SviSlice(a=0.01, b=0.1, rho=-0.4, m=0.02, sigma=0.15, years=0.25)
K = np.linspace(-0.4, 0.4, 17)


def test_a_fit_recovers_the_smile_it_was_given():
    result = fit_slice(K, TRUE.vol(K), 0.25)
    assert result.rms_vol_error < 1e-6
    assert np.allclose(result.slice.vol(K), TRUE.vol(K), atol=1e-6)


def test_a_fit_skips_missing_vols_and_needs_five():
    vols = TRUE.vol(K)
    vols[::2] = np.nan
    assert fit_slice(K, vols, 0.25).points == 8
    with pytest.raises(SurfaceError, match="needs 5"):
        fit_slice(K[:4], TRUE.vol(K[:4]), 0.25)


def test_butterfly_arbitrage_is_found_and_a_sane_slice_has_none():
    assert butterfly_violations(TRUE).size == 0
    assert butterfly_violations(SviSlice(0.0, 2.0, 0.99, 0.0, 0.01, 0.25)).size > 0


def test_calendar_arbitrage_is_found():
    later = SviSlice(0.005, 0.1, -0.4, 0.02, 0.15, 0.5)  # less total variance later
    assert calendar_violations(TRUE, later).size > 0
    assert calendar_violations(later, TRUE).size == 0


def test_overrides_win_over_the_fit():
    surface = Surface("510050")
    expiry = date(2026, 12, 23)
    surface.set_fit(expiry, TRUE)
    ids, expiries = ["A", "B"], [expiry, expiry]
    k = np.array([0.0, 0.1])
    base = surface.vols(ids, expiries, k)
    surface.shift(expiry, 0.01)
    assert np.allclose(surface.vols(ids, expiries, k), base + 0.01)
    surface.override("B", 0.5)
    assert surface.vols(ids, expiries, k)[1] == 0.5
    pinned = SviSlice(0.02, 0.1, 0.0, 0.0, 0.1, 0.25)
    surface.pin(expiry, pinned)
    surface.set_fit(expiry, TRUE)  # a new fit does not replace the trader's slice
    assert surface.slice(expiry) == pinned
    with pytest.raises(ValueError, match="must be positive"):
        surface.override("A", -0.1)


def test_an_unknown_expiry_has_no_vol():
    assert np.isnan(Surface("x").vols(["A"], [date(2027, 1, 1)], np.array([0.0]))[0])


def test_the_surface_reports_its_arbitrage():
    surface = Surface("510050")
    surface.set_fit(date(2026, 12, 23), TRUE)
    surface.set_fit(date(2027, 3, 24), SviSlice(0.005, 0.1, -0.4, 0.02, 0.15, 0.33))
    found = surface.arbitrage()
    assert list(found) == ["calendar 2026-12-23/2027-03-24"]
