"""depth_wave's falsifiability (shared/CLAIMS.md, Falsifiability): for each control a result on
which it meets its statistic's criterion (the proof that it can fail), and the sabotage suite:
results in which the claim is false by construction (a seed that collapses to one class, a
seed whose loss turns NaN, layers made exchangeable), none of which may come out supported."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sgdclaims.claims.depth_wave.constructed import Seed, fast_config, result_of
from sgdclaims.runner import Result

SEEDS = (0, 1, 2)
#: a deep-first wave on the fast grid: the fully linear model at once, then 8, 6, 4 layers
WAVE = {"all": 4.0, "8": 30.0, "6": 60.0, "4": 100.0}
#: the main model's layers turning negative deep-first (layer 9 first)
DEEP_FIRST = [float(s) for s in (110, 100, 90, 80, 70, 60, 50, 40, 30, 20)]


def healthy(**d: float) -> dict[int, Seed]:
    """Three seeds on which every statistic is supported (with `d` overriding members)."""
    return {s: Seed({**WAVE, **d}, list(DEEP_FIRST)) for s in SEEDS}


def count_not_depth() -> Result:
    """The last-k variants diverge as the first-k do, by the number of linear layers: the
    specificity control's rho is -1, so wave_monotone cannot tell depth from count."""
    return result_of(healthy(last8=30.0, last6=60.0, last4=100.0))


def twins_apart() -> Result:
    """One twin group falls behind the other at once: seed noise as large as d(all)."""
    return result_of(healthy(twin_b=4.0))


def collapsed_seed() -> Result:
    """Seed 1's main model predicts one class from the middle of the run on."""
    plans = healthy()
    plans[1].collapsed["0"] = fast_config().steps / 2
    return result_of(plans)


def nan_seed() -> Result:
    """Seed 2's main model's loss turns NaN at step 50 (the divergence rule fires)."""
    plans = healthy()
    plans[2].nan["0"] = 50.0
    return result_of(plans)


def exchangeable_layers() -> Result:
    """Which layers are linear does not matter and neither does how many: every member tracks
    the main model, and each seed's layers turn negative in a random order."""
    rng = np.random.default_rng(7)
    return result_of({s: Seed({}, list(rng.permutation(DEEP_FIRST))) for s in SEEDS})


DEMONSTRATIONS: dict[str, Callable[[], Result]] = {
    "wave_monotone_control": count_not_depth,
    "linear_diverges_first_control": twins_apart,
}
SABOTAGE: dict[str, Callable[[], Result]] = {
    "collapsed_seed": collapsed_seed,
    "nan_seed": nan_seed,
    "exchangeable_layers": exchangeable_layers,
}
