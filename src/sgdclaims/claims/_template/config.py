"""my_claim's config: the paper's setting as the defaults, and its cases. `full`: the paper's
setting per data set; `fast`: what a 2-core CPU budget forces, each change with its reason.
This module and experiment.py (with the library modules they import) are the cache key's
code; the reasons, docstrings and comments are not part of it."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from sgdclaims.config import Cases, Config, Set
from sgdclaims.validate import require_positive, require_seeds


@dataclasses.dataclass(frozen=True)
class MyClaimConfig(Config):
    """The paper's setting (Sec. N); every default is the paper's value."""

    #: overrides that shrink a full config to run on a CPU in seconds (the smoke test)
    SMOKE: ClassVar[dict[str, Any]] = {"seeds": (0,)}

    dataset: str = "synthetic"
    level: float = 0.9
    seeds: tuple[int, ...] = tuple(range(10))

    def validate(self) -> None:
        """A ValueError naming the field for a config that cannot run."""
        require_positive("level", self.level)
        require_seeds("seeds", self.seeds)


CASES = Cases(
    MyClaimConfig,
    full={"synthetic": {}},
    fast={
        "synthetic": {
            "seeds": Set((0, 1, 2), "3 seeds instead of 10, the fewest CLAIMS.md allows"),
        },
    },
)
