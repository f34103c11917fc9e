"""class_order's statistics (shared/CLAIMS.md, class_order): pure functions of the cached
result, every statistic, control, precondition and reported value with its per-seed values.
The readers of the stored curves (learning times, accuracy) are in `readers`."""

from __future__ import annotations

import numpy as np

from sgdclaims import ranking
from sgdclaims.claims.class_order.config import MODELS, NUM_CLASSES, ClassOrderConfig
from sgdclaims.claims.class_order.readers import (
    RELABELLINGS,
    accuracy_table,
    learning_times,
    mid_training_gap,
    relabelled,
)
from sgdclaims.curves import final_value, first_reaching, preceding_change
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

statistics = Statistics()
#: the paper's MNIST order (Sec. 4): 0 and 1 among the first three, 5 and 8 the last three
PAPER_FIRST, PAPER_LAST = (0, 1), (5, 8)
#: CLAIMS.md `converged`: the final accuracy against its mean over the preceding 20%
PRECEDING = 0.20
#: a model's warm-up ends at the first checkpoint with test accuracy >= 1.5 x chance (a net
#: that predicts one class scores that class's share, ~chance)
WARMUP_ACC = 1.5 / NUM_CLASSES
#: the relabelled pairs of the vit_cnn_agreement control
AGREEMENT_PAIRS = 50


@statistics.returns(
    "order_consistency",
    "order_consistency_control",
    "order_consistency_p",
    "order_consistency_p_control",
)
def _order(result: Result) -> dict[str, Value]:
    cfg: ClassOrderConfig = result.config  # type: ignore[assignment]
    r = ranking.ranks(learning_times(result, "cnn"))
    null = ranking.w_null(r, n_permutations=cfg.n_permutations, seed=cfg.control_seed)
    w, w_control = ranking.kendalls_w(r), ranking.concordance(relabelled(result, "cnn"))
    others = {f"W {m}": ranking.concordance(learning_times(result, m)) for m in ("linear", "vit")}
    over = f"median over {RELABELLINGS} independent per-seed relabellings of the classes"
    return {
        "order_consistency": Value(
            w, note="Kendall's W of the CNN's class ranks by tau_c", details=others
        ),
        "order_consistency_control": Value(np.median(w_control), note=f"W: {over}"),
        "order_consistency_p": Value(
            ranking.permutation_p(w, null), note=f"permutation p, {cfg.n_permutations} shuffles"
        ),
        "order_consistency_p_control": Value(
            np.median(ranking.permutation_p(w_control, null)), note=f"p: {over}"
        ),
    }


def paper_order_met(tau: np.ndarray) -> np.ndarray:
    """1 where the order of tau (..., C) has classes 0 and 1 among its first three and 5
    and 8 among its last three (ties share their average rank), else 0."""
    r = ranking.ranks(tau)
    first = (r[..., list(PAPER_FIRST)] <= 3).all(axis=-1)
    last = (r[..., list(PAPER_LAST)] >= tau.shape[-1] - 2).all(axis=-1)
    return (first & last).astype(np.float64)


@statistics.returns("paper_order", "paper_order_control")
def _paper_order(result: Result) -> dict[str, Value]:
    tau, shuffled = learning_times(result, "cnn"), relabelled(result, "cnn").mean(axis=1)
    return {
        "paper_order": Value(
            paper_order_met(tau.mean(axis=0)),
            paper_order_met(tau),
            "1: met by the CNN's seed-mean tau_c (per seed: its own order)",
        ),
        "paper_order_control": Value(
            paper_order_met(shuffled).mean(),
            note=f"share of {RELABELLINGS} relabellings meeting it",
        ),
    }


@statistics.returns(
    "converged",
    "vit_cnn_agreement",
    "vit_cnn_agreement_control",
    "vit_cnn_agreement_p",
    "vit_cnn_agreement_p_control",
    "vit_sooner",
    "vit_sooner_control",
)
def _vit(result: Result) -> dict[str, Value]:
    cfg: ClassOrderConfig = result.config  # type: ignore[assignment]
    tau = {m: learning_times(result, m) for m in ("cnn", "vit")}
    climbs = {m: preceding_change(*accuracy_table(result, m), PRECEDING) for m in tau}
    worst = np.maximum(climbs["cnn"], climbs["vit"])
    perm = {"n_permutations": cfg.n_permutations, "seed": cfg.control_seed}
    rho, p = ranking.spearman_test(tau["cnn"].mean(0), tau["vit"].mean(0), **perm)
    cnn_shuffled = relabelled(result, "cnn").mean(1)[:AGREEMENT_PAIRS]
    pairs = zip(cnn_shuffled, relabelled(result, "vit").mean(1))
    control = np.array([ranking.spearman_test(a, b, **perm) for a, b in pairs])
    mean_tau = {m: t.mean(axis=1) for m, t in tau.items()}  # per seed; inf: a class not learned
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = mean_tau["vit"] / mean_tau["cnn"]
        self_ratio = np.roll(mean_tau["cnn"], -1) / mean_tau["cnn"]
    per_seed_rho = [ranking.spearman(c, v) for c, v in zip(*tau.values())]
    return {
        "converged": Value(
            np.max(worst),
            worst,
            "largest |final test accuracy - its mean over the preceding 20% of the run| of the "
            "CNN and the ViT (per seed: the larger)",
            {f"{m}, seed mean": np.mean(c) for m, c in climbs.items()},
        ),
        "vit_cnn_agreement": Value(
            rho, per_seed_rho, "rho of the seed-mean tau_c (per seed: its own pair)"
        ),
        "vit_cnn_agreement_control": Value(
            np.median(control[:, 0]),
            note=f"median rho over {AGREEMENT_PAIRS} independent relabellings of both models' "
            "classes",
        ),
        "vit_cnn_agreement_p": Value(p, note=f"one-sided, {cfg.n_permutations} class shuffles"),
        "vit_cnn_agreement_p_control": Value(
            np.median(control[:, 1]), note="median p of the relabelled pairs"
        ),
        "vit_sooner": seed_mean(ratio, "mean_c tau_c(ViT) / mean_c tau_c(CNN), per seed"),
        "vit_sooner_control": seed_mean(self_ratio, "the CNN's seed s+1 over its seed s"),
    }


@statistics.returns(
    "gap_tracks_order",
    "cnn_warmup",
    "vit_warmup",
    "recall_order_agreement",
    *(f"final_accuracy_{m}" for m in MODELS),
)
def _reported(result: Result) -> dict[str, Value]:
    gap = {
        m: [
            ranking.spearman(t, g)
            for t, g in zip(learning_times(result, m), mid_training_gap(result, m))
        ]
        for m in ("cnn", "vit")
    }
    by_recall = learning_times(result, "cnn", "recall").mean(0)
    by_mi = learning_times(result, "cnn").mean(0)
    out = {
        "gap_tracks_order": seed_mean(
            gap["cnn"],
            "CNN: rho(tau_c, Miller-Madow I(F;Y=c|L) at mid-training), per seed",
            ViT=np.mean(gap["vit"]),
        ),
        "recall_order_agreement": Value(
            ranking.spearman(by_mi, by_recall), note="CNN: MI vs recall"
        ),
    }
    steps = float(result.scalars["steps"].iloc[0])
    for m in ("cnn", "vit"):
        warm = first_reaching(*accuracy_table(result, m), WARMUP_ACC)
        note = f"steps until the {m}'s test accuracy first reaches 1.5 x chance"
        out[f"{m}_warmup"] = seed_mean(warm, note, fraction_of_run=np.mean(warm) / steps)
    for m in MODELS:
        out[f"final_accuracy_{m}"] = seed_mean(
            final_value(*accuracy_table(result, m)), "mean over the last 5% of the run"
        )
    return out
