"""Claim recording: what a claim test measured, against which threshold, with what verdict.

A claim test receives a `ClaimRecorder` (the `claim` fixture), records each statistic
with `record(...)`, attaches figures and tables, names the experiment results it read
with `use(...)`, and finally calls `verify()`, which asserts every asserted statistic.
The session hook in conftest.py collects the recorders and writes reports/.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from sgdclaims.report.svg import figure_to_svg

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


@dataclasses.dataclass
class Record:
    """One statistic of a claim at one scale on one data set."""

    statistic: str
    value: float
    threshold: float | None
    op: str | None
    passed: bool | None
    asserted: bool
    spread: float | None = None
    per_seed: list[float] | None = None
    control: float | None = None
    reference: str | None = None
    note: str = ""

    def describe(self) -> str:
        """'early_explained = 0.83 (>= 0.8)'-style one-liner."""
        cond = f" ({self.op} {self.threshold:g})" if self.op else " (reported)"
        spread = f" ± {self.spread:.3g}" if self.spread is not None else ""
        return f"{self.statistic} = {self.value:.4g}{spread}{cond}"


def _float_or_none(x: Any) -> float | None:
    return None if x is None else float(x)


class ClaimRecorder:
    """Collects statistics, figures, tables and setup for one claim test."""

    def __init__(self, claim: str, scale: str | None, dataset: str | None, test_id: str):
        self.claim = claim
        self.scale = scale
        self.dataset = dataset
        self.test_id = test_id
        self.records: list[Record] = []
        self.figures: list[dict[str, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.setup: list[dict[str, Any]] = []
        self.verified = False

    def record(
        self,
        statistic: str,
        value: float,
        *,
        op: str | None = None,
        threshold: float | None = None,
        per_seed: Any = None,
        spread: float | None = None,
        control: float | None = None,
        reference: str | None = None,
        note: str = "",
    ) -> Record:
        """Record a statistic; with `op` and `threshold` it is asserted by `verify()`.

        per_seed: values per seed; spread defaults to their standard deviation.
        control: the same statistic on the control (it should fail the threshold).
        reference: the paper's value as text, e.g. '~0.97 (Fig. 4)'.
        """
        if (op is None) != (threshold is None):
            raise ValueError("give both op and threshold, or neither (a reported statistic)")
        if op is not None and op not in COMPARISONS:
            raise ValueError(f"op must be one of {sorted(COMPARISONS)}, got {op!r}")
        seeds = None if per_seed is None else [float(v) for v in np.ravel(np.asarray(per_seed))]
        if spread is None and seeds is not None and len(seeds) > 1:
            finite = [v for v in seeds if math.isfinite(v)]
            spread = float(np.std(finite, ddof=1)) if len(finite) > 1 else None
        value = float(value)
        passed = None
        if op is not None:
            passed = bool(COMPARISONS[op](value, float(threshold))) and not math.isnan(value)
        rec = Record(
            statistic=statistic,
            value=value,
            threshold=_float_or_none(threshold),
            op=op,
            passed=passed,
            asserted=op is not None,
            spread=_float_or_none(spread),
            per_seed=seeds,
            control=_float_or_none(control),
            reference=reference,
            note=note,
        )
        self.records.append(rec)
        return rec

    def figure(self, name: str, fig: Any, caption: str = "") -> None:
        """Attach a matplotlib figure (stored as deterministic inline SVG, then closed)."""
        self.figures.append({"name": name, "caption": caption, "svg": figure_to_svg(fig)})

    def table(self, name: str, frame: Any, caption: str = "") -> None:
        """Attach a small table (a pandas DataFrame) to the report."""
        self.tables.append(
            {
                "name": name,
                "caption": caption,
                "columns": [str(c) for c in frame.columns],
                "rows": [[_jsonable(v) for v in row] for row in frame.itertuples(index=False)],
            }
        )

    def use(self, result: Any) -> None:
        """Name an experiment Result this test read: config, cache key, provenance, time."""
        self.setup.append(
            {
                "config_class": type(result.config).__name__,
                "config": result.config.to_dict(),
                "paper_differences": result.config.paper_differences(),
                "cache_key": result.cache_key,
                "units": [str(u) for u in result.units],
                "provenance": {k: _jsonable(v) for k, v in result.provenance.items()},
                "seconds": float(result.seconds),
                "reused_units": int(result.reused),
            }
        )

    def failures(self) -> list[Record]:
        """Asserted records that did not meet their threshold."""
        return [r for r in self.records if r.asserted and not r.passed]

    def verify(self) -> None:
        """Assert every asserted statistic recorded so far, listing all that failed."""
        self.verified = True
        if not any(r.asserted for r in self.records):
            raise AssertionError(f"{self.test_id}: no asserted statistic was recorded")
        failed = self.failures()
        if failed:
            lines = "; ".join(r.describe() for r in failed)
            raise AssertionError(f"{self.claim} [{self.scale}, {self.dataset}]: {lines}")

    def to_json(self) -> dict[str, Any]:
        """Everything recorded, as plain JSON."""
        return {
            "claim": self.claim,
            "scale": self.scale,
            "dataset": self.dataset,
            "test_id": self.test_id,
            "records": [dataclasses.asdict(r) for r in self.records],
            "figures": self.figures,
            "tables": self.tables,
            "setup": self.setup,
        }


def _jsonable(value: Any) -> Any:
    """Numbers, strings and lists as JSON; numpy scalars unwrapped; others as str."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
