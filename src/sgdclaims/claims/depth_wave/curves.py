"""depth_wave's stored curves read back (the claim's table layout: `curves`, `preact` and
`runs` frames per seed, members labelled '0' (the main model), '2', ..., 'all' (first k
layers linear), 'last2', ... (last k layers linear) and 'twin_a', 'twin_b' (twin runs of the
main model)), whether each run is alive, and the divergence points d(k) (Pinson et al.,
Fig. 1; shared/CLAIMS.md, depth_wave)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

from sgdclaims.alive import Liveness, liveness, run_name
from sgdclaims.depth import divergence_step
from sgdclaims.runner import Result

MAIN = "0"


@dataclasses.dataclass(frozen=True)
class Curves:
    """A case's accuracy curves: evaluation steps (T,), member labels, accuracy (seeds,
    members, T), the run length, the number of layers and chance; and which runs are alive."""

    steps: np.ndarray
    labels: list[str]
    acc: np.ndarray
    total: float
    layers: int
    chance: float
    first: list[str]
    last: list[str]
    twins: list[str]
    runs: list[Liveness]
    seeds: list[object]

    def of(self, label: str) -> np.ndarray:
        """(seeds, T) accuracy of one member."""
        return self.acc[:, self.labels.index(label)]

    def dead(self, labels: Iterable[str]) -> tuple[str, ...]:
        """The runs of these members (every seed) that are not alive."""
        names = {run_name(seed, f"k={label}") for seed in self.seeds for label in labels}
        return tuple(r.run for r in self.runs if r.run in names and not r.alive)

    def depth(self, label: str) -> int:
        """The number of identity layers of a member."""
        if label == "all":
            return self.layers
        return int(label.removeprefix("last")) if label.startswith("last") else int(label)


def read(result: Result) -> Curves:
    """The curves of a result and the liveness of every seed and member."""
    labels = list(result.provenance["variants"])
    frames = result.per_unit("curves")
    acc = np.asarray(
        [[f[f["variant"] == v]["acc"].to_numpy() for v in labels] for f in frames], dtype=float
    )
    steps = frames[0].query("variant == @MAIN")["step"].to_numpy()
    classes = int(result.provenance["num_classes"])
    runs = []
    for s, frame, table in zip(
        result.units, frames, result.per_unit("runs", "variant"), strict=True
    ):
        diverged = dict(zip(table["variant"], table["diverged"]))
        for v in labels:
            rows = frame[frame["variant"] == v]
            runs.append(
                liveness(
                    run_name(s, f"k={v}"),
                    rows["step"],
                    rows["acc"],
                    rows["n_predicted"],
                    str(diverged[v]),
                    classes,
                )
            )
    return Curves(
        steps,
        labels,
        acc,
        float(result.provenance["steps"]),
        int(result.provenance["layers"]),
        1.0 / classes,
        list(result.provenance["first"]),
        list(result.provenance["last"]),
        list(result.provenance["twins"]),
        runs,
        list(result.units),
    )


def preactivation_curves(result: Result, variant: str = MAIN) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation steps and train-mode mean preactivations (seeds, layers, T) of a member."""
    n_layers = int(result.provenance["layers"])
    frames = [
        f[f["variant"] == variant].sort_values(["layer", "step"]) for f in result.per_unit("preact")
    ]
    steps = np.sort(frames[0]["step"].unique())
    return steps, np.stack([f["mean"].to_numpy().reshape(n_layers, -1) for f in frames])


def divergences(c: Curves, labels: Sequence[str], acc: np.ndarray) -> np.ndarray:
    """d(k) of the members `labels` against the main model, from accuracy (..., members, T)
    of the same layout as c.acc (seed means or bootstrap draws)."""
    main = acc[..., c.labels.index(MAIN), None, :]
    rows = acc[..., [c.labels.index(lab) for lab in labels], :]
    return np.asarray(divergence_step(c.steps, main, rows, c.chance))
