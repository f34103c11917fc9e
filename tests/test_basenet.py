"""BaseNet and ResNet50 with per-layer switchable activations: switches, members, bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims.models.basenet import (
    BaseNet,
    Switch,
    basenet18_layers,
    min_side,
    narrow_layers,
    partly_linear_mask,
    subset_linear_mask,
)
from sgdclaims.models.resnet import RESNET50_LAYERS, SwitchResNet50, resnet50_subset


def test_basenet18_has_17_layers_and_both_stems_run():
    for stem, side in (("imagenet", 32), ("cifar", 8)):
        layers = basenet18_layers(stem)
        assert len(layers) == 17
        assert min_side(layers) == side
        net = BaseNet(layers, (3, side, side), 10)
        assert net(torch.randn(2, 3, side, side)).shape == (2, 1, 10)


def test_narrow_variant_has_10_layers_on_28_and_14_pixels():
    layers = narrow_layers(8)
    assert len(layers) == 10
    for side in (28, 14):
        assert BaseNet(layers, (1, side, side), 4)(torch.randn(3, 1, side, side)).shape == (3, 1, 4)


@given(st.floats(-5, 5, allow_nan=False), st.booleans())
def test_switch_is_relu_or_identity(value, relu_on):
    s = Switch(members=2, channels=3)
    s.relu_on.copy_(torch.tensor([float(relu_on), 1.0 - relu_on]))
    x = torch.full((1, 6, 2, 2), value)
    out = s(x)
    first, second = out[:, :3], out[:, 3:]
    expect_relu, expect_id = torch.relu(x[:, :3]), x[:, :3]
    assert torch.equal(first, expect_relu if relu_on else expect_id)
    assert torch.equal(second, expect_id if relu_on else expect_relu)


def test_all_identity_basenet_is_affine_in_eval_mode():
    torch.manual_seed(0)
    net = BaseNet(narrow_layers(4), (1, 14, 14), 3)
    net.set_relu(partly_linear_mask(net.num_layers, [None]))
    net.eval()
    a, b = torch.randn(2, 1, 1, 14, 14)
    mid = net(0.5 * (a + b))
    assert torch.allclose(mid, 0.5 * (net(a) + net(b)), atol=1e-5)
    net.set_relu(partly_linear_mask(net.num_layers, [0]))
    assert not torch.allclose(net(0.5 * (a + b)), 0.5 * (net(a) + net(b)), atol=1e-3)


def test_grouped_members_equal_separate_models():
    layers, shape = narrow_layers(4), (1, 14, 14)
    ks = [0, 3, None]
    mask = partly_linear_mask(len(layers), ks)
    group = BaseNet(layers, shape, 4, members=3)
    group.init_members([7, 7, 7])
    group.set_relu(mask)
    x = torch.randn(5, *shape)
    out = group(x)
    for e in range(3):
        single = BaseNet(layers, shape, 4)
        single.init_members([7])
        single.set_relu(mask[e : e + 1])
        assert torch.allclose(out[:, e], single(x)[:, 0], atol=1e-5)
    assert not torch.allclose(out[:, 0], out[:, 2], atol=1e-3)


def test_members_with_same_seed_start_identical_and_differ_by_seed():
    net = BaseNet(narrow_layers(4), (1, 14, 14), 4, members=3)
    net.init_members([1, 1, 2])
    w = net.blocks[0][0].weight.view(3, -1)
    assert torch.equal(w[0], w[1])
    assert not torch.equal(w[0], w[2])


def test_partly_linear_mask():
    mask = partly_linear_mask(5, [0, 2, None])
    assert mask.tolist() == [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]]
    last = partly_linear_mask(5, [2, 4], last=True)
    assert last.tolist() == [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]


@given(st.floats(-5, 5, allow_nan=False, width=32, allow_subnormal=False))
def test_switch_gradient_is_relu_or_identity(value):
    s = Switch(members=2, channels=1)
    s.relu_on.copy_(torch.tensor([1.0, 0.0]))
    x = torch.tensor([[[[value]], [[value]]]], requires_grad=True)
    s(x).sum().backward()
    assert x.grad.flatten().tolist() == [float(value > 0), 1.0]


def test_k_larger_than_layers_is_refused():
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 10\]"):
        partly_linear_mask(10, [11])


def test_unknown_layer_index_is_refused():
    with pytest.raises(ValueError, match="unknown layer indices"):
        subset_linear_mask(10, [3, 12])
    model = SwitchResNet50((3, 32, 32), 10)
    with pytest.raises(ValueError, match="unknown layer indices"):
        model.set_linear([49])


def test_mask_shape_is_checked():
    net = BaseNet(narrow_layers(4), (1, 14, 14), 4, members=2)
    with pytest.raises(ValueError, match="mask must have shape"):
        net.set_relu(torch.ones(2, 9))


@pytest.mark.parametrize(
    ("layers", "shape"),
    [
        (basenet18_layers("imagenet"), (3, 28, 28)),
        (basenet18_layers("cifar"), (3, 4, 4)),
        (narrow_layers(8), (1, 3, 3)),
    ],
)
def test_image_too_small_for_stem_is_refused(layers, shape):
    with pytest.raises(ValueError, match="too small for this stem"):
        BaseNet(layers, shape, 10)


def test_wrong_channel_count_is_refused_at_forward():
    net = BaseNet(narrow_layers(4), (1, 14, 14), 4, members=2)
    with pytest.raises(ValueError, match="input has 3 channels"):
        net(torch.randn(2, 3, 14, 14))


def test_resnet50_has_49_switches_and_subsets():
    model = SwitchResNet50((3, 32, 32), 10)
    assert len(model.switches()) == RESNET50_LAYERS
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 1, 10)
    model.set_linear(resnet50_subset("first20"))
    assert [s.relu_on.item() for s in model.switches()][:21] == [0.0] * 20 + [1.0]
    assert resnet50_subset("last20") == list(range(29, 49))
    assert resnet50_subset("positive", [1.0, -1.0] * 24 + [0.5]) == [*range(0, 48, 2), 48]
    with pytest.raises(ValueError, match="too small for the ResNet50 stem"):
        SwitchResNet50((3, 16, 16), 10)
    with pytest.raises(ValueError, match="positive"):
        resnet50_subset("positive")
