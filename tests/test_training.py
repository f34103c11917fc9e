"""The training loop and its checkpoint recorder: checkpoints (with 3 in the last 5%),
data order, determinism, final values, logistic regression to convergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims.curves import final_mask, final_value, tail_steps
from sgdclaims.data import subsample
from sgdclaims.data.registry import load_digits
from sgdclaims.models import MLP, LinearClassifier, seeded
from sgdclaims.training import (
    RULES,
    CheckpointRecorder,
    Divergence,
    batch_order,
    checkpoint_steps,
    epoch_steps,
    fit_logistic,
    train_sgd,
)


@pytest.fixture(scope="module")
def digits():
    return subsample(load_digits(), 512, 200, seed=0)


@given(
    st.integers(1, 5000), st.integers(1, 2000), st.integers(0, 60), st.integers(1, 500),
    st.integers(0, 50),
)  # fmt: skip
def test_checkpoint_steps_properties(total, dense_until, n_dense, every, dense_every):
    cps = checkpoint_steps(
        total, dense_until=dense_until, n_dense=n_dense, every=every, dense_every=dense_every
    )
    assert cps[0] == 0 and cps[-1] == total
    assert np.all(np.diff(cps) > 0)
    assert set(range(0, total + 1, every)) <= set(cps.tolist())
    assert final_mask(cps).sum() >= min(3, total + 1)  # the final value is always defined
    final_value(cps, np.zeros(len(cps)))


def test_checkpoint_steps_dense_early():
    cps = checkpoint_steps(1000, dense_until=100, n_dense=20, every=100)
    assert (cps <= 100).sum() > 10 and cps[cps > 100].tolist() == [
        200,
        300,
        400,
        500,
        600,
        700,
        800,
        900,
        950,
        975,
        1000,
    ]
    assert checkpoint_steps(100, dense_until=20, n_dense=0, every=50, dense_every=5).tolist() == [
        0, 5, 10, 15, 20, 50, 95, 98, 100]  # fmt: skip
    with pytest.raises(ValueError, match="every"):
        checkpoint_steps(10, dense_until=5, every=0)


def test_final_value_is_the_mean_over_the_last_five_percent():
    steps = np.array([0, 50, 900, 950, 975, 1000])
    assert final_value(steps, np.array([0, 0, 9, 1.0, 2.0, 3.0])) == pytest.approx(2.0)
    assert np.isnan(final_value(steps, np.array([0, 0, 0, 1.0, np.nan, 3.0])))  # never dropped
    with pytest.raises(ValueError, match="only 2 checkpoints in the last 5%"):
        final_value(np.array([0, 500, 980, 1000]), np.zeros(4))
    assert final_mask(np.array([0, 2, 4, 6, 8])).tolist() == [False, False, True, True, True]
    assert tail_steps(1000).tolist() == [950, 975, 1000]
    assert epoch_steps(2.0, 1000, 64) == 30
    with pytest.raises(ValueError, match="exceeds"):
        epoch_steps(1.0, 10, 64)


def test_recorder_records_only_at_checkpoints_and_averages_the_loss():
    x, y = torch.zeros(4, 1), torch.tensor([0, 1, 1, 1])
    seen = []
    rec = CheckpointRecorder([0, 2], x, y, lambda v: torch.ones(len(v), dtype=torch.long),
                             on_checkpoint=seen.append)  # fmt: skip
    rec.at(0)
    for step, loss in ((1, 1.0), (2, 3.0)):
        rec.add_loss(torch.tensor(loss))
        rec.at(step)
    traj = rec.trajectory()
    assert seen == [0, 2] and traj.steps.tolist() == [0, 2] and traj.test_acc.tolist() == [0.75] * 2
    assert np.isnan(traj.train_loss[0]) and traj.train_loss[1] == 2.0
    with pytest.raises(RuntimeError, match="recorded 0 of 1 checkpoints"):
        CheckpointRecorder([5], x, y, lambda v: v).trajectory()


def test_fit_logistic_is_deterministic_and_converges(digits):
    a, b = LinearClassifier((1, 8, 8), 10), LinearClassifier((1, 8, 8), 10)
    fit_a = fit_logistic(a, digits.x_train, digits.y_train, weight_decay=1e-4, max_iter=200)
    fit_logistic(b, digits.x_train, digits.y_train, weight_decay=1e-4, max_iter=200)
    assert torch.equal(a.fc.weight, b.fc.weight)
    assert fit_a["l_train_acc"] > 0.95 and fit_a["l_iterations"] > 5


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


def test_divergence_rule_fires_on_nan_and_on_a_hundredfold_loss():
    div = Divergence("cpu")
    for step, loss in enumerate([1.0, 3.0, 150.0, 1.0, float("nan")], start=1):
        div.update(step, torch.tensor(loss))
    assert div.fired and div.step == 3 and div.rule == RULES[2]
    nan = Divergence("cpu")
    for step, loss in enumerate([2.0, float("inf"), 500.0], start=1):
        nan.update(step, torch.tensor(loss))
    assert nan.step == 2 and nan.rule == RULES[1]
    calm = Divergence("cpu")
    calm.update(1, torch.tensor(2.0))
    calm.update(2, torch.tensor(199.0))
    assert not calm.fired and calm.rule == "" and calm.step == -1


def test_a_diverging_run_stops_and_records_the_rule(digits):
    model = seeded(lambda: MLP((1, 8, 8), 10, hidden=(64,)), 3)
    traj = train_sgd(
        model, digits, steps=200, lr=1e6, checkpoints=[0, 10, 50, 100, 200], data_seed=1
    )
    assert traj.diverged in RULES.values() and 1 <= traj.diverged_at <= 10
    assert len(traj.steps) == 5 and np.isnan(traj.train_loss[2:]).all()
    assert traj.n_predicted.shape == (5,)
    healthy = train_sgd(
        seeded(lambda: MLP((1, 8, 8), 10, hidden=(64,)), 3),
        digits,
        steps=60,
        lr=0.1,
        checkpoints=[0, 30, 60],
        data_seed=1,
    )
    assert healthy.diverged == "" and healthy.diverged_at == -1
    assert healthy.n_predicted[-1] > 2


def test_until_ends_the_run_at_the_first_checkpoint_it_holds(digits):
    asked = []

    def until(step, preds):
        asked.append(step)
        return step >= 20

    traj = train_sgd(
        seeded(lambda: MLP((1, 8, 8), 10, hidden=(64,)), 3),
        digits,
        steps=100,
        lr=0.1,
        checkpoints=[0, 10, 20, 50, 100],
        data_seed=1,
        until=until,
    )
    assert asked == [10, 20] and traj.steps.tolist() == [0, 10, 20] and len(traj.test_acc) == 3
