"""iterative_linearisation's figures and tables: their Fig. 1-2 (test accuracy against step
for every K, the train loss with the refreshes; Goldwaser & Ge), the large-step runs and the
sharpness along K = 1, drawn from the stored curves."""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.claims.iterative_linearisation.readout import per_seed_curves
from sgdclaims.curves import final_value
from sgdclaims.figure import OURS, Figure, Table
from sgdclaims.linearise import k_label
from sgdclaims.runner import Result
from sgdclaims.values import Value

_FIG = "Goldwaser & Ge, Fig. 1 (MNIST) and Fig. 2 (CIFAR-10)"
SIZE, STEP, LOSS = (7.0, 4.2), "full-batch step", "train loss (mean cross-entropy)"
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
#: at most this many points per stored loss curve (the figures need no more)
LOSS_POINTS = 750


def _thin(curves: list[np.ndarray], stride: int) -> list[list[float]]:
    return [np.asarray(c, dtype=float)[::stride].tolist() for c in curves]


def _runs(result: Result, stride: int) -> dict[str, Any]:
    """Per run ('which/features/K'): its K, seeds, accuracy curves and thinned loss curves."""
    cfg, curves, losses = result.config, result.frame("curves"), result.frame("loss")
    runs: dict[str, Any] = {}
    for which in ("main", "unstable"):
        for features in ("own", "random"):
            ran = list(cfg.seeds_of(which))
            acc = per_seed_curves(curves, ran, "test_acc", which=which, features=features)
            loss = per_seed_curves(losses, ran, "train_loss", which=which, features=features)
            for k in acc:
                runs[f"{which}/{features}/{k_label(k)}"] = {
                    "K": k_label(k),
                    "seeds": ran,
                    "acc": [a.tolist() for a in acc[k]],
                    "loss": _thin(loss[k], stride),
                }
    return runs


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Per-seed accuracy curves of every run, thinned loss curves, the K = 1 sharpness,
    divergence steps and the staircase windows, for the figures and tables."""
    cfg, seeds = result.config, list(result.config.seeds)
    stride = max(1, math.ceil(cfg.steps / LOSS_POINTS))
    n = int(result.provenance["n_train"])
    curves = result.frame("curves")
    sharp = per_seed_curves(curves, seeds, "sharpness", which="main", features="own")[1.0]
    return {
        "title": f"{result.provenance.get('dataset', '')} ({len(seeds)} seeds)",
        "seeds": seeds,
        "steps": np.asarray(cfg.checkpoints()).tolist(),
        "loss_steps": list(range(0, cfg.steps, stride)),
        "runs": _runs(result, stride),
        "lr": {"main": cfg.lr(n), "unstable": cfg.lr(n, cfg.unstable_eta)},
        "sharpness": [s.tolist() for s in sharp],
        "staircase_period": cfg.staircase_period,
        "windows": dict(values["staircase"].details),
        "divergence": dict(values["divergence_steps"].details),
    }


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
    ax_loss.set(
        xlabel=STEP,
        ylabel=LOSS,
        yscale="log",
        title=f"train loss; dotted: refreshes of K = {k_label(period)}",
    )
    title = f"{data['title']}, lr {data['lr']['main']:.3g}"
    return _done(fig, ax_acc, ylabel="test accuracy (%)", title=title)


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
    title = f"{data['title']}, large lr {data['lr']['unstable']:.3g}"
    return _done(fig, ax, ylabel=LOSS, yscale="log", title=title)


def sharpness(data: dict[str, Any]) -> Any:
    """lr x sharpness / 2 of the linearised loss along the main K = 1 runs: a linearisation
    taken where it exceeds 1 diverges under GD at the main lr (and one where lr_large x
    sharpness / 2 does, at the large lr)."""
    fig, ax = plt.subplots(figsize=SIZE)
    steps, lr = np.asarray(data["steps"]), data["lr"]
    for j, curve in enumerate(data["sharpness"]):
        label = f"K = 1, lr {lr['main']:.3g}" if j == 0 else None
        ax.plot(
            steps, lr["main"] * np.asarray(curve, dtype=float) / 2, color=COLOURS[0], label=label
        )
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="stability limit at the main lr")
    ax.axhline(
        lr["main"] / lr["unstable"],
        color="grey",
        ls=":",
        lw=1,
        label="stability limit at the large lr",
    )
    return _done(fig, ax, ylabel="main lr x sharpness / 2", yscale="log", title=data["title"])


FIGURES = (
    Figure(
        "accuracy_and_loss",
        "Test accuracy and train loss against the full-batch step for every K at the main "
        "step, seed means; dashed: features refreshed from a different random network "
        f"(control); dotted lines: the staircase K's refreshes ({_FIG}).",
        accuracy_and_loss,
    ),
    Figure(
        "large_step",
        "Train loss at the larger step for every K and seed; a cross marks the last finite "
        "loss of a diverged run.",
        large_step,
        paper=OURS,
    ),
    Figure(
        "sharpness",
        "Main lr x sharpness / 2 of the linearised loss along the main K = 1 runs (each seed "
        "a line): a linearisation taken above the dashed line diverges under GD at the main "
        "lr, above the dotted one at the large lr.",
        sharpness,
        paper=OURS,
    ),
)


def final_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Final test accuracy (%, mean over the last 5% of the run) per run and seed."""
    rows = []
    for key, run in data["runs"].items():
        finals = {
            s: 100 * float(final_value(data["steps"], a)) for s, a in zip(run["seeds"], run["acc"])
        }
        cells = (f"{finals[s]:.1f}" if s in finals else "not run" for s in data["seeds"])
        rows.append([key.split("/")[0], _label(key), *cells])
    return ["step", "run", *(f"seed {s}" for s in data["seeds"])], rows


def window_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The staircase K's window ratios and the large-step divergence steps."""
    rows = [["staircase ratio", k, f"{v:.3g}"] for k, v in data["windows"].items()]
    rows += [["diverged at step (large lr)", k, f"{v:g}"] for k, v in data["divergence"].items()]
    return ["quantity", "window / run", "value"], rows


TABLES = (
    Table(
        "final_accuracy",
        "Final test accuracy (%, mean over the last 5% of the run) per run and seed (their "
        "Fig. 1-2 endpoints; NaN: diverged).",
        final_table,
    ),
    Table(
        "windows",
        "Staircase window ratios (last-10% / first-10% loss decrease) and the step at which "
        "each large-step run diverged (-1: never).",
        window_table,
    ),
)
