"""eg_scaling's tables (shared/CLAIMS.md, eg_scaling): eps_branch per K and eta with its Newton
certificate and top eigenvalue, eps_reached per K and start with its drift and status
(Goldt et al. 2020, Fig. 2a), the SGD asymptotes per L and seed with their settledness, and
each start with both layers trained (Fig. 3c, eq. 15)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sgdclaims.claims.eg_scaling.stats_sgd import CHANGE
from sgdclaims.figure import Table

Rows = tuple[list[str], list[list[Any]]]


def branch(data: dict[str, Any]) -> Rows:
    """One row per K and eta: eps_branch (median over starts), the worst residual, the top
    eigenvalue and whether the point is a saddle."""
    s2, frame = data["sigma"] ** 2, pd.DataFrame(data["branch"])
    rows = []
    for (k, eta), one in frame.groupby(["k", "eta"]):
        eig = float(np.median(one.max_eig))
        unit = eta**2 * s2 * 2 / np.pi
        kind = "saddle" if eig > 0 else "stable" if eig <= 0 else "not converged"
        rows.append(
            [
                int(k),
                eta,
                f"{np.median(one.eps_branch) / s2:.6f}",
                f"{one.eq11.iloc[0] / s2:.6f}",
                f"{one.residual.max():.1e}",
                f"{eig:.3e}",
                f"{eig / unit:+.3f}",
                kind,
            ]
        )
    cols = [
        "K",
        "eta",
        "eps_branch/s2",
        "eq. 11",
        "residual",
        "top eigenvalue",
        "/(eta^2 s2 2/pi)",
        "point",
    ]
    return cols, rows


def reached(data: dict[str, Any]) -> Rows:
    """One row per K and start: eps_reached, its ratio to eps_branch, drift and status."""
    s2, frame = data["sigma"] ** 2, pd.DataFrame(data["reached"])
    at = pd.DataFrame(data["branch"])
    at = at[at.eta == data["ode_eta"]].groupby("k").eps_branch.median()
    rows = [
        [
            int(r.k),
            int(r.start),
            f"{r.eps_reached / s2:.5f}",
            f"{r.eps_reached / at[r.k]:.4f}",
            f"{r.drift:.1e}",
            r.status,
        ]
        for r in frame.itertuples()
    ]
    return ["K", "start", "eps_reached/s2", "/ eps_branch", "drift (decade)", "status"], rows


def starts(key: str) -> Callable[[dict[str, Any]], Rows]:
    """The table builder of a both-layer part ('both' or 'eq15'): one row per K and start."""

    def build(data: dict[str, Any]) -> Rows:
        s2, frame = data["sigma"] ** 2, pd.DataFrame(data[key])
        rows = [
            [
                int(r.k),
                int(r.start),
                f"{r.eps_reached / s2:.5f}",
                f"{r.drift:.1e}",
                r.status,
                "yes" if r.denoising else "no",
                r.groups,
            ]
            for r in frame.itertuples()
        ]
        cols = ["K", "start", "eps_reached/s2", "drift (decade)", "status", "denoising", "groups"]
        return cols, rows

    return build


def sgd(data: dict[str, Any]) -> Rows:
    """One row per part, L and seed: the final SGD eps_g, its change over the last half of
    the horizon, and whether its L is settled (every seed below 10%)."""
    s2, rows = data["sigma"] ** 2, []
    for part in ("sgd", "relu"):
        frame = pd.DataFrame(data[f"{part}_runs"])
        settled = frame.groupby("L").change.transform(lambda c: bool((c < CHANGE).all()))
        for r, ok in zip(frame.itertuples(), settled):
            rows.append(
                [
                    "erf" if part == "sgd" else "ReLU",
                    int(r.L),
                    int(r.seed),
                    f"{r.eps_sgd / s2:.4f}",
                    f"{r.change:.3f}",
                    "yes" if ok else "no",
                ]
            )
    return ["SCM", "L", "seed", "eps/s2", "change (last half)", "L settled"], rows


TABLES = (
    Table(
        "branch",
        "eps_branch, the eq. 10 fixed point (surplus units identical), per K and "
        "eta: Newton's residual and the top Jacobian eigenvalue (a saddle where positive).",
        branch,
    ),
    Table(
        "reached",
        "eps_reached, each random start integrated to alpha_max, per K: its ratio "
        "to eps_branch, its drift over the last decade and status.",
        reached,
    ),
    Table(
        "sgd",
        "SGD asymptotes (erf and ReLU soft committee machines) per L and seed, with "
        "the change over the last half of the horizon.",
        sgd,
    ),
    Table("both", "Both layers trained (Fig. 3c): each start's own integration.", starts("both")),
    Table("eq15", "Both layers trained, M = 1 at small eta (eq. 15).", starts("eq15")),
)
