"""Claim class_order (Schouten & Toonen 2023, Sec. 3.2-4.3): classes are learned in a
consistent order; a ViT learns them in the CNN's order, but sooner.

Statistics and thresholds: shared/CLAIMS.md, "class_order". Each test reads the cached
result of its (scale, data set) and asserts one statistic. The control relabels the classes
of every seed by an independent random permutation (the models treat class indices
symmetrically, so this is what training on permuted class names gives); it must show no
consistent order.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sgdclaims import ranking
from sgdclaims.cases import scale_cases
from sgdclaims.experiments import class_order as co
from sgdclaims.report import figures_class_order as figures

CASES = scale_cases(fast=["mnist", "fashion_mnist"], full=["mnist", "cifar10"])
REFERENCE_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "class_order.json"
W_MIN = 0.5
P_MAX = 0.05
AGREEMENT = 0.5
SOONER = 1.0


def result(scale: str, dataset: str, data_root: Path, device) -> co.Result:
    """The experiment of a case, computed once and then read from the disk cache."""
    return co.run(co.config(scale, dataset), data_root=data_root, device=device, progress=False)


_STATISTICS: dict[str, dict] = {}


def stats_of(res: co.Result) -> dict:
    """The statistics of one result, computed once per cache key (the permutation test is
    seeded, so a recomputation gives the same values)."""
    if res.cache_key not in _STATISTICS:
        _STATISTICS[res.cache_key] = co.statistics(res)
    return _STATISTICS[res.cache_key]


@cache
def paper_order(dataset: str) -> str | None:
    """The order the paper reports for a data set, as text with its section."""
    orders = json.loads(REFERENCE_FILE.read_text())["orders"].get(dataset)
    if orders is None:
        return None
    text = f"first {', '.join(orders['first'])}"
    if "last" in orders:
        text += f"; last {', '.join(orders['last'])}"
    return f"{text} ({orders['section']})"


def attach_report(claim, res: co.Result) -> None:
    """Their Fig. 2-5 (per-class I and mu), the learned orders and the learning times."""
    claim.figure(
        "per_class_curves",
        figures.per_class_curves(res),
        caption=(
            "Per-class I(F_t;Y=c) (top) and mu_c = I(F_t;Y=c) - I(F_t;Y=c|L) (bottom) against "
            "the SGD step, seed means; L is the seed's final linear model (Schouten & Toonen "
            "2023, Fig. 2-5). Dots: tau_c, where I(F_t;Y=c) first reaches half its final value."
        ),
    )
    claim.figure(
        "learning_times",
        figures.learning_time_plot(res),
        caption="tau_c per class and model, seed mean with the range over seeds.",
    )
    claim.table(
        "learned_order",
        figures.order_table(res),
        caption=(
            "Learned order per model, rank 1 = learned first: by the MI-based tau_c (mean rank "
            "over seeds) and by recall (first step from which the class's recall stays at half "
            f"its final value). Paper: {paper_order(res.config.dataset) or 'no stated order'}."
        ),
    )
    claim.table(
        "learning_time_table",
        figures.learning_time_table(res),
        caption="tau_c in SGD steps, mean and std over seeds.",
    )


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_order_consistency(scale, dataset, data_root, device, claim):
    """Kendall's W of the CNN's class ranks (by tau_c) over seeds >= 0.5 with permutation
    p < 0.05; on per-seed permuted class labels (the control) W must stay below 0.5."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    s = stats_of(res)["order_consistency"]
    claim.record(
        "order_consistency",
        s["W"],
        op=">=",
        threshold=W_MIN,
        control=s["W_control"],
        reference=paper_order(dataset),
        note=f"Kendall's W over {len(res.units)} seeds, 10 classes",
    )
    claim.record(
        "order_consistency_p",
        s["p"],
        op="<",
        threshold=P_MAX,
        control=s["p_control"],
        note="permutation p-value (9,999 independent shuffles of each seed's ranks)",
    )
    claim.record(
        "order_consistency_control",
        s["W_control"],
        op="<",
        threshold=W_MIN,
        note=f"control: classes relabelled per seed; its p-value {s['p_control']:.3f}",
    )
    for model in ("vit", "linear"):
        w, p = ranking.kendalls_w_test(stats_of(res)["tau"][model])
        claim.record(f"W_{model}", w, note=f"Kendall's W of the {model}'s ranks, p = {p:.4f}")
    attach_report(claim, res)
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_vit_cnn_agreement(scale, dataset, data_root, device, claim):
    """Spearman rho between the seed-mean tau_c of the CNN and of the ViT >= 0.5."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    tau = stats_of(res)["tau"]
    per_seed = [ranking.spearman(c, v) for c, v in zip(tau["cnn"], tau["vit"])]
    control = ranking.spearman(
        ranking.permuted_classes(tau["cnn"], res.config.control_seed).mean(axis=0),
        ranking.permuted_classes(tau["vit"], res.config.control_seed + 1).mean(axis=0),
    )
    claim.record(
        "vit_cnn_agreement",
        stats_of(res)["vit_cnn_agreement"],
        op=">=",
        threshold=AGREEMENT,
        per_seed=per_seed,
        control=control,
        note="per seed: rho of that seed's CNN and ViT tau_c; control: classes relabelled",
    )
    claim.record(
        "linear_cnn_agreement",
        ranking.spearman(tau["cnn"].mean(axis=0), tau["linear"].mean(axis=0)),
        note="Spearman rho of the seed-mean tau_c of the CNN and the linear model",
    )
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_vit_sooner(scale, dataset, data_root, device, claim):
    """mean_c tau_c(ViT) / mean_c tau_c(CNN) < 1 (per seed, then the mean over seeds)."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    s = stats_of(res)["vit_sooner"]
    claim.record(
        "vit_sooner",
        s["value"],
        op="<",
        threshold=SOONER,
        per_seed=s["per_seed"],
        reference="< 1: the ViT has no warm-up, the CNN ~4 epochs on MNIST (Sec. 4)",
    )
    totals = res.frame("totals")
    final = totals[totals["step"] == totals["step"].max()]
    for model in res.config.models:
        acc = final[final["model"] == model]["test_acc"].to_numpy()
        claim.record(f"final_accuracy_{model}", float(acc.mean()), per_seed=acc)
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_gap_tracks_order(scale, dataset, data_root, device, claim):
    """Reported: Spearman rho between tau_c and the per-class gap I(F;Y=c) - mu_c =
    I(F;Y=c|L) at mid-training, per seed, for the CNN (and the ViT beside it)."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    gap = stats_of(res)["gap_tracks_order"]
    for model, name in (("cnn", "gap_tracks_order"), ("vit", "gap_tracks_order_vit")):
        claim.record(
            name,
            gap[model]["value"],
            per_seed=gap[model]["per_seed"],
            note=f"{model}: rho(tau_c, I(F;Y=c|L) at the checkpoint nearest half the run)",
        )
    assert np.isfinite(gap["cnn"]["value"]), "gap_tracks_order is undefined (constant ranks)"
