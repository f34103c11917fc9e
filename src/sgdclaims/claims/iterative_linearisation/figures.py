"""iterative_linearisation's figures and tables: their Fig. 1-2 (test accuracy against step
for every K, the training loss with the staircase K's refreshes; Goldwaser & Ge) and the
large-step runs, drawn from the stored curves."""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.claims.iterative_linearisation.readout import Runs
from sgdclaims.figure import OURS, Figure, Table
from sgdclaims.linearise import k_label
from sgdclaims.runner import Result
from sgdclaims.values import Value

_FIG = "Goldwaser & Ge, Fig. 1 (MNIST) and Fig. 2 (CIFAR-10)"
STEP, LOSS = "full-batch step", "training loss (mean cross-entropy)"
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
#: at most this many points per stored loss curve (the figures need no more)
LOSS_POINTS = 750


def _runs(result: Result, stride: int) -> dict[str, Any]:
    """Per run ('which/features/K'): its K, checkpoint steps, per-seed accuracy curves (f_lin
    and the network's own) and thinned loss curves."""
    cfg, out = result.config, {}
    kinds = [("main", "own", cfg.periods), ("main", "random", cfg.control_periods)]
    kinds.append(("large", "own", cfg.periods))
    for which, features, periods in kinds:
        runs = Runs(result, features, which)
        for k in periods:
            curves = [runs.curve(k, s) for s in runs.seeds]
            out[f"{which}/{features}/{k_label(k)}"] = {
                "K": k_label(k),
                "steps": curves[0]["step"].tolist(),
                "acc": [c["test_acc"].tolist() for c in curves],
                "net": [c["net_acc"].tolist() for c in curves],
                "loss": [runs.loss(k, s)[::stride].tolist() for s in runs.seeds],
            }
    return out


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Per-seed curves of every run, thinned loss curves, the staircase windows and the
    divergence steps, for the figures and tables."""
    cfg = result.config
    stride = max(1, math.ceil(cfg.steps / LOSS_POINTS))
    main, large = Runs(result), Runs(result, which="large")
    return {
        "title": f"{result.provenance.get('dataset', '')} ({len(cfg.seeds)} seeds)",
        "seeds": list(cfg.seeds),
        "loss_steps": list(range(0, cfg.steps, stride)),
        "runs": _runs(result, stride),
        "lr": {
            "main": float(main.row(1, cfg.seeds[0])["lr"]),
            "large": float(large.row(1, cfg.seeds[0])["lr"]),
        },
        "staircase_period": cfg.staircase_period,
        "windows": dict(values["staircase"].details),
        "divergence": dict(values["divergence"].details),
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


def accuracy_and_loss(data: dict[str, Any]) -> Any:
    """Their Fig. 1-2: test accuracy (%) of f_lin and training loss against step for every K
    at the main step (seed means; dashed: the control), the staircase K's refreshes dotted."""
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    loss_steps = np.asarray(data["loss_steps"])
    for i, key in enumerate(_keys(data, "main")):
        run, style = data["runs"][key], ("--" if "/random/" in key else "-")
        colour = COLOURS[i % len(COLOURS)]
        steps = np.asarray(run["steps"])
        ax_acc.plot(steps, 100 * _mean(run["acc"]), style, color=colour, label=_label(key))
        ax_loss.plot(loss_steps, _mean(run["loss"]), style, color=colour, lw=1)
    period = data["staircase_period"]
    for refresh in np.arange(period, loss_steps[-1] + 1, period):
        ax_loss.axvline(refresh, color="grey", lw=0.6, ls=":")
    ax_loss.set(xlabel=STEP, ylabel=LOSS, yscale="log", title=f"dotted: K = {k_label(period)}")
    ax_acc.set(xlabel=STEP, ylabel="test accuracy of f_lin (%)")
    ax_acc.set_title(f"{data['title']}, lr {data['lr']['main']:.3g}")
    ax_acc.legend(fontsize=7)
    fig.tight_layout()
    return fig


def large_step(data: dict[str, Any]) -> Any:
    """Training loss against step at the larger step for every K, each seed a line; a cross
    where a run diverged."""
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    loss_steps = np.asarray(data["loss_steps"])
    for i, key in enumerate(_keys(data, "large")):
        colour = COLOURS[i % len(COLOURS)]
        for j, loss in enumerate(data["runs"][key]["loss"]):
            loss = np.asarray(loss, dtype=float)
            ax.plot(loss_steps, loss, color=colour, lw=1, label=_label(key) if j == 0 else None)
            finite = np.flatnonzero(np.isfinite(loss))
            if len(finite) < len(loss) and len(finite):
                ax.plot(loss_steps[finite[-1]], loss[finite[-1]], "x", color=colour, ms=8)
    ax.set(xlabel=STEP, ylabel=LOSS, yscale="log")
    ax.set_title(f"{data['title']}, large lr {data['lr']['large']:.3g}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "accuracy_and_loss",
        "Test accuracy of f_lin and training loss against the full-batch step for every K at "
        "the main step, seed means; dashed: features refreshed from a different random "
        f"network (control); dotted lines: the staircase K's refreshes ({_FIG}).",
        accuracy_and_loss,
    ),
    Figure(
        "large_step",
        "Training loss at the larger step for every K and seed; a cross marks the last finite "
        "loss of a diverged run.",
        large_step,
        paper=OURS,
    ),
)


def final_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Final test accuracy (%, mean over the last 5% of the run) of f_lin and of the network
    per run and seed."""
    rows = []
    for key, run in data["runs"].items():
        steps = np.asarray(run["steps"])
        last = steps >= math.ceil(0.95 * steps[-1])
        cells = []
        for acc, net in zip(run["acc"], run["net"]):
            a = 100 * np.mean(np.asarray(acc, dtype=float)[last])
            b = 100 * np.mean(np.asarray(net, dtype=float)[last])
            cells.append(f"{a:.1f} (network {b:.1f})")
        rows.append([key.split("/")[0], _label(key), *cells])
    return ["step", "run", *(f"seed {s}" for s in data["seeds"])], rows


def window_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The staircase K's window ratios and the large-step divergence steps and rules."""
    rows = [["staircase ratio", k, f"{v:.3g}"] for k, v in data["windows"].items()]
    rows += [["large lr", k, f"{v:g}"] for k, v in data["divergence"].items()]
    return ["quantity", "window / run", "value"], rows


TABLES = (
    Table(
        "final_accuracy",
        "Final test accuracy (%, mean over the last 5% of the run) of f_lin per run and seed, "
        "the network's own beside it (their Fig. 1-2 endpoints; NaN: diverged).",
        final_table,
    ),
    Table(
        "windows",
        "Staircase window ratios (|last-10% change| / first-10% fall) and, at the large lr, "
        "the step at which each run diverged (-1: never) and the rule (1: not finite, 2: "
        "100x the initial loss).",
        window_table,
    ),
)
