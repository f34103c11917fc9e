"""The full-tier cost table as stored data (sgdclaims/costs.json, written by
`sgdclaims costs --measure`, see sgdclaims.executors.costs): its rows, the claim pages' view
of them and the README's markdown. Reading it needs no executor."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sgdclaims.calibration import reference_seconds

COSTS_FILE = Path(__file__).with_name("costs.json")
#: assumed speed of one GPU over one CPU thread for these small models (not measured here)
GPU_SPEEDUP = 20.0


@dataclasses.dataclass
class CostRow:
    """One full-scale case: its size and the measured (or extrapolated) time it takes."""

    claim: str
    dataset: str
    units: int | None
    steps_per_unit: int | None
    s_per_step: float | None = None
    device: str = "cpu"
    how: str = ""
    measured_at: str = ""
    #: the measuring machine's calibration figure (GFLOP/s; 0: not recorded)
    gflops: float = 0.0

    @property
    def steps(self) -> int | None:
        """SGD steps of the whole case."""
        return (
            None if None in (self.units, self.steps_per_unit) else self.units * self.steps_per_unit
        )  # type: ignore[operator]

    @property
    def cpu_hours(self) -> float | None:
        """CPU core-hours (only for rows measured on a CPU)."""
        if self.device != "cpu" or self.s_per_step is None or self.steps is None:
            return None
        return self.steps * self.s_per_step / 3600

    @property
    def reference_hours(self) -> float | None:
        """CPU core-hours of the reference machine (shared/CLAIMS.md, Budgets): CPU hours x
        the measuring machine's calibration figure / 68; None where it was not recorded."""
        if self.cpu_hours is None or not self.gflops:
            return None
        return reference_seconds(self.cpu_hours, self.gflops)

    @property
    def gpu_hours(self) -> float | None:
        """One GPU, in hours: measured per step on a GPU, else CPU hours / GPU_SPEEDUP."""
        if self.s_per_step is None or self.steps is None:
            return None
        if self.device == "cpu":
            return self.steps * self.s_per_step / 3600 / GPU_SPEEDUP
        return self.steps * self.s_per_step / 3600

    def to_json(self) -> dict[str, Any]:
        """The stored fields plus the derived ones (for the report)."""
        return {
            **dataclasses.asdict(self),
            "steps": self.steps,
            "cpu_hours": self.cpu_hours,
            "reference_hours": self.reference_hours,
            "gpu_hours": self.gpu_hours,
            "gpu_measured": self.device != "cpu",
        }


def load_costs(path: Path = COSTS_FILE) -> list[CostRow]:
    """The stored cost rows (none when nothing has been measured)."""
    if not path.exists():
        return []
    return [CostRow(**row) for row in json.loads(path.read_text())["rows"]]


def cost_rows(claim: str, path: Path = COSTS_FILE) -> list[dict[str, Any]]:
    """A claim's cost rows as JSON (for its report page), with the GPU speed-up assumed."""
    return [
        {**r.to_json(), "gpu_speedup_assumed": GPU_SPEEDUP}
        for r in load_costs(path)
        if r.claim == claim
    ]


def _fmt(value: float | None, digits: str = ".3g") -> str:
    """A number for the table; '?' when it was not measured."""
    return "?" if value is None else format(value, digits)


def markdown_table(rows: list[CostRow]) -> str:
    """The cost table as markdown, with the assumption it rests on."""
    lines = [
        "| claim | full data set | units | steps per unit | s per step (device) "
        "| CPU core-hours | reference core-hours | GPU hours |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        gpu = _fmt(r.gpu_hours) + ("" if r.device != "cpu" or r.gpu_hours is None else " (est.)")
        lines.append(
            f"| `{r.claim}` | {r.dataset} | {_fmt(r.units, 'd')} | {_fmt(r.steps_per_unit, ',')} "
            f"| {_fmt(r.s_per_step, '.3g')} ({r.device}) | {_fmt(r.cpu_hours)} "
            f"| {_fmt(r.reference_hours)} | {gpu} |"
        )
    lines.append(
        f"\nGPU hours (est.) = CPU core-hours / {GPU_SPEEDUP:g}: an assumed speed-up of one\n"
        "GPU over one CPU core for these small models; a row measured on a GPU replaces it.\n"
        "Reference core-hours = CPU core-hours x the measuring machine's calibration figure / 68\n"
        "(shared/CLAIMS.md, Budgets); `?` where the figure was not recorded."
    )
    return "\n".join(lines)


def readme_block(path: Path = COSTS_FILE) -> str:
    """The cost table as the README shows it: inside a list item (indented by two spaces)."""
    return "\n".join(
        f"  {line}" if line else "" for line in markdown_table(load_costs(path)).split("\n")
    )
