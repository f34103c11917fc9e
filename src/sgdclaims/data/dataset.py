"""What a loaded data set is: whole splits as tensors with their metadata, and the error
that says a data set is absent and how to provide it."""

from __future__ import annotations

import dataclasses

import torch


class DatasetMissing(FileNotFoundError):
    """A data set is not at the data root; the message says where and how to provide it."""


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a loaded data set is: its name for reports, source, sizes and subset status."""

    name: str
    display: str
    source: str
    subset: bool
    synthetic: bool
    n_train: int
    n_test: int
    shape: tuple[int, ...]
    classes: tuple[str, ...]
    path: str = ""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Whole train and test splits as tensors: x float32 in [0, 1] (N, C, H, W) for images
    or (N, d) for vectors, y int64 class indices."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    info: DatasetInfo

    @property
    def num_classes(self) -> int:
        return len(self.info.classes)

    def to(self, device: torch.device | str) -> Dataset:
        """The same data on `device`."""
        return dataclasses.replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_test=self.x_test.to(device),
            y_test=self.y_test.to(device),
        )
