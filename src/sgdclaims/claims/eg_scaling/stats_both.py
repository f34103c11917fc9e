"""eg_scaling's statistics with both layers trained (shared/CLAIMS.md, eg_scaling; Goldt et al.
2020, Sec. 3, Fig. 3c, eq. 15): from each start's own integration to alpha_max, over the
settled starts only; the share of starts that reached the denoising solution."""

from __future__ import annotations

import numpy as np

from sgdclaims.alive import Liveness, dead_runs
from sgdclaims.claims.eg_scaling.fits import (
    nanmax,
    permutation_p,
    settled_medians,
    settled_table,
    spearman_or_nan,
)
from sgdclaims.runner import Result
from sgdclaims.values import Value, seed_bootstrap


def both_values(result: Result, runs: dict[str, list[Liveness]]) -> dict[str, Value]:
    """both_settled, both_layers_decrease (Spearman of K and the per-K median over settled
    starts, its exact permutation p), the share of starts at the denoising solution and eq. 15
    beside the M = 1 part."""
    cfg, frame, eq15 = result.config, result.frame("both"), result.frame("eq15")
    dead = dead_runs(runs["both"])
    table = settled_table(frame, cfg.sigma**2)
    ks = table.columns.to_numpy(dtype=float)
    counts = table.notna().sum()
    med = settled_medians(table)
    p = permutation_p(spearman_or_nan, ks, med, lower=True)
    every = frame.groupby("k").eps_reached.median() / cfg.sigma**2
    larger = frame[frame.k > cfg.m]
    share = larger.groupby("k").denoising.mean()
    status = "; ".join(
        f"K={r.k} start {r.start}: {r.status}, {r.groups}" for r in frame.itertuples()
    )
    ratio = (eq15.eps_reached / eq15.eq15).where(eq15.settled.astype(bool))
    by_k = ratio.groupby(eq15.k).median()
    return {
        "both_settled": Value(
            counts.min(), counts, "settled starts of the K with the fewest; per K", dead=dead
        ),
        "both_layers_decrease": Value(
            spearman_or_nan(ks, med),
            [spearman_or_nan(ks, row) for row in table.to_numpy()],
            "Spearman of K and the per-K median over settled starts of eps_reached/sigma^2 "
            "(in details also the median of all starts); per start. Exact permutation p = "
            f"{p:.3g}. Starts: {status}",
            {
                "permutation p": p,
                **{f"K={k:g}": v for k, v in zip(ks, med)},
                **{f"K={k} all starts": v for k, v in every.items()},
            },
            dead=dead,
            replicates=seed_bootstrap(
                len(table), lambda idx: spearman_or_nan(ks, settled_medians(table, idx))
            ),
        ),
        "both_denoising": Value(
            larger.denoising.mean(),
            note="share of the starts with K > M whose end state is the denoising solution "
            "(every unit specialised, cosine >= 0.9, with v > 0, the units spread over the "
            "teacher units as evenly as K allows); per K in details",
            details={f"K={k}": v for k, v in share.items()},
        ),
        "eq15_ratio": Value(
            nanmax(np.abs(by_k - 1)),
            note=f"M=1, eta={cfg.eq15_eta:g}: max over K of |eps_reached / eq. 15 - 1|, the "
            "median over settled starts (NaN for a K without one); per K in details",
            details={
                **{f"K={k}": v for k, v in by_k.items()},
                **{f"K={k} settled": v for k, v in eq15.groupby("k").settled.sum().items()},
            },
        ),
    }
