"""Parametrisation of claim tests over scale x data set, with the scale markers."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

SCALES = ("fast", "full")


def scale_cases(**datasets_by_scale: Iterable[str]) -> list:
    """pytest params (scale, dataset) marked `fast` or `full`, e.g.
    scale_cases(fast=["sinusoid_disc", "mnist"], full=["mnist", "cifar10"])."""
    params = []
    for scale, datasets in datasets_by_scale.items():
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        mark = getattr(pytest.mark, scale)
        params += [pytest.param(scale, d, marks=mark, id=f"{scale}-{d}") for d in datasets]
    return params
