"""linear_early's config (Nakkiran et al. 2019, Sec. 3): the paper's settings as defaults, and
its cases, each change from the paper written beside its reason."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from sgdclaims import validate as checks
from sgdclaims.config import Cases, Config, Set
from sgdclaims.data.tasks import FIRST_VS_LAST_HALF, check_groups
from sgdclaims.training import checkpoint_steps

#: classes per data set this claim knows (groups are checked against them)
NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "cifar10": 10, "sinusoid_disc": 2}
#: the fewest test examples for which a plug-in MI estimate of a binary task means anything
MIN_TEST = 100
#: the early window: 0.2 I(L;Y) <= I(F_t;Y) <= 0.8 I(L;Y) (CLAIMS.md, linear_early); the
#: lr_sensitivity runs stop past its end
WINDOW = (0.2, 0.8)


@dataclasses.dataclass(frozen=True)
class LinearEarlyConfig(Config):
    """Nakkiran et al. 2019 Sec. 3 on MNIST 0-4 vs 5-9; defaults are the paper's settings."""

    SMOKE: ClassVar[dict[str, Any]] = {
        "n_train": 256,
        "n_test": 2 * MIN_TEST,
        "epochs": 2.0,
        "early_until": 4,
        "early_every": 2,
        "n_log": 2,
        "every": 4,
        "l_max_iter": 20,
        "train_sample": 64,
        "seeds": (0, 1),
    }

    dataset: str = "mnist"
    groups: tuple[tuple[int, ...], tuple[int, ...]] = FIRST_VS_LAST_HALF
    require_full: bool = True
    n_train: int | None = None
    n_test: int | None = None
    subset_seed: int = 0
    model: str = "cnn"
    mlp_hidden: tuple[int, ...] = (256, 256)
    lr: float = 1e-3
    batch_size: int = 64
    epochs: float = 50.0
    early_until: int = 10_000
    early_every: int = 100
    n_log: int = 40
    every: int = 500
    l_weight_decay: float = 1e-4
    l_max_iter: int = 500
    control_seed: int = 0
    seeds: tuple[int, ...] = tuple(range(10))
    #: F's training accuracy (the `fits_training_set` precondition) is measured at the
    #: checkpoints of the last 5% on a seeded sample of this many training examples
    train_sample: int = 5000
    #: lr_sensitivity (reported): early_explained at these multiples of lr, each run for
    #: steps / factor steps with checkpoints early_every / factor apart (only the early
    #: window matters); () for none (the paper gives no lr sensitivity)
    lr_factors: tuple[float, ...] = ()

    def validate(self) -> None:
        """Raise ValueError naming the field for a config that cannot run."""
        checks.require_choice("dataset", self.dataset, sorted(NUM_CLASSES))
        check_groups(self.groups, NUM_CLASSES[self.dataset])
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                checks.require_positive(name, getattr(self, name))
        if self.n_test is not None and self.n_test < MIN_TEST:
            raise ValueError(f"n_test must be >= {MIN_TEST} for a plug-in MI, got {self.n_test}")
        checks.require_choice("model", self.model, ["cnn", "mlp"])
        if self.model == "cnn" and self.dataset == "sinusoid_disc":
            raise ValueError("model 'cnn' needs images; use model='mlp' for sinusoid_disc")
        if not self.mlp_hidden or any(int(h) != h or h < 1 for h in self.mlp_hidden):
            raise ValueError(f"mlp_hidden must be positive widths, got {self.mlp_hidden!r}")
        for name in ("lr", "batch_size", "epochs", "early_until", "early_every", "every"):
            checks.require_positive(name, getattr(self, name))
        checks.require_positive("l_max_iter", self.l_max_iter)
        checks.require_positive("train_sample", self.train_sample)
        if any(not f > 1 for f in self.lr_factors):
            raise ValueError(f"lr_factors must be multiples above 1, got {self.lr_factors!r}")
        for name in ("n_log", "l_weight_decay", "subset_seed", "control_seed"):
            checks.require_non_negative(name, getattr(self, name))
        checks.require_seeds("seeds", self.seeds)

    def checkpoints(self, steps: int) -> np.ndarray:
        """Every `early_every` steps (and n_log log-spaced ones) up to early_until, then every
        `every` steps, and 3 in the last 5% (CLAIMS.md: dense early, then linear)."""
        return checkpoint_steps(
            steps,
            dense_until=self.early_until,
            n_dense=self.n_log,
            every=self.every,
            dense_every=self.early_every,
        )


CASES = Cases(
    LinearEarlyConfig,
    full={
        "mnist": {},
        "cifar10": {
            "dataset": Set("cifar10", "the paper's second data set: CIFAR-10, first 5 vs last 5"),
            "epochs": Set(100.0, "the paper's CIFAR-10 run length (Sec. 3)"),
        },
        "fashion_mnist": {
            "dataset": Set(
                "fashion_mnist",
                "CLAIMS.md: Fashion-MNIST in every image claim's "
                "full tier, 0-4 vs 5-9 with the paper's MNIST settings",
            ),
        },
    },
    fast={
        "sinusoid_disc": {
            "dataset": Set("sinusoid_disc", "the synthetic task of their Fig. 1"),
            "groups": Set(((0,), (1,)), "the synthetic disc has two classes: 0 vs 1"),
            "model": Set("mlp", "the Fig. 1 task has 2-d inputs: F is an MLP, as in the paper"),
            "lr": Set(
                0.05,
                "the disc MLP at 0.1 learns the linear part within ~5 steps, too fast to put "
                "5 checkpoints in the early window (window_points); chosen in issue 13, before "
                "the revised spec. That choice also cited that at 0.1 the MLP did not outgrow "
                "L, an outcome of a statistic: flagged here, not hidden",
            ),
            "epochs": Set(10.0, "the disc MLP needs 10 epochs (1,250 cheap steps)"),
            "early_until": Set(60, "the disc MLP's early phase lies in its first ~60 steps"),
            "early_every": Set(1, "every step in the disc MLP's early phase"),
            "every": Set(125, "after the early phase once an epoch"),
        },
        "mnist": {
            "require_full": Set(
                False, "the MNIST 10k subset (8,000 train / 2,000 test, the whole test split)"
            ),
            "epochs": Set(
                24.0,
                "24 epochs of 8,000 images (3,000 steps): the CNN passes the "
                "early window by step ~2,400 and then grows past L",
            ),
            "early_until": Set(2500, "the early window lies within the first ~2,500 steps"),
            "early_every": Set(
                100,
                "every 100 steps there: >= 5 checkpoints in each seed's "
                "window (each checkpoint costs as much CPU as ~10 steps)",
            ),
            "lr_factors": Set(
                (2.0, 10.0),
                "CLAIMS.md: lr_sensitivity (reported), early_explained at 2x and 10x the "
                "fast lr on MNIST, 3 seeds; each run 3,000 / factor steps, long enough to "
                "cross the early window at that lr (fixed before the runs)",
            ),
        },
        "fashion_mnist": {
            "n_test": Set(
                2000,
                "a seeded, class-stratified 2,000-image test subset "
                "(CLAIMS.md: >= 2,000); all 60,000 training images",
            ),
            "epochs": Set(2.0, "2 epochs of 60,000 images (1,874 steps, CPU time)"),
            "early_until": Set(1250, "the early window lies within the first ~1,250 steps"),
            "early_every": Set(
                50,
                "every 50 steps there: >= 5 checkpoints in each seed's "
                "window, which the CNN crosses in ~500-900 steps",
            ),
        },
    },
    fast_common={
        "lr": Set(
            5e-3,
            "5e-3 instead of the paper's 1e-3 for the CNN: the smallest lr tried at which the "
            "CNN leaves its one-class warm-up (500-1,250 steps on MNIST, 250-400 on "
            "Fashion-MNIST; 3 seeds), passes the early window and, on MNIST, grows past L "
            "within a CPU budget of ~3,000 steps; at 1e-3 it still predicts one class after "
            "3,000 steps. Tried: 1e-2, 2e-2, 5e-2 and 0.1 (closing note of issue 13). "
            "early_explained falls as the lr grows: lr_sensitivity reports it at 2x and 10x",
        ),
        "n_log": Set(0, "no log-spaced checkpoints; early_every covers the early phase"),
        "every": Set(250, "after the early phase every 250 steps"),
        "seeds": Set((0, 1, 2), "3 seeds instead of 10 (CPU time)"),
    },
)
