"""iterative_linearisation in the report: the spec of shared/CLAIMS.md (Goldwaser & Ge, Sec.
3-4, Alg. 1, App. A, Fig. 1-2), their Fig. 1-2 (test accuracy against step for every K, the
train loss with the refreshes) and the large-step runs, drawn from the stored curves."""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.curves import final_value
from sgdclaims.linearise import k_label
from sgdclaims.linearise.readout import per_seed_curves
from sgdclaims.report.figures import OURS, Figure, Table
from sgdclaims.runner import Result
from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, NotReproduced, Paper
from sgdclaims.values import Value

_FIG = "Goldwaser & Ge, Fig. 1 (MNIST) and Fig. 2 (CIFAR-10)"

SPEC = ClaimSpec(
    paper=Paper(
        authors="Goldwaser & Ge",
        year="",
        title="Learning deep neural networks by iterative linearisation",
        reference="Sec. 3-4, Alg. 1, App. A, Fig. 1-2",
    ),
    claim=(
        "Refreshing the features (the Jacobian) only every K steps barely changes the result "
        "for K up to ~100; never refreshing them (fixed NTK features) is clearly worse; with a "
        "large step, large K diverges."
    ),
    paragraph=(
        "Iterative linearisation trains f_lin(x) = f(x; theta_s) + J(theta_s)(theta - "
        "theta_s) by full-batch gradient descent and moves the linearisation point theta_s "
        "to the current parameters every K steps (Alg. 1); softmax and cross-entropy stay "
        "outside the linearisation (App. A). K = 1 is plain gradient descent; K = infinity is "
        "training in the fixed tangent-kernel features. The paper trains a LeNet-5 with 50 "
        "channels per conv layer on MNIST and CIFAR-10 and finds the test accuracy almost "
        "unchanged for K up to about 100, clearly worse at K = infinity, the training loss "
        "levelling off within each window at K = 1000 before the next refresh, and large K "
        "diverging at a ten times larger step (Sec. 3-4, Fig. 1-2). Loss normalisation: the "
        "paper's update (Sec. 3, App. A eq. 5) has no 1/n, so its steps 1e-5 and 1e-4 are per "
        "example on a summed loss; this code uses the mean loss and steps lr = eta x n_train "
        "(0.6 and 6 on MNIST's 60,000 images, 0.5 and 5 on CIFAR-10's 50,000). The fast scale "
        "keeps the lr in the same units (eta x 128) and measures the linearised loss's "
        "sharpness along K = 1, whose inverse sets the step a linearisation can take."
    ),
    shows=(
        "Test accuracy and train loss against the full-batch step for every K (their Fig. "
        "1-2), the large-step runs, and the sharpness along K = 1."
    ),
    checks=(
        Check(
            "k1_is_gd",
            "statistic",
            "||theta_K=1 - theta_GD|| / ||theta_GD|| after 20 float64 steps of the linearised "
            "run with K = 1 and of plain autograd gradient descent (max over seeds).",
            Criterion("<=", 1e-6),
            "A larger difference: the linearisation (jvp, vjp, refresh) is implemented wrongly.",
            control=Control(
                "k1_is_gd_control",
                Criterion(">", 1e-6),
                "The same for K = 2 (min over seeds): a run that linearises must not pass.",
            ),
            reference={"*": "exact: Alg. 1 with K = 1 is gradient descent"},
        ),
        Check(
            "k_insensitive",
            "statistic",
            "max over K in {10, 100} of |acc_K - acc_1|, final test accuracies (mean over the "
            "last 5% of the run, then over seeds), in percentage points; a diverged K is NaN "
            "and fails.",
            Criterion("<=", 1.0),
            "A larger gap: refreshing the features only every K steps costs accuracy.",
            control=Control(
                "k_insensitive_control",
                Criterion(">", 1.0),
                "The same gap for runs whose features are refreshed every K steps from a "
                "different random network's Jacobian (keeping the function learned so far): "
                "features that change but are not the network's must lose accuracy.",
            ),
            reference={
                "mnist": f"K = 10 and 100 on top of K = 1 ({_FIG})",
                "cifar10": f"K = 10 and 100 on top of K = 1 ({_FIG})",
            },
        ),
        Check(
            "fixed_features_worse",
            "statistic",
            "acc_1 - acc_inf in percentage points (final values, per seed, then the mean): "
            "what fixed tangent-kernel features lose.",
            Criterion(">=", 1.0),
            "A smaller loss: feature learning would not matter at this scale.",
            control=Control(
                "fixed_features_worse_control",
                Criterion("<", 1.0),
                "acc_1 - acc_10: features refreshed every 10 steps must not lose it, or the "
                "gap would come from linearising at all, not from fixing the features.",
            ),
            reference={
                "mnist": f"K = inf clearly below K = 1 ({_FIG})",
                "cifar10": f"K = inf clearly below K = 1 ({_FIG})",
            },
        ),
        Check(
            "staircase",
            "statistic",
            "For the staircase K (K = 1000 in the paper, 300 at fast scale): per seed the "
            "median over the K-windows after the first of the train-loss decrease over the "
            "window's last 10% divided by that over its first 10%; then the mean over seeds.",
            Criterion("<", 0.25),
            "A ratio of 0.25 or more: the loss does not level off before the features are "
            "refreshed.",
            reference={"mnist": f"'the training levels off each time' at K = 1000 ({_FIG})"},
            control=Control(
                "staircase_control",
                Criterion(">=", 0.25),
                "The K = 1 (plain GD) loss cut into the same windows: no refresh, no staircase.",
            ),
        ),
        Check(
            "large_lr_unstable",
            "statistic",
            "At the larger step: the share of seeds whose diverging K (NaN/inf loss, or 100x "
            "the initial loss) form an upward-closed set that holds some K > 1 while K = 1 "
            "converges.",
            Criterion(">=", 1.0),
            "K = 1 diverging, no K diverging, or a set of diverging K that is not upward-closed.",
            control=Control(
                "large_lr_unstable_control",
                Criterion("<", 1.0),
                "The same pattern at the main step, where no K may diverge.",
            ),
            reference={"mnist": f"eta 1e-4: large K diverge, K = 1 does not ({_FIG})"},
        ),
        Check("acc_K1", "reported", "Final test accuracy (%) of K = 1 (plain GD)."),
        Check("acc_K10", "reported", "Final test accuracy (%) of K = 10."),
        Check("acc_K100", "reported", "Final test accuracy (%) of K = 100."),
        Check("acc_K_staircase", "reported", "Final test accuracy (%) of the staircase K."),
        Check("acc_Kinf", "reported", "Final test accuracy (%) of K = inf (fixed features)."),
        Check(
            "divergence_steps",
            "reported",
            "Runs that diverged at the larger step; the step per K and seed beside it.",
        ),
        Check(
            "stability_limit",
            "reported",
            "2 / the largest sharpness (top Hessian eigenvalue) of the linearised mean loss "
            "along the main K = 1 run, in lr units: a linearisation taken there diverges "
            "above it; its value at initialisation, the main and the large lr beside it.",
        ),
        Check(
            "step_cost_between",
            "reported",
            "CPU time of a step between refreshes / a plain GD step (same full batch).",
        ),
        Check(
            "step_cost_refresh",
            "reported",
            "CPU time of a refresh step / a plain GD step (same full batch).",
        ),
    ),
    not_reproduced=(
        NotReproduced(
            "large_lr_unstable",
            "fast",
            "*",
            reason=(
                "At the larger step only the runs that refresh their features diverge: a "
                "refresh linearises the network where training has sharpened it, and the "
                "linearised model is unstable there, while K = inf keeps the features of "
                "initialisation, whose linearised loss does not sharpen, and converges. So the "
                "diverging K (all finite K > 1) are not upward-closed. A step large enough to "
                "destabilise the initial linearisation breaks K = 1 as well."
            ),
            tried=(
                "lr 10x the main lr (MNIST 0.1, Fashion-MNIST 0.05) in the configured runs "
                "(seed 0, T 1,500, K 1/10/100/inf) and in earlier runs on seeds 0 and 1 with "
                "K 1/10/100/300/inf; seed 0 probes at T 1,500: MNIST lr 0.2 and 2.0, "
                "Fashion-MNIST lr 3.0 (above 2 / the initial sharpness)"
            ),
        ),
        NotReproduced(
            "staircase",
            "fast",
            "fashion_mnist",
            reason=(
                "At the main step, a factor of two below the linearised loss's stability "
                "limit, the linearised model on Fashion-MNIST is still learning at the end of "
                "each 300-step window, so the windows do not level off. At twice the step they "
                "do, but there plain GD reaches its edge of stability and refreshed "
                "linearisations diverge (K = 10), so that step is outside the paper's regime."
            ),
            tried=(
                "K 300, T 1,500: lr 0.005 (configured, 2 seeds), 0.01 and 0.02 (seed 0); "
                "K 500 at lr 0.005 (seed 0)"
            ),
        ),
    ),
)

SIZE, STEP, LOSS = (7.0, 4.2), "full-batch step", "train loss (mean cross-entropy)"
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
#: at most this many points per stored loss curve (the figures need no more)
LOSS_POINTS = 750


def _thin(curves: list[np.ndarray], stride: int) -> list[list[float]]:
    return [np.asarray(c, dtype=float)[::stride].tolist() for c in curves]


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Per-seed accuracy curves of every run, thinned loss curves, the K = 1 sharpness,
    divergence steps and the staircase windows, for the figures and tables."""
    cfg, seeds = result.config, list(result.config.seeds)
    curves, losses = result.frame("curves"), result.frame("loss")
    stride = max(1, math.ceil(cfg.steps / LOSS_POINTS))
    n = int(result.provenance["n_train"])
    runs: dict[str, Any] = {}
    for which in ("main", "unstable"):
        for features in ("own", "random"):
            ran = list(cfg.seeds_of(which))
            acc = per_seed_curves(curves, ran, "test_acc", which=which, features=features)
            loss = per_seed_curves(losses, ran, "train_loss", which=which, features=features)
            for k in acc:
                runs[f"{which}/{features}/{k_label(k)}"] = {
                    "K": k_label(k), "seeds": ran, "acc": [a.tolist() for a in acc[k]],
                    "loss": _thin(loss[k], stride),
                }  # fmt: skip
    sharp = per_seed_curves(curves, seeds, "sharpness", which="main", features="own")[1.0]
    return {
        "title": f"{result.provenance.get('dataset', '')} ({len(seeds)} seeds)",
        "seeds": seeds, "steps": np.asarray(cfg.checkpoints()).tolist(),
        "loss_steps": list(range(0, cfg.steps, stride)), "runs": runs,
        "lr": {"main": cfg.lr(n), "unstable": cfg.lr(n, cfg.unstable_eta)},
        "sharpness": [s.tolist() for s in sharp],
        "staircase_period": cfg.staircase_period,
        "windows": dict(values["staircase"].details),
        "divergence": dict(values["divergence_steps"].details),
    }  # fmt: skip


def _label(key: str) -> str:
    _, features, k = key.split("/")
    name = "K = inf (fixed features)" if k == "inf" else f"K = {k}"
    return name + (", random-network features (control)" if features == "random" else "")


def _mean(curves: list[list[float]]) -> np.ndarray:
    """Seed mean; NaN where any seed is NaN (a diverged seed shows as a gap)."""
    return np.mean(np.asarray(curves, dtype=float), axis=0)


def _keys(data: dict[str, Any], which: str) -> list[str]:
    return [k for k in data["runs"] if k.startswith(which + "/")]


def _done(fig: Any, ax: Any, **labels: Any) -> Any:
    """Label the axes (x: the step), add the legend, tighten the layout."""
    ax.set(xlabel=STEP, **labels)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def accuracy_and_loss(data: dict[str, Any]) -> Any:
    """Their Fig. 1-2: test accuracy (%) and train loss against step for every K at the main
    step (seed means; dashed: the control), the staircase K's refreshes as grey lines."""
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    steps, loss_steps = np.asarray(data["steps"]), np.asarray(data["loss_steps"])
    for i, key in enumerate(_keys(data, "main")):
        run, style = data["runs"][key], ("--" if "/random/" in key else "-")
        colour = COLOURS[i % len(COLOURS)]
        ax_acc.plot(steps, 100 * _mean(run["acc"]), style, color=colour, label=_label(key))
        ax_loss.plot(loss_steps, _mean(run["loss"]), style, color=colour, lw=1)
    period = data["staircase_period"]
    for refresh in np.arange(period, loss_steps[-1] + 1, period):
        ax_loss.axvline(refresh, color="grey", lw=0.6, ls=":")
    ax_loss.set(xlabel=STEP, ylabel=LOSS, yscale="log",
                title=f"train loss; dotted: refreshes of K = {k_label(period)}")  # fmt: skip
    return _done(fig, ax_acc, ylabel="test accuracy (%)",
                 title=f"{data['title']}, lr {data['lr']['main']:.3g}")  # fmt: skip


def large_step(data: dict[str, Any]) -> Any:
    """Train loss against step at the larger step for every K, each seed a line; a cross
    where a run diverged."""
    fig, ax = plt.subplots(figsize=SIZE)
    loss_steps = np.asarray(data["loss_steps"])
    for i, key in enumerate(_keys(data, "unstable")):
        colour = COLOURS[i % len(COLOURS)]
        for j, loss in enumerate(data["runs"][key]["loss"]):
            loss = np.asarray(loss, dtype=float)
            ax.plot(loss_steps, loss, color=colour, lw=1, label=_label(key) if j == 0 else None)
            finite = np.flatnonzero(np.isfinite(loss))
            if len(finite) < len(loss) and len(finite):
                ax.plot(loss_steps[finite[-1]], loss[finite[-1]], "x", color=colour, ms=8)
    return _done(fig, ax, ylabel=LOSS, yscale="log",
                 title=f"{data['title']}, large lr {data['lr']['unstable']:.3g}")  # fmt: skip


def sharpness(data: dict[str, Any]) -> Any:
    """lr x sharpness / 2 of the linearised loss along the main K = 1 runs: a linearisation
    taken where it exceeds 1 diverges under GD at the main lr (and one where lr_large x
    sharpness / 2 does, at the large lr)."""
    fig, ax = plt.subplots(figsize=SIZE)
    steps, lr = np.asarray(data["steps"]), data["lr"]
    for j, curve in enumerate(data["sharpness"]):
        ax.plot(steps, lr["main"] * np.asarray(curve, dtype=float) / 2, color=COLOURS[0],
                label=f"K = 1, lr {lr['main']:.3g}" if j == 0 else None)  # fmt: skip
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="stability limit at the main lr")
    ax.axhline(lr["main"] / lr["unstable"], color="grey", ls=":", lw=1,
               label="stability limit at the large lr")  # fmt: skip
    return _done(fig, ax, ylabel="main lr x sharpness / 2", yscale="log", title=data["title"])


FIGURES = (
    Figure("accuracy_and_loss", "Test accuracy and train loss against the full-batch step for "
           "every K at the main step, seed means; dashed: features refreshed from a different "
           f"random network (control); dotted lines: the staircase K's refreshes ({_FIG}).",
           accuracy_and_loss),
    Figure("large_step", "Train loss at the larger step for every K and seed; a cross marks "
           "the last finite loss of a diverged run.", large_step, paper=OURS),
    Figure("sharpness", "Main lr x sharpness / 2 of the linearised loss along the main K = 1 "
           "runs (each seed a line): a linearisation taken above the dashed line diverges under "
           "GD at the main lr, above the dotted one at the large lr.", sharpness, paper=OURS),
)  # fmt: skip


def final_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Final test accuracy (%, mean over the last 5% of the run) per run and seed."""
    rows = []
    for key, run in data["runs"].items():
        finals = dict(zip(run["seeds"], (100 * float(final_value(data["steps"], a))
                                         for a in run["acc"])))  # fmt: skip
        cells = (f"{finals[s]:.1f}" if s in finals else "not run" for s in data["seeds"])
        rows.append([key.split("/")[0], _label(key), *cells])
    return ["step", "run", *(f"seed {s}" for s in data["seeds"])], rows


def window_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The staircase K's window ratios and the large-step divergence steps."""
    rows = [["staircase ratio", k, f"{v:.3g}"] for k, v in data["windows"].items()]
    rows += [["diverged at step (large lr)", k, f"{v:g}"] for k, v in data["divergence"].items()]
    return ["quantity", "window / run", "value"], rows


TABLES = (
    Table("final_accuracy", "Final test accuracy (%, mean over the last 5% of the run) per run "
          "and seed (their Fig. 1-2 endpoints; NaN: diverged).", final_table),
    Table("windows", "Staircase window ratios (last-10% / first-10% loss decrease) and the "
          "step at which each large-step run diverged (-1: never).", window_table),
)  # fmt: skip
