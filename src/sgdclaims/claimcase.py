"""One case of a claim (claim, scale, data set) as the claim tests see it: its config, the
cached experiment result, every value of `statistics(result)`, and the payload the report
stores for it (setup, provenance, values and the data its figures are drawn from).

The result and the values are computed once per process and case; a failure to compute
them is kept and raised again for every test of the case (each test reports the error).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sgdclaims import claims
from sgdclaims.config import Cases, Config
from sgdclaims.runner import Result, RunContext
from sgdclaims.spec import ClaimSpec
from sgdclaims.values import Value


class ClaimCase:
    """Lazily computed result and values of one (claim, scale, data set)."""

    def __init__(self, claim: str, scale: str, dataset: str, context: RunContext) -> None:
        self.claim, self.scale, self.dataset = claims.check_claim(claim), scale, dataset
        self.context = context
        self._result: Result | None = None
        self._values: dict[str, Value] | None = None
        self._error: BaseException | None = None
        #: whether the payload went out with a test's report (pytest plugin)
        self.sent = False

    @property
    def key(self) -> str:
        """'claim/scale/dataset', the case's key in the results store."""
        return f"{self.claim}/{self.scale}/{self.dataset}"

    @property
    def face(self) -> claims.Claim:
        """The claim's parts (config cases, run, statistics, spec, figures)."""
        return claims.get(self.claim)

    @property
    def cases(self) -> Cases:
        return self.face.cases

    @property
    def spec(self) -> ClaimSpec:
        return self.face.spec

    @property
    def config(self) -> Config:
        return self.cases.config(self.scale, self.dataset)

    @property
    def result(self) -> Result:
        """The experiment's result (computed, or read from the cache, once)."""
        if self._error is not None:
            raise self._error
        if self._result is None:
            try:
                self._result = self.face.run(self.config, self.context)
            except BaseException as exc:
                self._error = exc
                raise
        return self._result

    @property
    def values(self) -> dict[str, Value]:
        """Every value of statistics(result)."""
        if self._values is None:
            result = self.result
            try:
                self._values = self.face.statistics(result)
            except BaseException as exc:
                self._error = exc
                raise
        return self._values

    @property
    def computed(self) -> bool:
        """True once the values exist (so the payload can be built without computing)."""
        return self._values is not None

    def payload(self) -> dict[str, Any]:
        """What the report stores for this case: setup, provenance, values, figure data."""
        result, values = self.result, self.values
        changes = self.cases.changes(self.scale, self.dataset)
        figure_data = self.face.figure_data(result, values)
        return {
            "claim": self.claim,
            "scale": self.scale,
            "dataset": self.dataset,
            "config_class": type(result.config).__name__,
            "config": result.config.to_dict(),
            "changes": [dataclasses.asdict(c) for c in changes],
            "cache_key": result.cache_key,
            "units": [str(u) for u in result.units],
            "reused_units": int(result.reused),
            "compute_seconds": result.compute_seconds,
            "cpu_seconds": float(result.scalars["cpu_seconds"].sum()),
            "reference_seconds": result.reference_seconds,
            "gflops": [float(g) for g in result.scalars["gflops"]],
            "unit_seconds": {
                str(u): float(t)
                for u, t in zip(result.scalars["unit"], result.scalars["seconds"], strict=True)
            },
            "reused": [str(u) for u in result.reused_units],
            "provenance": jsonable(result.provenance),
            "values": {name: v.to_json() for name, v in values.items()},
            "figures": jsonable(figure_data),
        }


def jsonable(value: Any) -> Any:
    """Numbers, strings, lists and dicts for JSON; numpy unwrapped (inf and NaN stay floats:
    Python's json writes and reads them)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)
