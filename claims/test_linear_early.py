"""Claim linear_early (Nakkiran et al. 2019, Sec. 3, Fig. 4): early in SGD a linear classifier
explains almost all of a CNN's information on the label, and the CNN keeps it later.

Statistics and thresholds: shared/CLAIMS.md, "linear_early". Each test reads the cached
result of its (scale, data set) and asserts one statistic; the control classifier (L's
per-class accuracy, errors independent of L's) must fail the early statistic.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sgdclaims.cases import scale_cases
from sgdclaims.experiments import linear_early as le
from sgdclaims.report import figures_linear_early as figures

CASES = scale_cases(fast=["sinusoid_disc", "mnist", "fashion_mnist"], full=["mnist", "cifar10"])
REFERENCE_FILE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "linear_early.json"
)
EARLY = 0.80
GAP = 0.20
OUTGROWS = 0.05
RETAINED = 0.85
DROP = 0.10


def result(scale: str, dataset: str, data_root: Path, device) -> le.Result:
    """The experiment of a case, computed once and then read from the disk cache."""
    return le.run(le.config(scale, dataset), data_root=data_root, device=device, progress=False)


@cache
def paper_reference(dataset: str) -> dict[str, str]:
    """The paper's values per statistic as text (Fig. 4 via CLAIMS.md); empty if none."""
    values = json.loads(REFERENCE_FILE.read_text())["values"].get(dataset)
    if values is None:
        return {}
    fig = values["I_FT_Y"]["figure"]
    plateau = np.mean([values["mu_plateau"]["low"], values["mu_plateau"]["high"]])
    out = {
        "I(L;Y) [bits]": f"{values['I_LY']['text']} ({fig})",
        "I(F_T;Y) [bits]": f"{values['I_FT_Y']['text']} ({fig})",
        "outgrows_linear": (
            f"~{values['I_FT_Y']['value'] - plateau:.2f} bits "
            f"(I(F_T;Y) minus the mu plateau, {fig})"
        ),
        "retained": f"{values['retained']['text']} ({values['retained']['figure']})",
        "retention_drop": f"~0: {values['mu_plateau']['text']} ({fig})",
    }
    if "mu_tracks_until" in values:
        out["early_explained"] = f"~1: {values['mu_tracks_until']['text']} ({fig})"
    return out


def summary(res: le.Result) -> dict[str, tuple[float, float | None, str]]:
    """Every statistic of the case as (seed-mean value, std over seeds, threshold)."""
    i_ly = le.mutual_information_of_l(res)
    ee, ee_seeds = le.early_explained(res)
    ce, ce_seeds = le.early_explained(res, "mu_control")

    def std(x: np.ndarray) -> float | None:
        finite = np.asarray(x, dtype=float)[np.isfinite(x)]
        return float(np.std(finite, ddof=1)) if len(finite) > 1 else None

    rows = {
        "early_explained": (ee, std(ee_seeds), f">= {EARLY}"),
        "control early_explained": (ce, std(ce_seeds), f"< {EARLY} (control)"),
        "control_gap": (ee - ce, std(ee_seeds - ce_seeds), f">= {GAP}"),
    }
    for name, values, threshold in (
        ("outgrows_linear", le.outgrows_linear(res), f">= {OUTGROWS} bits"),
        ("retained", le.retained(res), f">= {RETAINED}"),
        ("retention_drop", le.retention_drop(res), f"<= {DROP} I(L;Y) = {DROP * i_ly:.3f}"),
        ("I(F_T;Y) [bits]", le.final_column(res, "I_FY"), "reported"),
    ):
        rows[name] = (float(np.mean(values)), std(values), threshold)
    rows["I(L;Y) [bits]"] = (i_ly, None, "reported")
    return rows


def attach_report(claim, res: le.Result, dataset: str) -> None:
    """Their Fig. 4 for this data set and the statistics table beside the paper's values."""
    claim.figure(
        "information_curves",
        figures.information_curves(res),
        caption=(
            "I(F_t;Y), mu_Y(F_t;L) and mu_Y(F_t;control) against the SGD step (seed mean, "
            "band: ±1 std over seeds), the I(L;Y) line, the early window 0.2-0.8 I(L;Y) "
            "shaded, test accuracy on the right axis (Nakkiran et al. 2019, Fig. 4)."
        ),
    )
    claim.table(
        "statistics",
        figures.statistics_table(summary(res), paper_reference(dataset)),
        caption="Seed mean ± std over seeds; the paper's values from Fig. 4 where it has them.",
    )


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_early_explained(scale, dataset, data_root, device, claim):
    """min over the early window of mu_Y(F_t;L)/I(F_t;Y) on the seed-mean curves >= 0.80; the
    control classifier must fail it."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    value, per_seed = le.early_explained(res)
    control, control_seeds = le.early_explained(res, "mu_control")
    reference = paper_reference(dataset).get("early_explained")
    claim.record(
        "early_explained",
        value,
        op=">=",
        threshold=EARLY,
        per_seed=per_seed,
        control=control,
        reference=reference,
        note=(
            f"{le.window_size(res)} checkpoints of the seed-mean curve in the early window; "
            "per-seed values use each seed's own window (NaN: none in it)"
        ),
    )
    claim.record(
        "control_early_explained",
        control,
        op="<",
        threshold=EARLY,
        per_seed=control_seeds,
        note="the control classifier (L's per-class accuracy, independent errors) must fail",
    )
    scalars = res.scalars
    claim.record("I_LY", le.mutual_information_of_l(res), note="bits, L on the test set")
    claim.record("accuracy_L", float(scalars["l_acc"].iloc[0]))
    claim.record("final_accuracy_F", float(scalars["final_acc"].mean()), per_seed=scalars.final_acc)
    attach_report(claim, res, dataset)
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_control_gap(scale, dataset, data_root, device, claim):
    """early_explained minus the control's (same statistic, L replaced by the control) >= 0.20."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    value, per_seed = le.early_explained(res)
    control, control_seeds = le.early_explained(res, "mu_control")
    claim.record(
        "control_gap",
        value - control,
        op=">=",
        threshold=GAP,
        per_seed=per_seed - control_seeds,
        control=control,
        note=f"early_explained {value:.3f}, control {control:.3f}",
    )
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_outgrows_linear(scale, dataset, data_root, device, claim):
    """I(F_T;Y) - mu_Y(F_T;L) at the last checkpoint >= 0.05 bits: F learns more than L."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    per_seed = le.outgrows_linear(res)
    claim.record(
        "outgrows_linear",
        float(np.mean(per_seed)),
        op=">=",
        threshold=OUTGROWS,
        per_seed=per_seed,
        reference=paper_reference(dataset).get("outgrows_linear"),
        note="bits",
    )
    claim.record("I_FT_Y", float(np.mean(le.final_column(res, "I_FY"))), note="bits")
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_retained(scale, dataset, data_root, device, claim):
    """mu_Y(F_T;L) / I(L;Y) at the last checkpoint >= 0.85: what L knows, F keeps."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    per_seed = le.retained(res)
    control = le.final_column(res, "mu_control") / le.mutual_information_of_l(res)
    claim.record(
        "retained",
        float(np.mean(per_seed)),
        op=">=",
        threshold=RETAINED,
        per_seed=per_seed,
        control=float(np.mean(control)),
        reference=paper_reference(dataset).get("retained"),
    )
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), CASES)
def test_retention_drop(scale, dataset, data_root, device, claim):
    """max_t mu_Y(F_t;L) - mu_Y(F_T;L) <= 0.10 I(L;Y); I(L;Y|F_T) and H(Y|F_T) beside it."""
    res = result(scale, dataset, data_root, device)
    claim.use(res)
    i_ly = le.mutual_information_of_l(res)
    per_seed = le.retention_drop(res)
    claim.record(
        "retention_drop",
        float(np.mean(per_seed)),
        op="<=",
        threshold=DROP * i_ly,
        per_seed=per_seed,
        reference=paper_reference(dataset).get("retention_drop"),
        note=f"bits; threshold 0.10 I(L;Y) with I(L;Y) = {i_ly:.4f}",
    )
    for name, column in (("I_LY_given_FT", "I_LY_given_F"), ("H_Y_given_FT", "H_Y_given_F")):
        values = le.final_column(res, column)
        claim.record(name, float(np.mean(values)), per_seed=values, note="bits")
    claim.verify()
