"""class_order's falsifiability (shared/CLAIMS.md, Falsifiability): for each control a result
on which it meets its statistic's criterion, and the sabotage suite, results in which the
claim is false by construction. Each is built from constructed test predictions passed
through the experiment's own `measure` (per-class terms, the class-blind surrogates drawn as
in a run, liveness records), never by writing a statistic's input directly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from sgdclaims.claims.class_order.config import CASES, NUM_CLASSES
from sgdclaims.claims.class_order.measure import measure
from sgdclaims.runner import Result, UnitResult, combine
from sgdclaims.training import Trajectory

#: the constructed CNN's order: 0 and 1 first, 8 and 5 last (the paper's MNIST order)
ORDER = (1, 0, 7, 4, 6, 2, 3, 9, 8, 5)
#: test images per class, seeds, and the run (the fast case's checkpoints)
PER_CLASS, SEEDS, STEPS = 200, (0, 1, 2), 300
Y = torch.arange(NUM_CLASSES).repeat_interleave(PER_CLASS)
#: the step from which a class is learned: CNN class k-th in ORDER at 25 + 15 k; the ViT at
#: half those steps; the linear model learns every class from step 10; each over RAMP steps
CNN_START = 25.0 + 15.0 * np.argsort(ORDER)
RAMP = 40.0
#: the imbalanced test set of the controls' demonstration (3,080 images): class 7 39%, 0 and
#: 1 a fifth each, 5 and 8 1.3% each, the other five 3.9% each. At equal recall the fixed
#: level is reached first by the classes of a fifth (accuracy 0.498), then by those of 3.9%
#: (0.532), the dominant one (0.542) and the rarest (0.577): the paper's MNIST order from
#: class sizes alone. (Near-equal sizes move these accuracies by tenths of a point only.)
IMBALANCED = (600, 600, 120, 120, 120, 40, 120, 1200, 40, 120)


def predictions(recall: np.ndarray, seed: int, y: torch.Tensor = Y) -> torch.Tensor:
    """(T, n) predictions for labels y sorted by class, with exactly round(recall[t, c] n_c)
    right in every class c (a nested random set per seed) and the wrong ones spread evenly
    over the other classes."""
    rng = np.random.default_rng(seed)
    labels = y.numpy()
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    within = np.arange(len(labels)) - np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.concatenate([rng.permutation(n) for n in counts])
    right = rank[None, :] < np.round(recall[:, labels] * counts[labels])
    wrong = (labels + 1 + within % (NUM_CLASSES - 1)) % NUM_CLASSES
    return torch.from_numpy(np.where(right, labels, wrong))


def trajectory(
    start: np.ndarray,
    seed: int,
    final: float = 0.9,
    y: torch.Tensor = Y,
    steps: np.ndarray | None = None,
    ramp: float = RAMP,
) -> Trajectory:
    """A model that learns class c from step start[c] over `ramp` steps up to recall `final`,
    on test labels y, at `steps` (the fast case's checkpoints unless given)."""
    steps = CASES.config("fast", "mnist").checkpoints(STEPS) if steps is None else steps
    recall = final * np.clip((steps[:, None] - start[None, :]) / ramp, 0.0, 1.0)
    preds = predictions(recall, seed, y)
    return Trajectory(
        steps=steps,
        test_preds=preds,
        test_acc=(preds == y).double().mean(dim=1).numpy(),
        train_loss=np.linspace(2.3, 0.4, len(steps)),
        n_predicted=np.array([len(torch.unique(p)) for p in preds]),
    )


def healthy(seed: int) -> dict[str, Trajectory]:
    """One seed in which the claim holds: the CNN learns the classes in ORDER, the ViT in the
    same order in half the time, the linear model every class early."""
    return {
        "linear": trajectory(np.full(NUM_CLASSES, 10.0), 10 * seed, final=0.8),
        "cnn": trajectory(CNN_START, 10 * seed + 1),
        "vit": trajectory(CNN_START / 2, 10 * seed + 2),
    }


def result_of(seeds: dict[int, dict[str, Trajectory]], y: torch.Tensor = Y) -> Result:
    """A Result of constructed seeds on test labels y, measured (surrogates included) and
    combined as the experiment would."""
    units = {
        seed: UnitResult(frames=measure(t, y, seed, per_epoch=125), scalars={"steps": STEPS})
        for seed, t in seeds.items()
    }
    return combine(CASES.config("fast", "mnist"), "constructed", list(units), units, 0.0, 0)


def _stopped(traj: Trajectory, at: int, rule: str = "") -> Trajectory:
    """traj predicting class 0 only from step `at` on (a collapse, or the argmax of a NaN
    net, with the divergence rule that fired)."""
    late = torch.from_numpy(traj.steps >= at)
    preds = torch.where(late[:, None], torch.zeros_like(traj.test_preds), traj.test_preds)
    loss = np.where(traj.steps >= at, np.nan, traj.train_loss) if rule else traj.train_loss
    return Trajectory(
        traj.steps,
        preds,
        (preds == Y).double().mean(dim=1).numpy(),
        loss,
        np.array([len(torch.unique(p)) for p in preds]),
        rule,
        at if rule else -1,
    )


def imbalanced_test_set() -> Result:
    """The level manufactures an order from class sizes: on the IMBALANCED test set, models
    with no class order of their own (equal recall on every class, the CNN from step 20 over
    200 steps, the ViT from step 10 over 100, both to 0.9) and their class-blind surrogates
    (drawn by `measure`, as in a run) cross the fixed level class by class, in the order of
    the sizes, in every seed. Checkpoints at every step, so that the grid does not tie them."""
    y = torch.arange(NUM_CLASSES).repeat_interleave(torch.tensor(IMBALANCED))
    steps = np.arange(STEPS + 1)
    every = np.ones(NUM_CLASSES)
    seeds = {
        s: {
            "linear": trajectory(10 * every, 10 * s, 0.8, y, steps),
            "cnn": trajectory(20 * every, 10 * s + 1, 0.9, y, steps, ramp=200.0),
            "vit": trajectory(10 * every, 10 * s + 2, 0.9, y, steps, ramp=100.0),
        }
        for s in SEEDS
    }
    return result_of(seeds, y)


def noisy_cnn_seeds() -> Result:
    """CNN seed 0 learns every class in half the time of seeds 1 and 2: seed noise as large
    as the claimed ViT speed-up."""
    seeds = {s: healthy(s) for s in SEEDS}
    seeds[0]["cnn"] = trajectory(CNN_START / 2, 1)
    return result_of(seeds)


def collapsed_seed() -> Result:
    """Seed 1's CNN predicts one class from the middle of the run on."""
    seeds = {s: healthy(s) for s in SEEDS}
    seeds[1]["cnn"] = _stopped(seeds[1]["cnn"], STEPS // 2)
    return result_of(seeds)


def nan_seed() -> Result:
    """Seed 2's CNN loss turns NaN at mid-run: the divergence rule fires, the net stops."""
    seeds = {s: healthy(s) for s in SEEDS}
    seeds[2]["cnn"] = _stopped(seeds[2]["cnn"], STEPS // 2, "loss not finite")
    return result_of(seeds)


def permuted_labels() -> Result:
    """The claim-specific null: every model trained on permuted training labels predicts the
    test set independently of its labels (its own random map per seed and model)."""
    seeds = {}
    for s in SEEDS:
        seeds[s] = healthy(s)
        for i, (name, traj) in enumerate(seeds[s].items()):
            rng = np.random.default_rng(100 * s + i)
            noise = torch.from_numpy(rng.permutation(len(Y)))
            preds = traj.test_preds[:, noise]  # the labels of other images: no relation to Y
            seeds[s][name] = Trajectory(
                traj.steps,
                preds,
                (preds == Y).double().mean(dim=1).numpy(),
                traj.train_loss,
                traj.n_predicted,
            )
    return result_of(seeds)


def exchangeable_classes() -> Result:
    """A second null: the classes are exchangeable (every class learned at the same step
    in every seed and model) and the ViT learns at the CNN's pace."""
    same = np.full(NUM_CLASSES, 100.0)
    seeds = {s: healthy(s) for s in SEEDS}
    for s in SEEDS:
        seeds[s]["cnn"] = trajectory(same, 10 * s + 1)
        seeds[s]["vit"] = trajectory(same, 10 * s + 2)
    return result_of(seeds)


DEMONSTRATIONS: dict[str, Callable[[], Result]] = {
    "order_consistency_control": imbalanced_test_set,
    "paper_order_control": imbalanced_test_set,
    "vit_cnn_agreement_control": imbalanced_test_set,
    "vit_sooner_control": noisy_cnn_seeds,
}
SABOTAGE: dict[str, Callable[[], Result]] = {
    "collapsed_seed": collapsed_seed,
    "nan_seed": nan_seed,
    "permuted_labels": permuted_labels,
    "exchangeable_classes": exchangeable_classes,
}
