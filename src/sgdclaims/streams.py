"""Named random-number streams: each random draw of an experiment that is not a seed's own
(a control's errors, a surrogate, a second initialisation) takes its seed from a name, so
adding, removing or reordering one stream never moves another's numbers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class Streams:
    """An experiment's streams: name -> a fixed offset, added to a base seed."""

    offsets: Mapping[str, int]

    def __post_init__(self) -> None:
        values = list(self.offsets.values())
        if len(set(values)) != len(values):
            raise ValueError(f"two streams share an offset: {dict(self.offsets)}")

    def seed(self, name: str, base: int = 0) -> int:
        """The seed of stream `name` for base seed `base`; ValueError naming the streams."""
        if name not in self.offsets:
            raise ValueError(f"unknown random stream {name!r}; known: {sorted(self.offsets)}")
        return int(base) + int(self.offsets[name])
