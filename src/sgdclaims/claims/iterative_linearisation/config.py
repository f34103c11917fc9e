"""iterative_linearisation's config (Goldwaser & Ge, Sec. 3-4, Fig. 1-2): the paper's settings
as defaults, and its cases, each change from the paper written beside its reason.

Loss normalisation: the paper's update (Sec. 3, App. A eq. 5) has no 1/n, so its step
`eta` is per example on a summed loss. The code uses the mean cross-entropy, so the step
it takes is lr = eta x n_train (MNIST, 60,000 images: eta 1e-5 -> lr 0.6).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from sgdclaims.config import Cases, Config, Set
from sgdclaims.curves import tail_steps
from sgdclaims.linearise import check_periods
from sgdclaims.training import checkpoint_steps
from sgdclaims.validate import require_choice, require_positive, require_seeds

DATASETS = ("mnist", "fashion_mnist", "cifar10")
#: how the linear maps are computed: LeNet-5's written out, or torch.func on the module
MAPS = ("lenet", "torch.func")
INF = math.inf
#: the K that k_insensitive compares with K = 1 (CLAIMS.md)
INSENSITIVE = (10, 100)


@dataclasses.dataclass(frozen=True)
class IterativeLinearisationConfig(Config):
    """Fixed-period iterative linearisation; defaults are the paper's setting on MNIST (Fig.
    1-2: full batch, K in {1, 10, 100, 1000, inf}, eta 1e-5, instability at eta 1e-4)."""

    SMOKE: ClassVar[dict[str, Any]] = {
        "n_train": 16,
        "n_test": 40,
        "channels": 4,
        "steps": 30,
        "every": 10,
        "dense_every": 5,
        "eta": 0.02 / 16,
        "unstable_eta": 0.2 / 16,
        "staircase_period": 10,
        "periods": (1, 10, 100, INF),
        "control_periods": (10,),
        "seeds": (0,),
        "k1_steps": 3,
        "k1_n": 4,
        "cost_reps": 1,
        "sharpness_iters": 2,
    }

    dataset: str = "mnist"
    require_full: bool = True
    n_train: int | None = None
    n_test: int | None = None
    subset_seed: int = 0
    side: int | None = None
    standardise: bool = False
    channels: int = 50
    maps: str = "torch.func"
    eta: float = 1e-5
    unstable_eta: float = 1e-4
    periods: tuple[float, ...] = (1, 10, 100, 1000, INF)
    staircase_period: float = 1000
    control_periods: tuple[float, ...] = (10, 100)
    steps: int = 20_000
    every: int = 500
    dense_every: int = 25
    seeds: tuple[int, ...] = (0, 1, 2)
    group_size: int | None = 2
    kernel_from: float = INF
    check_every: int = 10
    sharpness_iters: int = 20
    eval_chunk: int = 500
    k1_steps: int = 20
    k1_n: int = 32
    cost_reps: int = 3

    def validate(self) -> None:
        """Raise ValueError naming the field for a config that cannot run."""
        require_choice("dataset", self.dataset, DATASETS)
        require_choice("maps", self.maps, MAPS)
        for name in ("n_train", "n_test", "side", "group_size"):
            if getattr(self, name) is not None:
                require_positive(name, getattr(self, name))
        if self.side is not None and self.side < 16:
            raise ValueError(f"side must be >= 16 (LeNet-5's two 5x5 convs), got {self.side}")
        positive = ("channels", "eta", "unstable_eta", "steps", "every", "dense_every")
        for name in (*positive, "k1_steps", "k1_n", "cost_reps", "check_every", "eval_chunk"):
            require_positive(name, getattr(self, name))
        require_positive("sharpness_iters", self.sharpness_iters)
        require_positive("kernel_from", self.kernel_from, allow_inf=True)
        require_seeds("seeds", self.seeds)
        check_periods("periods", self.periods, (1, *INSENSITIVE, INF))
        check_periods("control_periods", self.control_periods)
        if not set(self.control_periods) <= set(self.periods):
            raise ValueError(f"control_periods {self.control_periods} must be in periods")
        if self.staircase_period not in self.periods or math.isinf(self.staircase_period):
            raise ValueError(f"staircase_period must be a finite K of periods {self.periods}")
        if self.steps < 2 * self.staircase_period:
            raise ValueError(f"steps {self.steps} leave no staircase window after the first")

    def lr(self, n_train: int, eta: float | None = None) -> float:
        """The step in the code's mean-loss units: eta (per example, summed loss) x n_train."""
        return (self.eta if eta is None else eta) * n_train

    def checkpoints(self) -> np.ndarray:
        """Step 0, every `every` steps and 3 in the last 5% (the final value's window)."""
        return checkpoint_steps(self.steps, dense_until=1, n_dense=0, every=self.every)

    def dense_checkpoints(self) -> np.ndarray:
        """The checkpoints and every `dense_every` steps in the first third of the run (K = 1's
        accuracy at the step it matches K = inf's final training loss)."""
        early = np.arange(0, self.steps // 3 + 1, self.dense_every)
        return np.unique(np.concatenate([self.checkpoints(), early]))

    def network_checkpoints(self) -> np.ndarray:
        """Where the network's own test accuracy is measured too: step 0 and the final 5%."""
        return np.unique(np.concatenate([[0], tail_steps(self.steps)]))


_PAPER_STEP = "the paper's step, eta 1e-5 per example on a summed loss (Sec. 3, App. A eq. 5)"
_LR = (
    "lr {lr} = eta x 128 in mean-loss units (eta = {eta:.2g} per example on the summed loss, "
    "{ratio:.2g}x the paper's 1e-5, whose mean-loss lr at n = 60,000 is 0.6): the largest of "
    "0.005, 0.01, 0.02 whose K = 1 run "
    "(seed 0) keeps lr x sharpness / 2 <= 0.5, a factor 2 below the linearised loss's "
    "stability limit; measured peak sharpness: {measured}. The margin comes from a probe made "
    "before the revised spec (the first fast config: 64 training images, one seed, T <= 480), "
    "not rerun here: at lr 0.02 K = 10 diverged at the main lr (MNIST at step 380, "
    "Fashion-MNIST at 271; lr 0.03 with 128 images: step 261), which fails k_insensitive (a "
    "diverged K fails it) and, under the revised spec, alive. The paper's lr 0.6 is far above "
    "that limit here"
)
_LARGE = (
    "lr {lr} = 10 x the main lr, the paper's ratio (eta 1e-4 against 1e-5; here eta = {eta:.2g} "
    "per example)"
)
_FULL_MAPS = (
    "torch.func on the module, member by member: the written-out maps keep conv2's patches, "
    "5.6x conv2's input at 28x28, which for 60,000 images does not fit one GPU"
)
CASES = Cases(
    IterativeLinearisationConfig,
    full={
        "mnist": {"maps": Set("torch.func", _FULL_MAPS)},
        "cifar10": {
            "dataset": Set("cifar10", "their second data set, CIFAR-10 (Fig. 2); " + _PAPER_STEP),
            "maps": Set("torch.func", _FULL_MAPS),
        },
        "fashion_mnist": {
            "dataset": Set(
                "fashion_mnist",
                "CLAIMS.md: Fashion-MNIST in every full tier, at the paper's MNIST setting; "
                + _PAPER_STEP,
            ),
            "maps": Set("torch.func", _FULL_MAPS),
        },
    },
    fast={
        "mnist": {
            "require_full": Set(False, "the MNIST 10k subset (8,000 train / 2,000 test)"),
            "eta": Set(
                0.01 / 128,
                _LR.format(
                    lr=0.01,
                    eta=0.01 / 128,
                    ratio=0.01 / 128 / 1e-5,
                    measured="~85 at lr 0.01 and 0.02",
                ),
            ),
            "unstable_eta": Set(0.1 / 128, _LARGE.format(lr=0.1, eta=0.1 / 128)),
        },
        "fashion_mnist": {
            "eta": Set(
                0.005 / 128,
                _LR.format(
                    lr=0.005,
                    eta=0.005 / 128,
                    ratio=0.005 / 128 / 1e-5,
                    measured="~150 by step 1,500 at lr 0.005; at lr 0.01 it passes 2 / lr "
                    "(edge of stability)",
                ),
            ),
            "unstable_eta": Set(0.05 / 128, _LARGE.format(lr=0.05, eta=0.05 / 128)),
        },
    },
    fast_common={
        "n_train": Set(128, "128 stratified training images (CLAIMS.md: >= 128; CPU time)"),
        "n_test": Set(2000, "2,000 stratified test images (CLAIMS.md: >= 2,000)"),
        "side": Set(16, "inputs area-downsampled to 16x16: a step is ~7x cheaper than at 28x28"),
        "standardise": Set(
            True,
            "inputs standardised with the training split's mean and std: raw pixels give a "
            "long initial plateau that T = 1,500 cannot afford",
        ),
        "maps": Set(
            "lenet",
            "LeNet-5's maps written out (matrix products over patches): a linearised step ~2x "
            "cheaper on one CPU core than torch.func, whose small convolutions mkldnn runs at "
            "a quarter of matmul speed (measured); the same numbers to float rounding (a test)",
        ),
        "periods": Set((1, 10, 100, 300, INF), "K = 300 as the staircase K (CPU time)"),
        "staircase_period": Set(
            300,
            "the smallest staircase K CLAIMS.md allows: 5 windows in T = 1,500, so the median "
            "is over 4 (K = 500 would leave 2)",
        ),
        "control_periods": Set(
            (100,),
            "one control K: each refresh of the control costs a test-set pass (its offset), 15 "
            "at K = 100, 150 at K = 10",
        ),
        "steps": Set(1500, "T = 1,500 full-batch steps (CLAIMS.md: >= 1,500; CPU time)"),
        "every": Set(250, "a checkpoint every 250 steps (each evaluates 2,000 test images)"),
        "seeds": Set((0, 1), "2 seeds per data set (CLAIMS.md: >= 2; 3 do not fit the budget)"),
        "group_size": Set(
            1,
            "one run per computation at fast scale: on one CPU core a run's step costs more "
            "inside a group than alone (measured per run, the same step: 5.5 ms alone, 6.3 in "
            "a group of 2, 7.5 in a group of 4; a K = 1 unit of 4 runs 50 s alone against 61 s "
            "as one group): the step is bound by arithmetic and memory traffic, not by "
            "per-operation overhead, and a group's larger tensors leave the cache. Groups "
            "(every run of one K) are what the full tier uses, and a test keeps them equal "
            "to separate runs",
        ),
        "kernel_from": Set(
            100,
            "K >= 100 trained in function space (z <- z - lr K u with the window's tangent "
            "kernel, 1,280 x 1,280 here): the same iterates; a kernel costs ~20 steps, so it "
            "pays from K ~ 20 on, and K = 10 stays in parameter space",
        ),
    },
)
