"""class_order's config (Schouten & Toonen 2023, Sec. 3.2): the paper's settings as defaults,
and its cases, each change from the paper written beside its reason."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from sgdclaims import validate as checks
from sgdclaims.config import Cases, Config, Set
from sgdclaims.training import checkpoint_steps, epoch_steps

#: image shape (C, H, W) of every data set this claim runs on; models are built for it
SHAPES: dict[str, tuple[int, int, int]] = {
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}
MODELS = ("linear", "cnn", "vit")
NUM_CLASSES = 10
#: fewest test images for per-class terms (CLAIMS.md asks >= 2,000; smoke runs use fewer)
MIN_TEST = 200


@dataclasses.dataclass(frozen=True)
class ClassOrderConfig(Config):
    """Schouten & Toonen 2023 on MNIST; the defaults are their settings (Sec. 3.2)."""

    SMOKE: ClassVar[dict[str, Any]] = {
        "n_train": 256,
        "n_test": MIN_TEST,
        "steps": 12,
        "dense_until": 4,
        "n_dense": 2,
        "every": 4,
        "n_permutations": 99,
        "seeds": (0, 1),
    }

    dataset: str = "mnist"
    require_full: bool = True
    n_train: int | None = None
    n_test: int | None = None
    subset_seed: int = 0
    vit_patch_size: int = 4
    vit_layers: int = 4
    vit_heads: int = 4
    vit_hidden: int = 64
    vit_mlp: int = 128
    lr: float = 1e-3
    linear_lr: float = 1e-2
    batch_size: int = 64
    epochs: float = 50.0
    steps: int | None = None
    dense_until: int = 4000
    n_dense: int = 40
    every: int = 500
    control_seed: int = 0
    n_permutations: int = 9999
    seeds: tuple[int, ...] = tuple(range(5))

    def validate(self) -> None:
        """Raise ValueError naming the field for a config that cannot run."""
        checks.require_choice("dataset", self.dataset, sorted(SHAPES))
        for name in ("n_train", "n_test", "steps"):
            if getattr(self, name) is not None:
                checks.require_positive(name, getattr(self, name))
        if self.n_test is not None and self.n_test < MIN_TEST:
            raise ValueError(f"n_test must be >= {MIN_TEST} for per-class MI, got {self.n_test}")
        for name in ("vit_patch_size", "vit_layers", "vit_heads", "vit_hidden", "vit_mlp"):
            checks.require_positive(name, getattr(self, name))
        side = SHAPES[self.dataset][1]
        if side % self.vit_patch_size:
            raise ValueError(
                f"vit_patch_size {self.vit_patch_size} does not divide the {side}x{side} images "
                f"of {self.dataset}"
            )
        if self.vit_hidden % self.vit_heads:
            raise ValueError(f"vit_heads {self.vit_heads} does not divide vit_hidden")
        for name in ("lr", "linear_lr", "batch_size", "epochs", "dense_until", "every"):
            checks.require_positive(name, getattr(self, name))
        checks.require_positive("n_permutations", self.n_permutations)
        for name in ("n_dense", "subset_seed", "control_seed"):
            checks.require_non_negative(name, getattr(self, name))
        checks.require_seeds("seeds", self.seeds)

    def total_steps(self, n_train: int) -> int:
        """`steps` if set, else `epochs` passes over n_train images."""
        return self.steps or epoch_steps(self.epochs, n_train, self.batch_size)

    def checkpoints(self, steps: int) -> np.ndarray:
        """Step 0, n_dense log-spaced steps up to dense_until, every `every` steps, 3 in the
        last 5% of the run (the final value is their mean, CLAIMS.md)."""
        return checkpoint_steps(
            steps, dense_until=self.dense_until, n_dense=self.n_dense, every=self.every
        )


CASES = Cases(
    ClassOrderConfig,
    full={
        "mnist": {},
        "cifar10": {
            "dataset": Set("cifar10", "the paper's second data set (3-channel 32x32 patches)"),
            "epochs": Set(100.0, "the paper's CIFAR-10 run length (Sec. 3.2)"),
        },
        "fashion_mnist": {
            "dataset": Set(
                "fashion_mnist",
                "CLAIMS.md: Fashion-MNIST in every image claim's full tier; the paper's MNIST "
                "settings",
            ),
        },
    },
    fast={
        "mnist": {
            "require_full": Set(
                False, "the MNIST 10k subset (8,000 train / 2,000 test, the whole test split)"
            ),
            "steps": Set(
                300,
                "300 SGD steps (CPU time: the ViT costs ~0.06 CPU-s a training step on one core "
                "and ~0.8 CPU-s to predict the 2,000 test images at each of 16 checkpoints). At "
                "300 steps the claim's two fast cases already cost ~200 CPU-seconds on a 217 "
                "GFLOP/s core (~630 reference-seconds), about 2.1x its budget of 300, so no "
                "longer run was tried. The ViT is still learning then "
                "(in the run before 2026-12-03 its final recall was below 0.5 on 4-7 classes "
                "per seed), so `classes_learned` decides whether the ViT statistics are "
                "testable here",
            ),
        },
        "fashion_mnist": {
            "dataset": Set("fashion_mnist", "Fashion-MNIST, all 60,000 training images"),
            "n_test": Set(
                2000,
                "a seeded, class-stratified 2,000-image test subset (CLAIMS.md: >= 2,000; each "
                "checkpoint predicts it with two nets)",
            ),
            "steps": Set(
                300,
                "300 SGD steps, as on MNIST; not longer. Decided before the fixed-level W was "
                "computed: the review of 2026-12-03 found the CNN's final recall of shirt, coat "
                "and dress at 0.17-0.33 after 300 steps, so `classes_learned` (8 of 10 classes at "
                "recall >= 0.5) will likely fail and the tau statistics be not testable here. A "
                "longer run was not tried because the budget does not allow it: at 300 steps the "
                "claim's two fast cases already cost ~200 CPU-seconds on a 217 GFLOP/s core, about "
                "2.1x its budget of 300 reference-seconds (the ViT: ~0.06 CPU-s a training step "
                "and ~0.8 CPU-s to predict 2,000 test images at each of 16 checkpoints, per seed)",
            ),
        },
    },
    fast_common={
        "lr": Set(
            0.05,
            "0.05 for the CNN and the ViT (one shared lr, as in the paper) instead of 1e-3: at "
            "1e-3 the CNN's warm-up alone (the paper: ~4 of 50 epochs) is thousands of steps, "
            "beyond a CPU budget of 300 steps. At 0.05 the regime the paper describes remains: "
            "the CNN's warm-up (CLAIMS.md `warm_up`: steps until test accuracy first reaches 2 x "
            "chance) lasts 100-150 steps, a third to a half of the run (measured, 3 seeds, MNIST "
            "and Fashion-MNIST), while the ViT reaches 2 x chance at its first checkpoint (step "
            "25) in 5 of those 6 seeds and at step 75 in the sixth. Tried: 0.1, where the CNN's "
            "warm-up shrank to ~50 steps, as long as the ViT's (read then as the steps until "
            "accuracy first reaches 1.5 x chance; at 0.05 that reading and 2 x chance give the "
            "CNN the same warm-up in every seed). Because this lr was chosen to give the CNN its "
            "warm-up, which decides vit_sooner, that statistic is reported, not asserted, at "
            "fast scale (CLAIMS.md)",
        ),
        "linear_lr": Set(
            0.05,
            "0.05 instead of 1e-2, so that L is near its plateau within the short run; L only "
            "has to be a converged linear classifier",
        ),
        "n_dense": Set(0, "no log-spaced checkpoints: the run is short"),
        "every": Set(25, "a checkpoint every 25 steps: tau_c resolved to 25 of the 300 steps"),
        "seeds": Set((0, 1, 2), "3 seeds instead of the paper's 5 runs (CPU time)"),
    },
)
