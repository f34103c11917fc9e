"""Data layer: loaders on tiny files the tests write in each real format, task views, errors."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_data import write_idx_split

from sgdclaims.data import binary_task, load, multiclass_task, subsample
from sgdclaims.data.formats import (
    CorruptDataFile,
    read_cifar_batch,
    read_idx,
    write_cifar_batch,
    write_idx,
)
from sgdclaims.data.registry import DatasetMissing, resolve_data_root
from sgdclaims.data.synthetic import sinusoid_disc


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    arr = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr)
    np.testing.assert_array_equal(read_idx(path), arr)


def test_idx_gz_is_byte_deterministic(tmp_path):
    arr = np.arange(100, dtype=np.uint8).reshape(10, 10)
    write_idx(tmp_path / "a.gz", arr)
    write_idx(tmp_path / "b.gz", arr)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_idx_bad_magic_names_file(tmp_path):
    path = tmp_path / "bad-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + b"\0" * 20)
    with pytest.raises(CorruptDataFile, match=r"bad-images-idx3-ubyte.*magic"):
        read_idx(path)


def test_idx_truncated_names_file(tmp_path):
    path = tmp_path / "t.gz"
    write_idx(path, np.zeros((4, 28, 28), np.uint8))
    raw = gzip.decompress(path.read_bytes())[:-10]
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(CorruptDataFile, match=r"t\.gz.*expected"):
        read_idx(path)


def test_idx_bad_gzip_names_file(tmp_path):
    path = tmp_path / "x-images-idx3-ubyte.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(CorruptDataFile, match=r"x-images-idx3-ubyte\.gz"):
        read_idx(path)


def test_cifar_batch_round_trip_and_corruption(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    write_cifar_batch(tmp_path / "data_batch_1", imgs, np.arange(6) % 10)
    x, y = read_cifar_batch(tmp_path / "data_batch_1")
    np.testing.assert_array_equal(x, imgs)
    np.testing.assert_array_equal(y, np.arange(6) % 10)
    (tmp_path / "bad").write_bytes(b"\x80\x04garbage")
    with pytest.raises(CorruptDataFile, match="bad"):
        read_cifar_batch(tmp_path / "bad")
    (tmp_path / "wrong").write_bytes(pickle.dumps({"data": np.zeros((2, 10))}))
    with pytest.raises(CorruptDataFile, match="wrong"):
        read_cifar_batch(tmp_path / "wrong")


def test_registry_loads_mnist_layouts(tmp_path):
    write_idx_split(tmp_path / "MNIST-subset" / "raw", 30, 20)
    sub = load("mnist", tmp_path)
    assert sub.info.subset and "10k subset" in sub.info.display
    assert sub.x_train.shape == (30, 1, 28, 28) and sub.x_train.dtype == torch.float32
    assert 0.0 <= sub.x_train.min() and sub.x_train.max() <= 1.0
    with pytest.raises(DatasetMissing, match="full MNIST"):
        load("mnist", tmp_path, require_full=True)
    write_idx_split(tmp_path / "MNIST" / "raw", 40, 20, gz=False)
    full = load("mnist", tmp_path, require_full=True)
    assert not full.info.subset and full.info.n_train == 40  # full MNIST wins


def test_registry_fashion_and_cifar(tmp_path):
    write_idx_split(tmp_path / "FashionMNIST" / "raw", 30, 20)
    fm = load("fashion_mnist", tmp_path)
    assert fm.info.classes[0] == "T-shirt/top" and fm.num_classes == 10
    folder = tmp_path / "cifar-10-batches-py"
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        write_cifar_batch(
            folder / name, rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8), np.arange(4)
        )
    c = load("cifar10", tmp_path)
    assert c.x_train.shape == (20, 3, 32, 32) and c.x_test.shape == (4, 3, 32, 32)


def test_registry_imagenet_folder(tmp_path):
    for split in ("train", "val"):
        for cls in ("n01", "n02"):
            d = tmp_path / "imagenet" / split / cls
            d.mkdir(parents=True)
            for i in range(2):
                Image.fromarray(np.full((10, 12, 3), 40 * i, np.uint8)).save(d / f"{i}.JPEG")
    ds = load("imagenet", tmp_path)
    assert ds.x_train.shape == (4, 3, 64, 64) and ds.info.classes == ("n01", "n02")


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "imagenet"])
def test_missing_dataset_message(tmp_path, name):
    with pytest.raises(DatasetMissing) as err:
        load(name, tmp_path)
    msg = str(err.value)
    assert name in msg and str(tmp_path) in msg and f"sgdclaims data fetch {name}" in msg


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown data set 'svhn'"):
        load("svhn")


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("SGDCLAIMS_DATA", str(tmp_path / "env"))
    assert resolve_data_root(None) == tmp_path / "env"
    assert resolve_data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("SGDCLAIMS_DATA")
    assert resolve_data_root(None).parts[-3:] == (".cache", "sgdclaims", "data")


def test_binary_and_multiclass_views(tmp_path):
    write_idx_split(tmp_path / "MNIST-subset" / "raw", 30, 20)
    ds = load("mnist", tmp_path)
    b = binary_task(ds)
    assert set(b.y_train.tolist()) == {0, 1}
    np.testing.assert_array_equal(b.y_train.numpy(), (ds.y_train >= 5).long().numpy())
    assert b.info.classes == ("0-4", "5-9")
    odd = binary_task(ds, [(1,), (7,)])
    assert len(odd.y_train) == int(((ds.y_train == 1) | (ds.y_train == 7)).sum())
    for bad, match in [
        ([(0, 1), ()], "non-empty"),
        ([(0, 1), (1, 2)], "overlap"),
        ([(0,), (12,)], "outside 0..9"),
        ([(0,)], "two class groups"),
    ]:
        with pytest.raises(ValueError, match=match):
            binary_task(ds, bad)
    m = multiclass_task(ds, [3, 8])
    assert set(m.y_test.tolist()) <= {0, 1} and m.info.classes == ("3", "8")
    with pytest.raises(ValueError, match="out of range"):
        multiclass_task(ds, [3, 11])


def test_subsample_seeded_and_marked(tmp_path):
    write_idx_split(tmp_path / "FashionMNIST" / "raw", 30, 20)
    ds = load("fashion_mnist", tmp_path)
    a, b = subsample(ds, 10, 5, seed=3), subsample(ds, 10, 5, seed=3)
    assert torch.equal(a.x_train, b.x_train) and a.info.subset and a.info.n_train == 10
    with pytest.raises(ValueError, match="n_train"):
        subsample(ds, 0, 5)


def test_sinusoid_disc_is_seeded_and_noisy():
    a, b = sinusoid_disc(500, 200, seed=1), sinusoid_disc(500, 200, seed=1)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert a.info.synthetic and "synthetic" in a.info.source
    assert (a.x_train.norm(dim=1) <= 1).all()
    clean = sinusoid_disc(4000, 10, label_noise=0.0, seed=1)
    noisy = sinusoid_disc(4000, 10, label_noise=0.1, seed=1)
    flipped = (clean.y_train != noisy.y_train).float().mean().item()
    assert 0.07 < flipped < 0.13
    with pytest.raises(ValueError, match="label_noise"):
        sinusoid_disc(label_noise=0.7)
