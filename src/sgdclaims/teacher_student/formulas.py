"""Closed forms of the asymptotic generalisation error (Goldt et al. 2020, eq. 11, 12, 15)."""

from __future__ import annotations

import math

from sgdclaims.validate import require_non_negative, require_positive


def _check(k: int, m: int, eta: float, sigma: float) -> None:
    require_positive("eta", eta)
    require_non_negative("sigma", sigma)
    require_positive("M", m)
    if k < m:
        raise ValueError(f"K must be >= M for the soft committee machine formula, got K={k}, M={m}")


def eps_erf_scm(k: int, m: int, eta: float, sigma: float) -> float:
    """Eq. 11: erf SCM, small eta: sigma^2 eta / (2 pi) (L + M / sqrt 3), L = K - M."""
    _check(k, m, eta, sigma)
    return sigma**2 * eta / (2 * math.pi) * ((k - m) + m / math.sqrt(3))


def eps_linear_scm(k: int, m: int, eta: float, sigma: float) -> float:
    """Eq. 12: linear SCM: eta sigma^2 (L + M) / (4 - 2 eta (L + M)), valid for eta K < 2."""
    _check(k, m, eta, sigma)
    if 2 * eta * k >= 4:
        raise ValueError(f"eta={eta} is too large for K={k}: eq. 12 needs eta K < 2")
    return eta * sigma**2 * k / (4 - 2 * eta * k)


def eps_erf_both_layers(k: int, eta: float, sigma: float, v_star: float) -> float:
    """Eq. 15: erf, both layers trained, M = 1, small eta: eta (sigma v*)^2 / (2 sqrt 3 K pi)."""
    _check(k, 1, eta, sigma)
    return eta * (sigma * v_star) ** 2 / (2 * math.sqrt(3) * k * math.pi)
