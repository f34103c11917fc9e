"""Unit tests of sgdclaims.info: bad input, devices, and the block-wise counting backend."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_info import _bootstrap_inputs, _labels, _noisy_copy

from sgdclaims import info

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device present")


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0, 1, 1], [0, 1]), {}, r"mismatched lengths: F has n=3, Y has n=2"),
        (([], []), {}, r"F is empty"),
        (([[0, 1]], np.zeros((0, 2), dtype=int)), {}, r"Y is empty"),
        (([0.5, 1.0], [0, 1]), {}, r"F has non-integer values"),
        (([0, 1], [0, -1]), {}, r"Y has negative labels \(smallest -1\)"),
        (([0, np.nan], [0, 1]), {}, r"F contains NaN"),
        (([0, np.inf], [0, 1]), {}, r"F contains infinite values"),
        ((np.zeros((2, 2, 2), dtype=int), [0, 1]), {}, r"F must be a 1-D \(n,\) or 2-D"),
        ((np.int64(3), [0]), {}, r"F must be a 1-D"),
        ((["a", "b"], [0, 1]), {}, r"F must hold integer labels, got dtype <U1"),
        (([0, 1, 5], [0, 1, 1]), {"num_classes": 5}, r"num_classes=5 is smaller than .* in F"),
        (([0, 1], [0, 1]), {"num_classes": 0}, r"num_classes must be >= 1"),
        (([0, 1], [0, 1]), {"num_classes": 2.0}, r"num_classes must be a positive int"),
        (([0, 1], [0, 1]), {"base": 1}, r"base must be finite, > 0 and != 1"),
        (([0, 1], [0, 1]), {"base": -2}, r"base must be"),
        (([[0, 1], [1, 0]], [[0, 1], [0, 1], [1, 1]]), {}, r"mismatched numbers of checkpoints"),
        ((None, [0, 1]), {}, r"F is required, got None"),
        (([0, 1], None), {}, r"Y is required, got None"),
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        info.mutual_information(*args, **kwargs)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (torch.tensor([0.0, float("nan")]), "L contains NaN"),
        (torch.tensor([0, -3]), r"L has negative labels \(smallest -3\)"),
        (torch.tensor([0.0, 1.5]), "L has non-integer values"),
        (torch.tensor([1j, 0j]), "L must hold integer labels"),
        (torch.zeros(1, 1, 2, dtype=torch.long), "L must be a 1-D"),
        (torch.tensor([0, 1, 2]), r"mismatched lengths: F has n=2, Y has n=2, L has n=3"),
    ],
)
def test_bad_tensor_input(labels, match):
    with pytest.raises(ValueError, match=match):
        info.conditional_mutual_information(torch.tensor([0, 1]), torch.tensor([1, 0]), labels)


def test_bad_conditional_and_bootstrap_arguments():
    f, y, l = _bootstrap_inputs()
    with pytest.raises(ValueError, match="L has negative labels"):
        info.performance_correlation(f, y, -l - 1)
    with pytest.raises(ValueError, match="statistic must be one of"):
        info.bootstrap_interval(f, y, l, statistic="accuracy")
    with pytest.raises(ValueError, match="num_resamples must be >= 1"):
        info.bootstrap_interval(f, y, l, num_resamples=0)
    with pytest.raises(ValueError, match="confidence must lie in"):
        info.bootstrap_interval(f, y, l, confidence=1.0)
    with pytest.raises(ValueError, match="miller_madow has no per-class form"):
        info.bootstrap_interval(
            f, y, l, statistic="per_class_mutual_information", miller_madow=True
        )
    with pytest.raises(ValueError, match=r"indices must lie in \[0, n=400\)"):
        info.bootstrap_statistic(f, y, l, np.full((2, 400), 400))
    with pytest.raises(ValueError, match="indices must be a non-empty 2-D"):
        info.bootstrap_statistic(f, y, l, np.arange(400))
    with pytest.raises(ValueError, match="indices must be integers"):
        info.bootstrap_statistic(f, y, l, np.zeros((2, 400)))
    with pytest.raises(ValueError, match="variables must be a non-empty subset"):
        info.Contingency.from_labels(f, y).entropy("x")
    with pytest.raises(ValueError, match="the joint table would have"):
        info.mutual_information(np.arange(20_000), np.arange(20_000) % 5_000)


@CUDA
def test_tensors_on_two_devices_are_refused():
    with pytest.raises(ValueError, match="tensors must be on one device"):
        info.mutual_information(torch.tensor([0, 1]), torch.tensor([0, 1], device="cuda"))


@CUDA
def test_cuda_equals_cpu():
    y = _labels(30, 5000, 10)
    F = _noisy_copy(31, np.broadcast_to(y, (20, 5000)), 0.5, 10)
    l = _noisy_copy(32, y, 0.4, 10)
    cpu = info.Contingency.from_labels(F, y, l)
    cuda = info.Contingency.from_labels(
        torch.from_numpy(F).cuda(), torch.from_numpy(y).cuda(), torch.from_numpy(l).cuda()
    )
    assert cuda.table.device.type == "cuda"
    for name in ("mutual_information", "conditional_mutual_information", "performance_correlation"):
        got = getattr(cuda, name)()
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.cpu().numpy(), getattr(cpu, name)(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        cuda.per_class_conditional_mutual_information().cpu().numpy(),
        cpu.per_class_conditional_mutual_information(),
        rtol=1e-12,
        atol=1e-14,
    )
    low, high = info.bootstrap_interval(
        torch.from_numpy(F).cuda(),
        torch.from_numpy(y).cuda(),
        num_resamples=50,
        statistic="mutual_information",
    )
    assert low.device.type == "cuda"
    assert (low <= high).all()


@pytest.mark.parametrize("role", [0, 1, 2])
def test_blocked_count_equals_the_general_count(monkeypatch, role):
    # a lone (T, n) numpy variable is counted block by block (_count_blocked); blocks of
    # 3 checkpoints leave a short last block, and the table must be the general one
    monkeypatch.setattr(info.counting, "_BLOCK_ELEMENTS", 3 * 50)
    rng = np.random.default_rng(30 + role)
    labels = [rng.integers(0, k, 50) for k in (3, 4, 5)]
    labels[role] = rng.integers(0, (3, 4, 5)[role], (7, 50)).astype(np.int32)
    for num_classes in (None, 6):
        table = info.Contingency.from_labels(*labels, num_classes=num_classes)
        inputs = info._encode_all(dict(zip("FYL", labels)), num_classes)
        general = info._count(info._cells(inputs), inputs.shape)
        np.testing.assert_array_equal(table.counts, general)
        assert table.counts.flags.c_contiguous
        for t in range(7):
            one = [x[t] if x.ndim == 2 else x for x in labels]
            expected = info.performance_correlation(*one, num_classes=num_classes)
            assert table.performance_correlation()[t] == expected


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, np.uint32])
@pytest.mark.parametrize("name", ["F", "Y", "L"])
def test_blocked_count_checks_labels_of_every_block(monkeypatch, dtype, name):
    monkeypatch.setattr(info.counting, "_BLOCK_ELEMENTS", 2 * 40)
    args = {role: np.zeros(40, dtype=int) for role in "FYL"}
    batched = np.zeros((9, 40), dtype=dtype)
    batched[8, 39] = 4
    args[name] = batched
    with pytest.raises(ValueError, match=f"smaller than a label present in {name}"):
        info.performance_correlation(**args, num_classes=4)
    if np.dtype(dtype).kind == "i":
        batched[8, 39] = -1
        with pytest.raises(ValueError, match=f"{name} has negative labels"):
            info.performance_correlation(**args, num_classes=4)
    batched[8, 39] = 3
    assert info.performance_correlation(**args, num_classes=4).shape == (9,)
