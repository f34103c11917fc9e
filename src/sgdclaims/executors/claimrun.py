"""`sgdclaims run`: compute a claim's cases through an executor, then evaluate its spec's
checks, print the statistics and verdicts as a table, and record them in the same results
store (and with the same node ids) as `pytest claims`, so either can follow the other.

A case whose result cannot be computed (a failed job, missing data) is reported and leaves
the store as it was; pytest records crashes as errors, this command does not.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sgdclaims import claims
from sgdclaims.claimcase import ClaimCase
from sgdclaims.executors.jobs import bind
from sgdclaims.record import entry_of, nodeid
from sgdclaims.runner import RunContext
from sgdclaims.spec import Check
from sgdclaims.verdicts import evaluate


def case_entries(case: ClaimCase, seconds: float) -> list[dict[str, Any]]:
    """The results-store entries of every spec check of a computed case (sgdclaims.record:
    the same record and verdict mapping as the pytest plugin's)."""
    out = []
    for i, check in enumerate(case.spec.checks_for(case.scale, case.dataset)):
        outcome = evaluate(
            case.spec, check.name, case.values, dataset=case.dataset, scale=case.scale
        )
        entry = entry_of(
            case.claim,
            case.scale,
            case.dataset,
            check.name,
            check.kind,
            nodeid(case.claim, case.scale, case.dataset, check.name),
            outcome,
            case.spec.registered_miss(check.name, case.scale, case.dataset),
            duration=seconds if i == 0 else 0.0,
        )
        out.append(entry.to_json())
    return out


def _number(value: Any) -> str:
    """A value for the table: 4 significant digits, 'nan', or the text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return "" if value is None else str(value)


def table(entries: list[dict[str, Any]], checks: dict[str, Check]) -> str:
    """The statistics and verdicts as a plain-text table."""
    header = ("data set", "check", "kind", "value", "± spread", "needs", "control", "verdict")
    rows = [header]
    for e in entries:
        record, check = e["record"] or {}, checks[e["statistic"]]
        control = record.get("control") or {}
        rows.append(
            (
                e["dataset"],
                e["statistic"],
                e["kind"] or "",
                _number(record.get("value")),
                _number(record.get("spread")),
                check.criterion_text,
                f"{control['name']} = {_number(control.get('value'))}" if control else "",
                e["verdict"],
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclasses.dataclass
class ClaimRun:
    """What `run_claim` did: store entries and payloads of the computed cases, errors."""

    entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    cases: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


def run_claim(
    claim: str,
    scale: str,
    datasets: list[str],
    context: RunContext,
    log: Callable[[str], None] = print,
) -> ClaimRun:
    """Compute each case of `claim` at `scale` (through the context's executor), evaluate
    its checks; errors are collected per case, not raised."""
    out = ClaimRun()
    for dataset in datasets:
        config = claims.get(claim).cases.config(scale, dataset)
        case = ClaimCase(claim, scale, dataset, bind(context, config))
        t0 = time.perf_counter()
        try:
            case.values  # noqa: B018 (computes the result and its values)
        except Exception as exc:  # a failed job, missing data: reported, store untouched
            out.errors[case.key] = f"{type(exc).__name__}: {exc}"
            log(f"{case.key}: {out.errors[case.key]}")
            continue
        seconds = time.perf_counter() - t0
        result = case.result
        log(
            f"{case.key}: {len(result.units)} units ({result.reused} from the cache) "
            f"in {seconds:.1f} s [{result.cache_key}]"
        )
        out.entries += case_entries(case, seconds)
        out.cases[case.key] = case.payload()
    return out


def record(run: ClaimRun, report_dir: Path, repo: Path) -> Path | None:
    """Merge the run's entries into the results store (as pytest does); None if none."""
    if not run.entries:
        return None
    from sgdclaims.report.store import merge_and_write

    return merge_and_write(run.entries, run.cases, report_dir, repo=repo)
