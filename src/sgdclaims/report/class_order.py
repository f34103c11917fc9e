"""class_order in the report: the spec of shared/CLAIMS.md (Schouten & Toonen 2023, Sec.
3.2-4.3), their Fig. 2-5 (per-class I and mu curves) and the learned order, drawn from the
stored seed-mean curves."""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims import ranking
from sgdclaims.experiments.class_order import (
    MODELS,
    RELABELLINGS,
    accuracy_table,
    class_names,
    curve_table,
    learning_times,
)
from sgdclaims.report.figures import OURS, Figure, Table
from sgdclaims.runner import Result
from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Paper
from sgdclaims.values import Value

_RELABEL = (
    f"after an independent random relabelling of the classes of every seed ({RELABELLINGS} "
    "relabellings, their median): the models treat class indices symmetrically, so this is "
    "what training on shuffled class names gives"
)
_CONVERGED = ("converged",)

SPEC = ClaimSpec(
    paper=Paper(
        authors="Schouten & Toonen",
        year="2023",
        title="Increasing the complexity of ... (the multi-class extension of Nakkiran et al.)",
        reference="Sec. 3.2-4.3, eq. 3-4, Fig. 2-5",
    ),
    claim=(
        "With ten classes, SGD learns the classes in a consistent order; a ViT learns them "
        "in the same order as a CNN, but sooner and without a warm-up."
    ),
    paragraph=(
        "Schouten & Toonen split the mutual information per class (their eq. 3-4, I(F;Y=y) "
        "and I(F;Y=y|G), which sum over y to the totals) and follow a linear model, a CNN and "
        "a small ViT trained side by side on the same data order. On MNIST the digits 0 and 1 "
        "are learned first and 5 and 8 last; on CIFAR-10 frog, ship and airplane come first "
        "and automobile and truck separate around epoch 27. The CNN has a warm-up of a few "
        "epochs (~4 on MNIST), the ViT none (Sec. 3.2-4.3, Fig. 2-5). Here the learning time "
        "tau_c of a class is the first checkpoint at which its per-class term I(F_t;Y=c) "
        "reaches half of its own final value (the mean over the last 5% of the run), which "
        "removes the class-frequency cap -p(c) log p(c) from the comparison."
    ),
    shows=(
        "Per-class I(F_t;Y=c) and mu_c curves of every model (their Fig. 2-5), test accuracy "
        "(the warm-up), the learning times and the learned order by MI and by recall."
    ),
    checks=(
        Check(
            "order_consistency",
            "statistic",
            "Kendall's W of the CNN's class ranks by tau_c across seeds (1 = every seed learns "
            "the classes in the same order).",
            Criterion(">=", 0.5),
            "W below 0.5: the order changes from seed to seed, so there is no consistent "
            "order to speak of.",
            control=Control("order_consistency_control", Criterion("<", 0.5),
                            f"W {_RELABEL}: it must fall below 0.5."),
        ),
        Check(
            "order_consistency_p",
            "statistic",
            "Permutation p-value of W: each seed's ranks shuffled independently.",
            Criterion("<", 0.05),
            "p of 0.05 or more: an agreement like this arises by chance.",
            control=Control("order_consistency_p_control", Criterion(">=", 0.05),
                            f"The p-value of W {_RELABEL}: it must be 0.05 or more."),
        ),
        Check(
            "paper_order",
            "statistic",
            "1 when, by the CNN's seed-mean tau_c, classes 0 and 1 are both among the first "
            "three learned and 5 and 8 both among the last three (per seed: each seed's own "
            "order). A random order meets this with probability 1/140.",
            Criterion(">=", 1),
            "0: the concrete MNIST order the paper reports is not what SGD learns here.",
            control=Control("paper_order_control", Criterion("<", 0.5),
                            f"The share of per-seed relabellings ({RELABELLINGS}) whose "
                            "seed-mean order meets it: about 1/140 for a random order."),
            datasets=("mnist",),
            reference={"mnist": "0 and 1 learned first, 5 and 8 last (Sec. 4, MNIST)"},
        ),
        Check(
            "converged",
            "precondition",
            "The largest difference, over the CNN, the ViT and the seeds, between a model's "
            "final test accuracy and its mean over the preceding 20% of the run: tau_c "
            "normalises by the final value, which means nothing for a model still climbing.",
            Criterion("<", 0.02),
        ),
        Check(
            "vit_cnn_agreement",
            "statistic",
            "Spearman rho between the seed-mean tau_c of the CNN and of the ViT over the "
            "classes.",
            Criterion(">=", 0.5),
            "rho below 0.5: the two architectures learn the classes in different orders.",
            control=Control("vit_cnn_agreement_control", Criterion("<", 0.5),
                            "rho after independent random relabellings of both models' "
                            "classes (median of 50): it must fall below 0.5."),
            requires=_CONVERGED,
        ),
        Check(
            "vit_cnn_agreement_p",
            "statistic",
            "One-sided permutation p-value of that rho (the classes of one model shuffled).",
            Criterion("<", 0.05),
            "p of 0.05 or more: with ten classes, such a rho arises by chance.",
            control=Control("vit_cnn_agreement_p_control", Criterion(">=", 0.05),
                            "The p-value of the relabelled pairs (median of 50)."),
            requires=_CONVERGED,
        ),
        Check(
            "vit_sooner",
            "statistic",
            "mean_c tau_c(ViT) / mean_c tau_c(CNN), per seed, then the mean over seeds.",
            Criterion("<", 1),
            "A ratio of 1 or more: the ViT does not learn the classes sooner than the CNN.",
            control=Control(
                "vit_sooner_control", Criterion(">=", 1),
                "The same ratio for the CNN against itself (seed s+1 over seed s, cyclically): "
                "a model is not sooner than itself, and a mean of such ratios is at least 1 "
                "(their product is 1), so a ratio below 1 is neither seed noise nor the skew "
                "of a ratio of noisy times.",
            ),
            requires=_CONVERGED,
            reference={"*": "< 1: the ViT has no warm-up, the CNN ~4 epochs on MNIST (Sec. 4)"},
        ),
        Check(
            "gap_tracks_order",
            "reported",
            "Spearman rho between tau_c and the per-class gap I(F;Y=c) - mu_c = I(F;Y=c|L) "
            "of the CNN at mid-training, from Miller-Madow corrected per-class terms (the "
            "plug-in conditional terms are strongly biased at a few hundred images per class); "
            "per seed, then the mean.",
        ),
        Check("cnn_warmup", "reported",
              "SGD steps until the CNN's test accuracy first reaches 1.5 x chance (a net that "
              "predicts one class scores about chance): the end of its warm-up.",
              reference={"mnist": "~4 of 50 epochs at lr 1e-3 (Sec. 4)"}),
        Check("vit_warmup", "reported", "The same for the ViT.",
              reference={"*": "no warm-up (Sec. 4)"}),
        Check("recall_order_agreement", "reported",
              "Spearman rho between the CNN's seed-mean tau_c by MI and by recall."),
        Check("final_accuracy_linear", "reported", "Final test accuracy of the linear model."),
        Check("final_accuracy_cnn", "reported", "Final test accuracy of the CNN."),
        Check("final_accuracy_vit", "reported", "Final test accuracy of the ViT."),
    ),
)  # fmt: skip

TITLES = {"linear": "linear", "cnn": "CNN", "vit": "ViT"}
QUANTITIES = {"mi": "I(F_t;Y=c) [bits]", "mu": "mu_c = I(F_t;Y=c) - I(F_t;Y=c|L) [bits]"}


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Seed-mean per-class curves, accuracy curves, learning times (by MI and by recall)."""
    out: dict[str, Any] = {
        "classes": class_names(result),
        "title": f"{result.provenance.get('dataset', '')} ({len(result.units)} seeds)",
        "models": list(MODELS),
        "curves": {},
        "accuracy": {},
        "tau": {},
        "tau_recall": {},
    }
    for model in MODELS:
        steps, _ = curve_table(result, model)
        out["steps"] = steps
        out["curves"][model] = {q: curve_table(result, model, q)[1].mean(0) for q in QUANTITIES}
        out["accuracy"][model] = accuracy_table(result, model)[1].mean(0)
        out["tau"][model] = learning_times(result, model)
        out["tau_recall"][model] = learning_times(result, model, "recall")
    return out


def per_class_curves(data: dict[str, Any]) -> Any:
    """Their Fig. 2-5: per-class I(F_t;Y=c) (top) and mu_c (bottom) per model, seed means,
    one colour per class; dots mark each class's seed-mean tau_c."""
    models, names = data["models"], data["classes"]
    steps = np.asarray(data["steps"], dtype=float)
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(2, len(models), figsize=(4.0 * len(models), 6.4), sharex=True,
                             squeeze=False)  # fmt: skip
    for col, model in enumerate(models):
        tau = np.asarray(data["tau"][model], dtype=float).mean(axis=0)
        for row, quantity in enumerate(QUANTITIES):
            mean = np.asarray(data["curves"][model][quantity], dtype=float)
            ax = axes[row, col]
            for c, name in enumerate(names):
                ax.plot(steps, mean[:, c], color=colours(c), lw=1.3, label=name)
                if quantity == "mi" and np.isfinite(tau[c]):
                    ax.plot(tau[c], np.interp(tau[c], steps, mean[:, c]), "o", color=colours(c))
            if row == 0:
                ax.set_title(TITLES.get(model, model))
            if col == 0:
                ax.set_ylabel(QUANTITIES[quantity], fontsize=8)
            if row == 1:
                ax.set_xlabel("SGD step")
    axes[0, -1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle(f"{data['title']}: per-class information, seed means (dots: tau_c)", fontsize=10)
    fig.tight_layout()
    return fig


def accuracy_curves(data: dict[str, Any]) -> Any:
    """Test accuracy of every model against the SGD step (seed mean): the CNN's warm-up."""
    steps = np.asarray(data["steps"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for model in data["models"]:
        ax.plot(steps, data["accuracy"][model], lw=1.6, label=TITLES.get(model, model))
    ax.axhline(1.5 / len(data["classes"]), color="#999999", ls=":", lw=1, label="1.5 x chance")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    ax.set_title(str(data["title"]), fontsize=10)
    fig.tight_layout()
    return fig


def learning_time_plot(data: dict[str, Any]) -> Any:
    """tau_c per class and model: seed mean with the range over seeds."""
    names, models = data["classes"], data["models"]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    x = np.arange(len(names))
    for offset, model in zip(np.linspace(-0.25, 0.25, len(models)), models):
        tau = np.asarray(data["tau"][model], dtype=float)
        tau = np.where(np.isfinite(tau), tau, np.nan)
        with warnings.catch_warnings():  # a class never learned by any seed: no bar
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(tau, axis=0)
            low, high = mean - np.nanmin(tau, axis=0), np.nanmax(tau, axis=0) - mean
        ax.errorbar(x + offset, mean, yerr=[low, high], fmt="o", capsize=2,
                    label=TITLES.get(model, model))  # fmt: skip
    ax.set_xticks(x, names, rotation=30, fontsize=8)
    ax.set_ylabel("tau_c [SGD steps]")
    ax.set_title("learning time: first step with I(F_t;Y=c) >= half its final value", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _order(tau: Any) -> list[int]:
    """Classes by mean rank over seeds (rank 1 = learned first)."""
    return list(np.argsort(ranking.ranks(np.asarray(tau, dtype=float)).mean(axis=0), kind="stable"))


def order_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The learned order per model (rank 1 = first), by the MI-based tau_c (mean rank over
    seeds) and by recall (first step from which a class's recall stays at half its final)."""
    names = data["classes"]
    columns, orders = ["rank"], []
    for model in data["models"]:
        for key, label in (("tau", "MI"), ("tau_recall", "recall")):
            columns.append(f"{TITLES.get(model, model)} ({label})")
            orders.append([names[c] for c in _order(data[key][model])])
    return columns, [[i + 1, *(o[i] for o in orders)] for i in range(len(names))]


def learning_time_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """tau_c per class (rows) and model: seed mean and std, in SGD steps."""
    columns = ["class"]
    cells = []
    for model in data["models"]:
        tau = np.asarray(data["tau"][model], dtype=float)
        columns += [f"{TITLES.get(model, model)} mean", f"{TITLES.get(model, model)} std"]
        with np.errstate(invalid="ignore"):  # inf (never learned) gives a NaN spread
            spread = tau.std(axis=0, ddof=1) if len(tau) > 1 else np.zeros(tau.shape[1])
        cells.append((tau.mean(axis=0), spread))
    rows = [[name, *(round(float(v), 1) for m, s in cells for v in (m[c], s[c]))]
            for c, name in enumerate(data["classes"])]  # fmt: skip
    return columns, rows


FIGURES = (
    Figure("per_class_curves",
           "Per-class I(F_t;Y=c) (top) and mu_c = I(F_t;Y=c) - I(F_t;Y=c|L) (bottom) against "
           "the SGD step, seed means; L is the seed's final linear model (Schouten & Toonen "
           "2023, Fig. 2-5). Dots: tau_c, where I(F_t;Y=c) first reaches half its final value.",
           per_class_curves),
    Figure("accuracy_curves",
           "Test accuracy of the three models against the SGD step (seed means); the CNN's "
           "warm-up is where it stays near chance.", accuracy_curves, paper=OURS),
    Figure("learning_times", "tau_c per class and model, seed mean with the range over seeds.",
           learning_time_plot, paper=OURS),
)  # fmt: skip
TABLES = (
    Table("learned_order",
          "Learned order per model, rank 1 = learned first: by the MI-based tau_c (mean rank "
          "over seeds; ties in class order) and by recall (first step from which the class's "
          "recall stays at half its final value). Paper: MNIST 0 and 1 first, 5 and 8 last; "
          "CIFAR-10 frog, ship and airplane first (Sec. 4).", order_table),
    Table("learning_time_table", "tau_c in SGD steps, mean and std over seeds.",
          learning_time_table),
)  # fmt: skip
