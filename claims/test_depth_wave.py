"""depth_wave (Pinson et al., Sec. 2-3): layers turn effectively nonlinear from deep to
shallow — partly-linear variants diverge from the main model earlier the more layers are
linear, and mean preactivations turn negative deep layers first (CLAIMS.md)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sgdclaims.cases import scale_cases
from sgdclaims.depth import deep_first_correlation, divergence_step, rank_correlation
from sgdclaims.experiments.depth_wave import (
    accuracy_curves,
    config,
    divergence_steps,
    preactivation_curves,
    run,
    variant_depth,
)
from sgdclaims.info import performance_correlation
from sgdclaims.report.figures_depth_wave import accuracy_figure, preactivation_heatmap

CASES = scale_cases(fast=["fashion_mnist"], full=["cifar10", "imagenet"])
WAVE_RHO = -0.8
LINEAR_FIRST = 0.10
DEEP_FIRST_RHO = -0.5


def _result(scale, dataset, data_root, device):
    """The shared experiment result (computed once, then read from the disk cache)."""
    return run(config(scale, dataset), data_root=data_root, device=device, progress=False)


def _depths(result, labels):
    n_layers = result.frame("preact")["layer"].nunique()
    return [variant_depth(lab, n_layers) for lab in labels]


def _wave_rho(depths, d):
    return rank_correlation(depths, [d[k] for k in d])


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_wave_monotone(scale, dataset, data_root, device, claim):
    result = _result(scale, dataset, data_root, device)
    claim.use(result)
    steps, labels, acc = accuracy_curves(result)
    depths = _depths(result, labels)
    d = divergence_steps(result)
    rho = _wave_rho(depths, d)
    per_seed = [_wave_rho(depths, divergence_steps(result, a)) for a in acc]
    chance = 1.0 / int(result.provenance["num_classes"])
    mean = acc.mean(axis=0)
    shuffled = []
    for perm in itertools.permutations(range(1, len(labels))):
        order = [0, *perm]
        d_perm = [divergence_step(steps, mean[0], mean[j], chance) for j in order]
        shuffled.append(rank_correlation(depths, d_perm))
    shuffled = np.asarray(shuffled)
    passing = float(np.mean(shuffled <= WAVE_RHO))
    variants = [lab for lab in labels if lab != "0"]
    rho_without_main = rank_correlation(depths[1:], [d[lab] for lab in variants])
    claim.record(
        "wave_monotone", rho, op="<=", threshold=WAVE_RHO, per_seed=per_seed,
        control=float(np.nanmedian(shuffled)), reference="deeper k diverges earlier (Fig. 1)",
        note="d(k) = " + ", ".join(f"{lab}: {d[lab]:g}" for lab in labels)
        + f"; rho without k=0: {rho_without_main:.3f}; control = median rho with the "
        "variants' curves shuffled over k (all permutations)",
    )  # fmt: skip
    claim.record("shuffled_k_pass_fraction", passing, op="<", threshold=0.5,
                 note=f"{len(shuffled)} permutations of the variants over k")  # fmt: skip
    claim.figure("accuracy", accuracy_figure(result, d),
                 caption="Seed-mean test accuracy of the main and partly-linear models and "
                 "their smoothed differences; dots mark d(k) (their Fig. 1).")  # fmt: skip
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_linear_diverges_first(scale, dataset, data_root, device, claim):
    result = _result(scale, dataset, data_root, device)
    claim.use(result)
    steps, _, acc = accuracy_curves(result)
    total = float(steps[-1])
    d_all = divergence_steps(result)["all"]
    per_seed = [divergence_steps(result, a)["all"] / total for a in acc]
    chance = 1.0 / int(result.provenance["num_classes"])
    main = acc[:, 0]
    rest = [main[[j for j in range(len(main)) if j != i]].mean(0) for i in range(len(main))]
    control = min(divergence_step(steps, r, m, chance) for r, m in zip(rest, main)) / total
    claim.record(
        "linear_diverges_first", d_all / total, op="<=", threshold=LINEAR_FIRST,
        per_seed=per_seed, control=control, reference="fully linear diverges at once (Fig. 1)",
        note=f"d(all) = {d_all:g} of {total:g} steps; control: earliest divergence of one "
        "main-model seed from the mean of the others (seed noise alone)",
    )  # fmt: skip
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_preact_deep_first(scale, dataset, data_root, device, claim):
    result = _result(scale, dataset, data_root, device)
    claim.use(result)
    steps, pre = preactivation_curves(result, "0")
    trained = steps > 0  # step 0: BN running statistics not yet estimated, means arbitrary
    steps, pre = steps[trained], pre[..., trained]
    rho, t_neg = deep_first_correlation(steps, pre.mean(axis=0))
    per_seed = [deep_first_correlation(steps, p)[0] for p in pre]
    _, pre_lin = preactivation_curves(result, "all")
    control, _ = deep_first_correlation(steps, pre_lin[..., trained].mean(axis=0))
    claim.record(
        "preact_deep_first", rho, op="<=", threshold=DEEP_FIRST_RHO, per_seed=per_seed,
        control=control, reference="deep layers go negative first (Fig. 2)",
        note="t_neg(l) = " + ", ".join(f"{i}: {t:g}" for i, t in enumerate(t_neg))
        + " (evaluations after step 0); control: the same on the fully linear model",
    )  # fmt: skip
    claim.figure("preactivations", preactivation_heatmap(result, divergence_steps(result)),
                 caption="Mean preactivation of the main model per layer and step, with "
                 "t_neg(l), the divergence steps d(k) at depth k and the wavefront "
                 "(their Fig. 2).")  # fmt: skip
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_linear_layers_near_zero(scale, dataset, data_root, device, claim):
    result = _result(scale, dataset, data_root, device)
    claim.use(result)
    _, main = preactivation_curves(result, "0")
    _, linear = preactivation_curves(result, "all")
    main_abs = np.abs(main[:, :, -1]).mean(axis=1)
    linear_abs = np.abs(linear[:, :, -1]).mean(axis=1)
    claim.record(
        "linear_layers_near_zero", float(linear_abs.mean() / main_abs.mean()), op="<",
        threshold=1.0, per_seed=linear_abs / main_abs,
        reference="identity layers keep means near zero (Sec. 3)",
        note=f"final mean |preactivation mean|: fully linear {linear_abs.mean():.4f}, "
        f"main (ReLU) {main_abs.mean():.4f}; value is their ratio",
    )  # fmt: skip
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_mu_baseline(scale, dataset, data_root, device, claim):
    result = _result(scale, dataset, data_root, device)
    claim.use(result)
    labels = list(result.provenance["variants"])
    preds = {u: result.arrays[u]["final_preds"] for u in result.units}
    y = result.arrays[result.units[0]]["y_test"]
    between = [
        float(performance_correlation(preds[a][0], y, preds[b][0]))
        for a, b in itertools.permutations(result.units, 2)
    ]
    claim.record(
        "mu_baseline",
        float(np.mean(between)),
        per_seed=between,
        note="mu_Y(M_i; M_j) in bits between main-model runs of different seeds",
    )
    for v, lab in enumerate(labels[1:], start=1):
        mus = [float(performance_correlation(preds[u][0], y, preds[u][v])) for u in result.units]
        claim.record(f"mu_main_vs_k{lab}", float(np.mean(mus)), per_seed=mus,
                     note=f"mu_Y(M; P_{lab}) in bits, same seed, end of training")  # fmt: skip
    assert np.isfinite(between).all(), "mu between main-model seeds is undefined"
