"""depth_wave's stored curves read back (the claim's table layout: `curves` and `preact`
frames per seed, variants labelled by k, '0' the main model, 'all' every layer linear), and
the divergence points d(k) of every variant (Pinson et al., Fig. 1)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sgdclaims.depth import divergence_step
from sgdclaims.runner import Result


def accuracy_curves(result: Result) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Evaluation steps, variant labels (config order) and accuracy (seeds, variants, T)."""
    labels = list(result.provenance["variants"])
    acc = [
        [s[s["variant"] == v]["acc"].to_numpy() for v in labels] for s in result.per_unit("curves")
    ]
    steps = result.per_unit("curves")[0].query("variant == '0'")["step"].to_numpy()
    return steps, labels, np.asarray(acc, dtype=float)


def preactivation_curves(result: Result, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation steps and mean preactivations (seeds, layers, T) of one variant."""
    n_layers = int(result.provenance["layers"])
    frames = [
        f[f["variant"] == variant].sort_values(["layer", "step"]) for f in result.per_unit("preact")
    ]
    steps = np.sort(frames[0]["step"].unique())
    return steps, np.stack([f["mean"].to_numpy().reshape(n_layers, -1) for f in frames])


def depth_of(label: str, n_layers: int) -> int:
    """Identity layers of a variant label ('all' = every layer)."""
    return n_layers if label == "all" else int(label)


def divergences(
    steps: np.ndarray, labels: Sequence[str], acc: np.ndarray, chance: float
) -> dict[str, float]:
    """d(k) of every variant but the main model (label '0'), from accuracy (variants, T)."""
    return {
        lab: divergence_step(steps, acc[0], acc[i], chance)
        for i, lab in enumerate(labels)
        if lab != "0"
    }
