"""depth_wave in the report: the spec of shared/CLAIMS.md (Pinson et al., Sec. 2-3, App. A),
their Fig. 1 (accuracy of the partly-linear models, divergence points) and Fig. 2 (the
depth x time heat map of mean preactivations with t_neg and d(k)), drawn from stored data."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from sgdclaims.curves import final_value
from sgdclaims.depth import NEGATIVE_MEAN, divergences, first_negative_step, smooth
from sgdclaims.experiments.depth_wave import (
    DEEP_RHO,
    LINEAR_FIRST,
    WAVE_RHO,
    accuracy_curves,
    depth_of,
    preactivation_curves,
)
from sgdclaims.report.figures import Figure, Table
from sgdclaims.runner import Result
from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, NotReproduced, Paper
from sgdclaims.values import Value

_PAPER_D = ("d(k) in batches of 40k: all 0, 15 0, 13 3000, 11 9000, 9 10000, 7 13000, "
            "5 and 3 never (their Fig. 1, ImageNet)")  # fmt: skip

_TRIED = (
    "narrow BaseNet (3x3 stem, stages of widths 8/16/32, 10 conv-BN-act layers), k in "
    "{0,2,4,6,8,all} as one grouped model per seed (same init and data order), SGD momentum "
    "0.9, lr 0.1 decayed 10x on a validation-loss plateau (patience 5 evaluations), 14 px "
    "10-class Fashion-MNIST with random contrast-polarity flips (synthetic), 41 evaluations: "
    "batch 256 for 160 steps (3 seeds, this case) and for 240 steps (2 seeds); batch 64 for "
    "1,200 steps (2 seeds). Before `headroom` existed (issue 14): 28 px 10-class Fashion-MNIST, "
    "width 16-64, batch 128, 1,500 steps; Fashion-MNIST T-shirt/pullover/coat/shirt at 14 px, "
    "batch 64, lr 0.1 for 200 steps and lr 0.025 for 800 steps. Real 10-class Fashion-MNIST "
    "(12k and 60k training images, width 8 and 16, 10 and 13 layers) and MNIST (10k subset) "
    "at 14 px failed `headroom` in this budget"
)

SPEC = ClaimSpec(
    paper=Paper(
        authors="Pinson, Boland, Ginis, Pechenizkiy",
        year="",
        title="Exploring the development of complexity over depth and time",
        reference="Sec. 2-3, Fig. 1-2, App. A",
    ),
    claim=(
        "Layers become effectively nonlinear from deep to shallow: networks whose first k "
        "layers are linear diverge from the full network earlier the larger k, and mean "
        "preactivations turn negative in deep layers first."
    ),
    paragraph=(
        "Take BaseNet (a ResNet v1 without residual connections, conv-BN-ReLU layers) and "
        "variants in which the ReLUs of the first k conv layers are replaced by the identity, "
        "all from the same initial weights and data order. If the deep layers turn nonlinear "
        "first, a variant that keeps only the deep layers nonlinear follows the full network "
        "longer; the more shallow layers are linear, the sooner it falls behind. The paper "
        "shows this as a wave moving from deep to shallow layers over training, with each "
        "layer's mean preactivation turning negative deep-first (Sec. 2-3, Fig. 1-2, App. A). "
        "`linear_layers_near_zero` is partly structural: the BN shift of an identity layer "
        "followed by a conv and a train-mode BN gets no gradient (the next BN re-centres it), "
        "so an identity layer's mean stays near zero whatever SGD does."
    ),
    shows=(
        "Accuracy of the main and partly-linear models with their divergence points (Fig. 1) "
        "and the depth x time heat map of mean preactivations with t_neg and d(k) (Fig. 2)."
    ),
    checks=(
        Check(
            "headroom", "precondition",
            "0.95 x the main model's final test accuracy - 2 points - the test accuracy of "
            "logistic regression on the same inputs (both shown beside it): where it is "
            "negative no linear model can cross the divergence line, so d(k) is noise.",
            Criterion(">=", 0.0),
        ),
        Check("accuracy_logistic", "reported", "Test accuracy of logistic regression (L-BFGS "
              "to convergence, weight decay 1e-4) on the same inputs."),
        Check("final_accuracy_main", "reported", "Final test accuracy of the main model."),
        Check(
            "wave_monotone", "statistic",
            "Spearman rho(k, d(k)) over k in {2..all} (k = 0, the main model, left out): d(k) "
            "is the first evaluation where the smoothed seed-mean accuracy of variant k is "
            "below 0.95 x the main model's, among those where the main model is at least "
            "2 x chance (Savitzky-Golay, window 5, order 2); never = ranked last.",
            Criterion("<=", WAVE_RHO),
            "rho above -0.8: more linear layers do not make a variant fall behind sooner, so "
            "there is no deep-to-shallow wave.",
            control=Control(
                "wave_monotone_control", Criterion("<", 0.5),
                "The share of shuffles of the d(k) values over k (all 120 for five variants) "
                "whose rho passes -0.8: fewer than half may.",
            ),
            requires=("headroom",),
            reference={"imagenet": _PAPER_D},
        ),
        Check(
            "linear_diverges_first", "statistic",
            "d(all) as a share of the run: the fully linear model falls behind at once.",
            Criterion("<=", LINEAR_FIRST),
            "A later d(all): the network's nonlinearity would not matter early.",
            control=Control(
                "linear_diverges_first_control", Criterion(">", LINEAR_FIRST),
                "d between two runs of the main model (the mean over every ordered pair of "
                "seeds): seed noise alone must not cross the line in the first 10%.",
            ),
            requires=("headroom",),
            reference={"imagenet": "0: d(all) = 0 of 40k batches (their Fig. 1)"},
        ),
        Check(
            "layers_turn", "precondition",
            "The fewest layers of the main model, over seeds, whose mean preactivation goes "
            "below -0.05 after step 0: a rank correlation over fewer layers means nothing.",
            Criterion(">=", 4),
        ),
        Check(
            "preact_deep_first", "statistic",
            "Spearman rho(l, t_neg(l)) over the layers that go negative, t_neg(l) the first "
            "evaluation after step 0 where the main model's layer-l mean preactivation (BN "
            "output, 500 fixed test images, eval mode) is below -0.05; mean over seeds.",
            Criterion("<=", DEEP_RHO),
            "rho above -0.5: the preactivations do not turn negative deep layers first.",
            control=Control(
                "preact_deep_first_control", Criterion("<", 0.5),
                "The share of 1,000 seeded shuffles of each seed's layer order whose seed-mean rho "
                "passes -0.5: fewer than half may.",
            ),
            requires=("layers_turn",),
            reference={"imagenet": "deep layers' means turn negative first (their Fig. 2)"},
        ),
        Check(
            "linear_layers_near_zero", "statistic",
            "Final mean |preactivation mean| over the identity layers of the fully linear "
            "model / that over the ReLU layers of the main model (partly structural, see "
            "above).",
            Criterion("<", 1.0),
            "A ratio of 1 or more: identity layers drift from zero as far as ReLU layers.",
            control=Control(
                "linear_layers_near_zero_control", Criterion(">=", 1.0),
                "The same ratio between ReLU layers: those of each partly-linear variant "
                "(layers k and deeper) over the main model's same layers, mean over k; with "
                "no identity layer in it, it must not fall below 1.",
            ),
            reference={"*": "identity layers keep their means near zero (Sec. 3)"},
        ),
        Check("mu_baseline", "reported",
              "mu_Y(M_i;M_j) in bits between final main models of different seeds, with "
              "mu_Y(M;P_k) between the main model and each variant beside it (same seed)."),
    ),
    not_reproduced=(
        NotReproduced(
            "wave_monotone", "fast", "fashion_mnist_polarity",
            "On this task a partly-linear variant with a few ReLU layers left at the deep end "
            "ends as accurate as the main model, so the variants with k up to 8 of 10 layers "
            "cross the divergence line, if at all, only in the first evaluations, while every "
            "curve still rises steeply and two seeds of the main model cross it as well; d(k) "
            "then orders the variants by early noise, not by depth. The paper's intermediate "
            "divergence points come from ImageNet, 17 layers and 40k batches.",
            _TRIED,
        ),
        NotReproduced(
            "preact_deep_first", "fast", "fashion_mnist_polarity",
            "In the short fast runs the layer means cross the negative line first in the "
            "first evaluations, where the BN running statistics still lag the weights, and "
            "in no depth order; the later, slow drift of the BN shifts that the paper's "
            "Fig. 2 shows over 40k batches has no time to develop.",
            _TRIED,
        ),
    ),
)  # fmt: skip


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Seed-mean accuracy per variant, d(k) (seed mean and per seed), the main model's
    seed-mean preactivation means (layers, T) and t_neg, for drawing."""
    steps, labels, acc = accuracy_curves(result)
    n_layers, chance = int(result.provenance["layers"]), 1 / int(result.provenance["num_classes"])
    pre_steps, pre = preactivation_curves(result, "0")
    mean_pre = pre.mean(0)
    after = pre_steps > 0
    per_seed_t = [first_negative_step(pre_steps[after], p[:, after]).tolist() for p in pre]
    return {
        "steps": steps, "labels": labels, "acc": acc.mean(0), "n_layers": n_layers,
        "depths": [depth_of(lab, n_layers) for lab in labels],
        "d": divergences(steps, labels, acc.mean(0), chance),
        "d_per_seed": [divergences(steps, labels, a, chance) for a in acc],
        "final_acc": dict(zip(labels, final_value(steps, acc).mean(0).tolist())),
        "preact_steps": pre_steps, "preact": mean_pre,
        "t_neg": first_negative_step(pre_steps[after], mean_pre[:, after]).tolist(),
        "t_neg_per_seed": per_seed_t,
        "title": f"{result.provenance.get('dataset', '')} ({len(result.units)} seeds)",
    }  # fmt: skip


def _name(label: str) -> str:
    return "main (k=0)" if label == "0" else f"k={label}"


def accuracy_figure(data: dict[str, Any]) -> Any:
    """Their Fig. 1: seed-mean test accuracy per variant (left) and the smoothed accuracy
    minus the main model's (right), each variant's d(k) marked."""
    steps, acc = np.asarray(data["steps"], dtype=float), np.asarray(data["acc"], dtype=float)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(data["labels"])))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for i, (lab, colour) in enumerate(zip(data["labels"], colours)):
        left.plot(steps, acc[i], color=colour, lw=1.5, label=_name(lab))
        diff = smooth(acc[i]) - smooth(acc[0])
        right.plot(steps, diff, color=colour, lw=1.5, label=_name(lab))
        d = float(data["d"].get(lab, np.inf))
        if np.isfinite(d):
            at = int(np.searchsorted(steps, d))
            right.plot([d], [diff[at]], "o", color=colour, ms=7, mec="black")
    right.axhline(0, color="grey", lw=0.8)
    left.set(xlabel="training step", ylabel="test accuracy (seed mean)",
             title=str(data.get("title", "")))  # fmt: skip
    right.set(xlabel="training step", ylabel="smoothed accuracy - main",
              title="difference to the main model; dots: d(k)")  # fmt: skip
    left.legend(fontsize=8)
    return fig


def preactivation_heatmap(data: dict[str, Any]) -> Any:
    """Their Fig. 2: the main model's seed-mean mean preactivation per layer and step (blue
    < 0 < red), t_neg(l) of that mean (black x) and d(k) at depth k (white dots, joined)."""
    steps, mean = np.asarray(data["preact_steps"], dtype=float), np.asarray(data["preact"])
    n_layers = mean.shape[0]
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    trained = mean[:, steps > 0] if (steps > 0).any() else mean
    lim = max(float(np.abs(trained).max()), 1e-3)
    image = ax.imshow(
        mean, aspect="auto", origin="lower", cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -lim, lim),
        extent=(steps[0], steps[-1], -0.5, n_layers - 0.5), interpolation="nearest",
    )  # fmt: skip
    fig.colorbar(image, ax=ax, label="mean preactivation (BN output)")
    t_neg = np.asarray(data["t_neg"], dtype=float)
    finite = np.isfinite(t_neg)
    ax.plot(t_neg[finite], np.flatnonzero(finite), "x", color="black", ms=8,
            label=f"t_neg(l): first mean < {NEGATIVE_MEAN}")  # fmt: skip
    points = sorted((depth - 1, float(data["d"][lab]))
                    for lab, depth in zip(data["labels"], data["depths"])
                    if lab != "0" and np.isfinite(float(data["d"][lab])))  # fmt: skip
    if points:
        depth, step = zip(*points)
        ax.plot(step, depth, "-o", color="white", mec="black", ms=7,
                label="d(k) at depth k (last linear layer)")  # fmt: skip
    ax.set(xlabel="training step", ylabel="layer (0 = input side)",
           title="mean preactivations of the main model (seed mean)")  # fmt: skip
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _step(value: Any) -> str:
    value = float(value)
    return "never" if np.isinf(value) else ("NaN" if np.isnan(value) else f"{value:g}")


def divergence_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """d(k) from the seed-mean curves and per seed, with the final accuracy."""
    seeds = len(data["d_per_seed"])
    columns = ["variant", "d(k) (seed mean)", *[f"d(k) seed {s}" for s in range(seeds)],
               "final accuracy"]  # fmt: skip
    rows = [[_name(lab), _step(data["d"][lab]), *[_step(d[lab]) for d in data["d_per_seed"]],
             f"{data['final_acc'][lab]:.4f}"] for lab in data["labels"] if lab != "0"]  # fmt: skip
    return columns, rows


def t_neg_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """t_neg(l) of the main model per seed and of its seed-mean curve."""
    per_seed = data["t_neg_per_seed"]
    columns = ["layer", *[f"seed {s}" for s in range(len(per_seed))], "seed-mean curve"]
    rows = [[layer, *[_step(t[layer]) for t in per_seed], _step(data["t_neg"][layer])]
            for layer in range(int(data["n_layers"]))]  # fmt: skip
    return columns, rows


FIGURES = (
    Figure("accuracy", "Seed-mean test accuracy of the main and partly-linear models and their "
           "smoothed differences to the main model; dots mark d(k) (Pinson et al., Fig. 1).",
           accuracy_figure),
    Figure("preactivations", "Mean preactivation of the main model per layer and step (seed "
           "mean), with t_neg(l) and the divergence steps d(k) drawn at depth k, the wavefront "
           "(Pinson et al., Fig. 2).", preactivation_heatmap),
)  # fmt: skip
TABLES = (
    Table("divergence", "Divergence steps d(k) (never = the variant stays within 95% of the "
          "main model).", divergence_table),
    Table("t_neg", "First evaluation after step 0 at which each layer's mean preactivation "
          "is below -0.05 (never = it does not).", t_neg_table),
)  # fmt: skip
