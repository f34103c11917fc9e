"""class_order's statistics (shared/CLAIMS.md, class_order, 2026-12-03): pure functions of the
cached result, every statistic, control, precondition, harness and reported value with its
per-seed values and the runs that are not alive. The readers of the stored curves are in
`readers`, the order statistics in `orders`, the reported values in `reported`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sgdclaims import ranking
from sgdclaims.alive import dead_runs
from sgdclaims.claims.class_order import orders, sizes
from sgdclaims.claims.class_order.config import ClassOrderConfig
from sgdclaims.claims.class_order.measure import SURROGATES
from sgdclaims.claims.class_order.readers import (
    RECALL_LEVEL,
    accuracy_table,
    class_shares,
    final_recall,
    learning_times,
    liveness_of,
    mi_levels,
)
from sgdclaims.claims.class_order.reported import harness, reported
from sgdclaims.curves import final_value, preceding_change
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_bootstrap

statistics = Statistics()
#: CLAIMS.md `converged`: the final accuracy against its mean over the preceding 20% ...
PRECEDING = 0.20
#: ... of a model whose final accuracy is at least twice chance (issue 24)
CONVERGED_ACCURACY = 0.2
#: permutations of each seed-bootstrap replicate of a p-value (verdict stability only)
REPLICATE_PERMUTATIONS = 199


def _resampled(n: int, statistic: Callable[[np.ndarray], float]) -> tuple[float, ...]:
    """seed_bootstrap of a statistic that does not depend on the order of the seeds, computed
    once per multiset of seeds (10 of them for 3 seeds instead of 1,000 resamples)."""
    cache: dict[tuple[int, ...], float] = {}

    def once(idx: np.ndarray) -> float:
        key = tuple(sorted(int(i) for i in idx))
        if key not in cache:
            cache[key] = float(statistic(np.asarray(key)))
        return cache[key]

    return seed_bootstrap(n, once)


def _dead(result: Result, *models: str) -> tuple[str, ...]:
    """The runs of `models` that are not alive, over every seed."""
    return tuple(d for m in models for d in dead_runs(liveness_of(result, m)))


@statistics.returns(
    "order_consistency",
    "order_consistency_control",
    "order_consistency_p",
    "paper_order",
    "paper_order_control",
    "paper_order_chance",
    "surrogate_paper_order",
)
def _cnn_order(result: Result) -> dict[str, Value]:
    cfg: ClassOrderConfig = result.config  # type: ignore[assignment]
    dead = _dead(result, "cnn")
    tau, blind = learning_times(result, "cnn"), learning_times(result, SURROGATES["cnn"])
    n = len(tau)
    w = orders.concordance(tau)
    null = orders.w_null(tau, cfg.n_permutations, cfg.control_seed)

    def p_of(idx: np.ndarray) -> float:
        boot = orders.w_null(tau[idx], REPLICATE_PERMUTATIONS, cfg.control_seed)
        return ranking.permutation_p(orders.concordance(tau[idx]), boot)

    others = {f"W {m}": orders.concordance(learning_times(result, m)) for m in ("linear", "vit")}
    return {
        "order_consistency": Value(
            w,
            note="Kendall's W of the CNN's class ranks by tau_c at the fixed level",
            details=others,
            dead=dead,
            replicates=_resampled(n, lambda idx: orders.concordance(tau[idx])),
        ),
        "order_consistency_control": Value(
            orders.concordance(blind), note="W of the CNN's class-blind surrogate", dead=dead
        ),
        "order_consistency_p": Value(
            ranking.permutation_p(w, null),
            note=f"permutation p of W, each seed's ranks shuffled ({cfg.n_permutations})",
            dead=dead,
            replicates=_resampled(n, p_of),
        ),
        "paper_order": Value(
            orders.paper_order_met(tau.mean(axis=0)),
            orders.paper_order_met(tau),
            "1: met by the CNN's seed-mean tau_c (per seed: its own order)",
            dead=dead,
            replicates=_resampled(n, lambda i: orders.paper_order_met(tau[i].mean(axis=0))),
        ),
        "paper_order_control": Value(
            orders.paper_order_met(blind.mean(axis=0)),
            orders.paper_order_met(blind),
            "the same of the CNN's class-blind surrogate (what class sizes alone give it: "
            "surrogate_paper_order)",
            dead=dead,
        ),
        "paper_order_chance": Value(
            orders.paper_order_chance(tau.mean(axis=0)),
            note="exact probability that a random order of the observed seed-mean tau_c "
            "(its ties kept) meets paper_order; 1/140 without ties",
        ),
        "surrogate_paper_order": _from_class_sizes(result, tau, dead),
    }


def _from_class_sizes(result: Result, tau: np.ndarray, dead: tuple[str, ...]) -> Value:
    """How many of paper_order's four conditions the CNN's class-blind surrogate meets from
    the test set's class sizes alone: its expected order under equal recall, up to the CNN's
    final accuracy (sizes.expected_times), beside the CNN's own."""
    final = final_value(*accuracy_table(result, "cnn"))
    shares, levels = class_shares(result), mi_levels(result)
    times = np.stack([sizes.expected_times(*a) for a in zip(shares, levels, final)])
    order = " ".join(str(c) for c in np.argsort(times.mean(axis=0), kind="stable"))
    finite = times[np.isfinite(times)]
    return Value(
        orders.paper_conditions(times.mean(axis=0)),
        orders.paper_conditions(times),
        "of paper_order's four conditions (0, 1 among the first three; 5, 8 among the last "
        "three), those the CNN's surrogate meets from class sizes alone: its expected order "
        "at the test set's class shares, by the accuracy at which each class's expected "
        f"I(F;Y=c) under equal recall reaches the level, is {order} (first to last; a class "
        "beyond the CNN's final accuracy never, last)",
        {
            "conditions met by the CNN": orders.paper_conditions(tau.mean(axis=0)),
            "first crossing accuracy": np.min(times),
            "last finite crossing accuracy": finite.max() if finite.size else np.nan,
        },
        dead=dead,
    )


@statistics.returns(
    "classes_learned_cnn",
    "classes_learned_cnn_vit",
    "converged",
    "vit_cnn_agreement",
    "vit_cnn_agreement_control",
    "vit_cnn_agreement_p",
    "vit_sooner",
    "vit_sooner_control",
)
def _vit(result: Result) -> dict[str, Value]:
    cfg: ClassOrderConfig = result.config  # type: ignore[assignment]
    dead_cnn, dead = _dead(result, "cnn"), _dead(result, "cnn", "vit")
    learned = {m: (final_recall(result, m) >= RECALL_LEVEL).sum(axis=1) for m in ("cnn", "vit")}
    climb = {}
    for m in ("cnn", "vit"):
        steps, acc = accuracy_table(result, m)
        low = final_value(steps, acc) < CONVERGED_ACCURACY
        climb[m] = np.where(low, np.inf, preceding_change(steps, acc, PRECEDING))
    tau = {m: learning_times(result, m) for m in ("cnn", "vit")}
    blind = {m: learning_times(result, s) for m, s in SURROGATES.items()}
    mean = {m: t.mean(axis=0) for m, t in tau.items()}
    perm = {"n_permutations": cfg.n_permutations, "seed": cfg.control_seed}
    _, p = ranking.spearman_test(mean["cnn"], mean["vit"], **perm)
    rho = orders.rho(mean["cnn"], mean["vit"])
    seeds = {m: orders.mean_times(t) for m, t in tau.items()}
    ratio = orders.ratios(seeds["vit"], seeds["cnn"])
    n = len(ratio)

    def rho_of(idx: np.ndarray) -> float:
        return orders.rho(tau["cnn"][idx].mean(axis=0), tau["vit"][idx].mean(axis=0))

    def p_of(idx: np.ndarray) -> float:
        a, b = tau["cnn"][idx].mean(axis=0), tau["vit"][idx].mean(axis=0)
        _, boot = ranking.spearman_test(
            a, b, n_permutations=REPLICATE_PERMUTATIONS, seed=cfg.control_seed
        )
        return boot

    count = np.minimum(learned["cnn"], learned["vit"])
    return {
        "classes_learned_cnn": Value(
            learned["cnn"].min(),
            learned["cnn"],
            f"classes with final recall >= {RECALL_LEVEL:g}, CNN",
            dead=dead_cnn,
        ),
        "classes_learned_cnn_vit": Value(
            count.min(),
            count,
            f"classes with final recall >= {RECALL_LEVEL:g}, the fewer of the CNN and ViT",
            {f"{m}, seed mean": np.mean(c) for m, c in learned.items()},
            dead=dead,
        ),
        "converged": Value(
            np.max(np.maximum(climb["cnn"], climb["vit"])),
            np.maximum(climb["cnn"], climb["vit"]),
            "largest |final test accuracy - its mean over the preceding 20% of the run| of the "
            "CNN and the ViT (inf for a model whose final accuracy is below 2 x chance)",
            {f"{m}, seed mean": np.mean(c) for m, c in climb.items()},
            dead=dead,
        ),
        "vit_cnn_agreement": Value(
            rho,
            [orders.rho(c, v) for c, v in zip(tau["cnn"], tau["vit"])],
            "rho of the seed-mean tau_c of the CNN and the ViT (per seed: its own pair)",
            dead=dead,
            replicates=_resampled(n, rho_of),
        ),
        "vit_cnn_agreement_control": Value(
            orders.rho(blind["cnn"].mean(axis=0), blind["vit"].mean(axis=0)),
            note="rho of the seed-mean tau_c of the two class-blind surrogates",
            dead=dead,
        ),
        "vit_cnn_agreement_p": Value(
            p if np.isfinite(p) else 1.0,
            note=f"one-sided permutation p of rho, {cfg.n_permutations} class shuffles (1 "
            "where an order ties every class)",
            dead=dead,
            replicates=_resampled(n, p_of),
        ),
        "vit_sooner": Value(
            orders.geometric_mean(ratio),
            ratio,
            "geometric mean over seeds of mean_c tau_c(ViT) / mean_c tau_c(CNN) (NaN: an "
            "infinite tau)",
            dead=dead,
            replicates=_resampled(n, lambda idx: orders.geometric_mean(ratio[idx])),
        ),
        "vit_sooner_control": Value(
            orders.noise_floor(seeds["cnn"]),
            seeds["cnn"],
            "smallest ratio of mean_c tau_c between two CNN seeds (per seed: mean_c tau_c)",
            dead=dead,
        ),
    }


@statistics.returns(
    "alive",
    "n_test",
    "curves_recorded",
    "gap_tracks_order",
    "warm_up_linear",
    "warm_up_cnn",
    "warm_up_vit",
    "vit_sooner_from_warm_up",
    "recall_order_agreement",
    "final_accuracy_linear",
    "final_accuracy_cnn",
    "final_accuracy_vit",
)
def _reported(result: Result) -> dict[str, Value]:
    return {**harness(result), **reported(result)}
