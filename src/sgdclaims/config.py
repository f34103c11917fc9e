"""Frozen experiment configs and the cases of a claim (scale x data set).

A config class is a frozen dataclass deriving from `Config` whose defaults are the paper's
values. A claim's `Cases` builds the config of each (scale, data set): at full scale the
paper's setting for that data set, at fast scale the same with overrides, each a
`Set(value, why)` pair, so every change is written beside its reason. `cache_key()` hashes
the config, its class and a fingerprint of the code that computes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from sgdclaims.fingerprint import fingerprint

C = TypeVar("C", bound="Config")


def canonical(value: Any) -> Any:
    """A config value as plain JSON (dataclasses, tuples, inf) in a stable way."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of all experiment configs: a frozen dataclass with checks and a stable hash.

    Subclasses override `validate` (ValueError naming the field) and set `SMOKE`, the
    overrides that shrink a config to run on a CPU in seconds (a value may be a function of
    the config).
    """

    SMOKE: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the field for impossible values; subclasses extend."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field (used for hashing and in reports)."""
        return canonical(self)

    def cache_key(self) -> str:
        """Hash of the config (all fields, class) and of the code that computes it."""
        cls = type(self)
        blob = json.dumps(
            {
                "class": f"{cls.__module__}.{cls.__qualname__}",
                "code": fingerprint(cls.__module__),
                "config": self.to_dict(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def smoke(self: C) -> C:
        """A copy shrunk by SMOKE to run on a CPU in seconds (the GPU path, run small)."""
        if not self.SMOKE:
            raise NotImplementedError(f"{type(self).__name__} sets no SMOKE overrides")
        return self.replace(**{k: v(self) if callable(v) else v for k, v in self.SMOKE.items()})


@dataclasses.dataclass(frozen=True)
class Set:
    """A changed config value and why it differs from the paper's."""

    value: Any
    why: str

    def __post_init__(self) -> None:
        if not isinstance(self.why, str) or not self.why.strip():
            raise ValueError(f"Set({self.value!r}) needs a reason")


Overrides = Mapping[str, Set]


@dataclasses.dataclass(frozen=True)
class Change:
    """One field of a config that differs from the paper's setting, with the reason."""

    field: str
    value: Any
    paper: Any
    why: str


class Cases:
    """The (scale, data set) cases of a claim and the config of each.

    full[d]: changes from the config class's defaults (the paper's main setting) that give
    the paper's setting on data set d (or the nearest faithful one where the paper did not
    use d); fast[d]: the CPU-scale changes from full[d] (or from the defaults where d has no
    full case), after fast_common. Every change is a `Set(value, why)`.
    """

    def __init__(
        self,
        config: type[Config],
        *,
        full: Mapping[str, Overrides],
        fast: Mapping[str, Overrides],
        fast_common: Overrides | None = None,
    ) -> None:
        self.config_class = config
        self.full = dict(full)
        self.fast = dict(fast)
        self.fast_common = dict(fast_common or {})
        names = {f.name for f in dataclasses.fields(config)}
        tables = [*self.full.values(), *self.fast.values(), self.fast_common]
        for overrides in tables:
            for key, change in overrides.items():
                if key not in names:
                    raise ValueError(f"{config.__name__} has no field {key!r}")
                if not isinstance(change, Set):
                    raise TypeError(f"{key}: overrides must be Set(value, why), got {change!r}")

    def datasets(self, scale: str) -> list[str]:
        """The data sets of a scale, in declaration order."""
        return list(self._table(scale))

    def _table(self, scale: str) -> dict[str, Overrides]:
        if scale not in ("fast", "full"):
            raise ValueError(f"scale must be 'fast' or 'full', got {scale!r}")
        return self.full if scale == "full" else self.fast

    def _check(self, scale: str, dataset: str) -> None:
        known = self.datasets(scale)
        if dataset not in known:
            raise ValueError(f"unknown data set {dataset!r} at {scale} scale; known: {known}")

    def _overrides(self, scale: str, dataset: str) -> list[tuple[str, Set]]:
        """The changes from the class defaults, in the order they apply."""
        self._check(scale, dataset)
        out = list(self.full.get(dataset, {}).items())
        if scale == "fast":
            out += list(self.fast_common.items()) + list(self.fast[dataset].items())
        return out

    def config(self, scale: str, dataset: str) -> Config:
        """The config of a case."""
        values = {k: s.value for k, s in self._overrides(scale, dataset)}
        return self.config_class(**values)

    def paper(self, dataset: str) -> Config:
        """The paper's setting for `dataset`: its full config, else the class defaults."""
        if dataset in self.full:
            return self.config("full", dataset)
        return self.config_class()

    def changes(self, scale: str, dataset: str) -> list[Change]:
        """Every field of the case's config that differs from the paper's, with why. At full
        scale the baseline is the class defaults; at fast scale the paper's setting on the
        data set (its full case, where there is one)."""
        cfg = self.config(scale, dataset)
        base = self.config_class() if scale == "full" else self.paper(dataset)
        whys = {k: s.why for k, s in self._overrides(scale, dataset)}
        out = []
        for f in dataclasses.fields(cfg):
            value, paper = canonical(getattr(cfg, f.name)), canonical(getattr(base, f.name))
            if value != paper:
                out.append(Change(f.name, value, paper, whys.get(f.name, "")))
        return out
