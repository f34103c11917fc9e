"""Data sets by name (real files in torchvision layouts, or named synthetic tasks)."""

from sgdclaims.data.dataset import Dataset, DatasetInfo, DatasetMissing
from sgdclaims.data.registry import load, resolve_data_root
from sgdclaims.data.tasks import binary_task, multiclass_task, standardize, subsample

__all__ = [
    "Dataset",
    "DatasetInfo",
    "DatasetMissing",
    "binary_task",
    "load",
    "multiclass_task",
    "resolve_data_root",
    "standardize",
    "subsample",
]
