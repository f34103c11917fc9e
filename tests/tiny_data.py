"""Tiny data sets the tests write themselves, in the real on-disk formats (IDX, CIFAR-10
python batches, ImageFolder), with random pixels plus a faint label mark so that code
paths that learn have something to learn. For code paths only: never passed off as real."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sgdclaims.data.formats import write_cifar_batch, write_idx


def write_idx_split(
    folder: Path, n_train: int, n_test: int, *, classes: int = 10, seed: int = 0, gz: bool = True
) -> None:
    """The four MNIST-layout IDX files (train/t10k images and labels) in `folder`."""
    rng = np.random.default_rng(seed)
    ext = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % classes).astype(np.uint8)
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), labels, :] = 255  # row `label` lit: a learnable mark
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)


def write_tiny_mnist(root: Path, n_train: int, n_test: int, **kwargs) -> None:
    """Full-MNIST layout at root/MNIST/raw."""
    write_idx_split(root / "MNIST" / "raw", n_train, n_test, **kwargs)


def write_tiny_cifar(root: Path, n_train: int, n_test: int, *, seed: int = 0) -> None:
    """CIFAR-10 python batches at root/cifar-10-batches-py (n_train split over 5 batches)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    for i, n in enumerate([n_train // 5] * 5 + [n_test]):
        labels = np.arange(n) % 10
        images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        name = f"data_batch_{i + 1}" if i < 5 else "test_batch"
        write_cifar_batch(folder / name, images, labels)


def write_tiny_imagenet(root: Path, n_train: int, n_val: int, *, size: int = 40) -> None:
    """ImageFolder trees root/imagenet/{train,val}/{n01,n02}/*.png."""
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("val", n_val)):
        for cls in ("n01", "n02"):
            folder = root / "imagenet" / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
