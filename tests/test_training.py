"""The training loop: checkpoints, data order, determinism, ensemble == single runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims.data import subsample
from sgdclaims.data.registry import load_digits
from sgdclaims.models import MLP, LinearClassifier, seeded
from sgdclaims.training import (
    batch_order,
    checkpoint_steps,
    train_sgd,
    train_sgd_ensemble,
)


@pytest.fixture(scope="module")
def digits():
    return subsample(load_digits(), 512, 200, seed=0)


@given(st.integers(1, 5000), st.integers(1, 2000), st.integers(1, 60), st.integers(1, 500))
def test_checkpoint_steps_properties(total, dense_until, n_dense, every):
    cps = checkpoint_steps(total, dense_until=dense_until, n_dense=n_dense, every=every)
    assert cps[0] == 0 and cps[-1] == total
    assert np.all(np.diff(cps) > 0)
    assert set(range(0, total + 1, every)) <= set(cps.tolist())


def test_checkpoint_steps_dense_early():
    cps = checkpoint_steps(1000, dense_until=100, n_dense=20, every=100)
    assert (cps <= 100).sum() > 10 and (cps > 100).sum() == 9
    with pytest.raises(ValueError, match="every"):
        checkpoint_steps(10, dense_until=5, every=0)


def test_batch_order_is_seeded_epochwise():
    a, b = batch_order(10, 3, 7, data_seed=4), batch_order(10, 3, 7, data_seed=4)
    assert torch.equal(a, b) and a.shape == (7, 3)
    epoch = a[:3].flatten()
    assert len(set(epoch.tolist())) == 9  # no repeats within an epoch
    assert not torch.equal(a, batch_order(10, 3, 7, data_seed=5))
    with pytest.raises(ValueError, match="exceeds"):
        batch_order(5, 8, 1, data_seed=0)


def test_train_sgd_deterministic_and_learns(digits):
    def run():
        model = seeded(lambda: MLP((1, 8, 8), 10, hidden=(64,)), 3)
        return train_sgd(
            model,
            digits,
            steps=120,
            lr=0.1,
            checkpoints=[0, 10, 60, 120],
            data_seed=1,
            batch_size=32,
        )

    a, b = run(), run()
    assert torch.equal(a.test_preds, b.test_preds)
    assert a.test_preds.shape == (4, 200) and a.test_acc[-1] > 0.7 > a.test_acc[0]
    assert np.isnan(a.train_loss[0]) and np.all(np.diff(a.train_loss[1:]) < 0.5)


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"lr": -1.0}, "lr"),
        ({"steps": 0}, "steps"),
        ({"momentum": 1.0}, "momentum"),
        ({"checkpoints": [0, 999]}, "checkpoints"),
    ],
)
def test_train_sgd_bad_input(digits, bad, match):
    args = {"steps": 10, "lr": 0.1, "checkpoints": [0, 10], "data_seed": 0} | bad
    with pytest.raises(ValueError, match=match):
        train_sgd(LinearClassifier((1, 8, 8), 10), digits, **args)


def test_ensemble_matches_single_runs(digits):
    seeds = (0, 1, 2)
    make = lambda s: seeded(lambda: MLP((1, 8, 8), 10, hidden=(32,)), s)  # noqa: E731
    cps = [0, 5, 40]
    ens = train_sgd_ensemble(
        [make(s) for s in seeds],
        digits,
        steps=40,
        lr=0.05,
        checkpoints=cps,
        data_seeds=[10 + s for s in seeds],
        batch_size=16,
    )
    for s, traj in zip(seeds, ens):
        single = train_sgd(
            make(s), digits, steps=40, lr=0.05, checkpoints=cps, data_seed=10 + s, batch_size=16
        )
        agree = (traj.test_preds == single.test_preds).float().mean().item()
        assert agree > 0.98
        np.testing.assert_allclose(traj.train_loss[1:], single.train_loss[1:], rtol=1e-4)


def test_ensemble_refuses_batchnorm(digits):
    bn = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10), torch.nn.BatchNorm1d(10))
    with pytest.raises(ValueError, match="BatchNorm"):
        train_sgd_ensemble([bn], digits, steps=1, lr=0.1, checkpoints=[1], data_seeds=[0])
