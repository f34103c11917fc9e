"""BaseNet of Pinson et al. (Sec. 2, App. A): a ResNet v1 without residual connections whose
every conv layer is conv-BN-activation, the activation of each layer switchable between ReLU
and identity by layer index; BaseNet18 (ImageNet and CIFAR-10 stems) and a narrow fast variant.

One module holds E members side by side as grouped convolutions (groups = E), each with its
own weights, BatchNorm statistics and per-layer activation mask, so the partly-linear
variants of one seed train in one batched step from identical initial weights.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class Switch(nn.Module):
    """Activation with a per-member switch: relu(x) m + x (1 - m), m = 1 ReLU, m = 0 identity,
    computed as one PReLU whose per-channel negative slope is 1 - m (one fused op; measured
    ~20% faster per training step than the sum on one CPU core).

    Its input is the layer's preactivation (the BN output), which `sgdclaims.depth` hooks.
    """

    def __init__(self, members: int, channels: int):
        super().__init__()
        self.members, self.channels = members, channels
        self.register_buffer("relu_on", torch.ones(members))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.prelu(x, (1.0 - self.relu_on).repeat_interleave(self.channels))


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """One conv-BN-activation layer: output channels, kernel, stride, padding, and an optional
    max-pool (kernel 3, stride 2, padding 1, as ResNet's stem) after the activation."""

    out_channels: int
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    pool_after: bool = False


def stem_and_stages(
    stem: str, widths: Sequence[int], convs_per_stage: Sequence[int]
) -> tuple[ConvSpec, ...]:
    """Layer list of a ResNet v1 without shortcuts: the stem, then stages whose first conv
    strides by 2 (except the first stage). stem: 'imagenet' (7x7/2 + max-pool), 'cifar'
    (3x3/1) or 'small' (3x3/1, for 28x28 / 14x14 inputs)."""
    if stem not in ("imagenet", "cifar", "small"):
        raise ValueError(f"stem must be 'imagenet', 'cifar' or 'small', got {stem!r}")
    if len(widths) != len(convs_per_stage) or not widths:
        raise ValueError(f"widths {widths} and convs_per_stage {convs_per_stage} must match")
    if any(w < 1 for w in widths) or any(c < 1 for c in convs_per_stage):
        raise ValueError("widths and convs_per_stage must be positive")
    if stem == "imagenet":
        layers = [ConvSpec(widths[0], kernel=7, stride=2, padding=3, pool_after=True)]
    else:
        layers = [ConvSpec(widths[0])]
    for s, (width, n) in enumerate(zip(widths, convs_per_stage)):
        layers += [ConvSpec(width, stride=2 if s > 0 and i == 0 else 1) for i in range(n)]
    return tuple(layers)


#: BaseNet18: the 17 convs of ResNet18 without its shortcuts (stem + 4 stages x 4 convs)
BASENET18_WIDTHS = (64, 128, 256, 512)
BASENET18_CONVS = (4, 4, 4, 4)


def basenet18_layers(stem: str = "imagenet") -> tuple[ConvSpec, ...]:
    """The 17 conv layers of BaseNet18 with the ImageNet or the CIFAR-10 stem."""
    return stem_and_stages(stem, BASENET18_WIDTHS, BASENET18_CONVS)


def narrow_layers(
    width: int = 8, convs_per_stage: Sequence[int] = (3, 3, 3)
) -> tuple[ConvSpec, ...]:
    """The fast variant: a 3x3 stem and three stages of widths w, 2w, 4w (10 layers by default)."""
    n = len(convs_per_stage)
    return stem_and_stages("small", tuple(width * 2**i for i in range(n)), convs_per_stage)


def min_side(layers: Sequence[ConvSpec]) -> int:
    """Smallest image side the layers take: every stride-2 step (conv or pool) needs side >= 2."""
    halvings = sum((s.stride == 2) + s.pool_after for s in layers)
    return 2**halvings


class BaseNet(nn.Module):
    """E members of a BaseNet in one module: input (B, C, H, W) shared by all members, or
    (B, E*C, H, W) one slice per member; output logits (B, E, num_classes)."""

    def __init__(
        self,
        layers: Sequence[ConvSpec],
        in_shape: tuple[int, int, int],
        num_classes: int,
        *,
        members: int = 1,
    ):
        super().__init__()
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        if len(in_shape) != 3:
            raise ValueError(f"BaseNet needs image inputs (C, H, W), got shape {in_shape}")
        channels, height, width = in_shape
        need = min_side(layers)
        if min(height, width) < need:
            raise ValueError(
                f"images of {height}x{width} are too small for this stem and its "
                f"{int(math.log2(need))} stride-2 steps (need sides >= {need})"
            )
        self.layers_spec = tuple(layers)
        self.in_shape, self.num_classes, self.members = tuple(in_shape), num_classes, members
        blocks: list[nn.Module] = []
        cin = channels
        for spec in self.layers_spec:
            block = nn.Sequential(
                nn.Conv2d(
                    members * cin,
                    members * spec.out_channels,
                    spec.kernel,
                    spec.stride,
                    spec.padding,
                    groups=members,
                    bias=False,
                ),
                nn.BatchNorm2d(members * spec.out_channels),
                Switch(members, spec.out_channels),
            )
            if spec.pool_after:
                block.append(nn.MaxPool2d(3, 2, 1))
            blocks.append(block)
            cin = spec.out_channels
        self.blocks = nn.Sequential(*blocks)
        self.head_weight = nn.Parameter(torch.empty(members, num_classes, cin))
        self.head_bias = nn.Parameter(torch.zeros(members, num_classes))
        self.features = cin
        self.init_members([0] * members)

    @property
    def num_layers(self) -> int:
        """Number of switchable (conv-BN-activation) layers."""
        return len(self.layers_spec)

    def switches(self) -> list[Switch]:
        """The activation switches, layer 0 (closest to the input) first."""
        return [b[2] for b in self.blocks]

    @torch.no_grad()
    def init_members(self, seeds: Sequence[int]) -> None:
        """He-uniform init (bound sqrt(6 / fan_in)) of each member from its own seed, BN to
        (1, 0) and fresh statistics: members with the same seed get identical weights."""
        if len(seeds) != self.members:
            raise ValueError(f"need {self.members} seeds, got {len(seeds)}")
        weights = [b[0].weight for b in self.blocks] + [self.head_weight]
        for e, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(int(seed))
            for w in weights:
                part = w.view(self.members, -1, *w.shape[1:])[e] if w.ndim == 4 else w[e]
                fan_in = math.prod(part.shape[1:])
                bound = math.sqrt(6.0 / fan_in)
                part.copy_(torch.rand(part.shape, generator=gen) * 2 * bound - bound)
        self.head_bias.zero_()
        for b in self.blocks:
            b[1].reset_parameters()

    @torch.no_grad()
    def set_relu(self, relu_on: torch.Tensor) -> None:
        """Set the (E, num_layers) activation mask: True/1 = ReLU, False/0 = identity."""
        mask = torch.as_tensor(relu_on, dtype=torch.float32)
        if mask.shape != (self.members, self.num_layers):
            raise ValueError(
                f"relu mask must have shape ({self.members}, {self.num_layers}), "
                f"got {tuple(mask.shape)}"
            )
        for layer, switch in enumerate(self.switches()):
            switch.relu_on.copy_(mask[:, layer])

    def relu_mask(self) -> torch.Tensor:
        """The (E, num_layers) activation mask, 1 = ReLU."""
        return torch.stack([s.relu_on for s in self.switches()], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = self.in_shape[0]
        if x.shape[1] == channels and self.members > 1:
            x = x.repeat(1, self.members, 1, 1)
        elif x.shape[1] != channels * self.members:
            raise ValueError(
                f"input has {x.shape[1]} channels; expected {channels} or "
                f"{channels * self.members} ({self.members} members)"
            )
        h = self.blocks(x).mean(dim=(2, 3)).view(len(x), self.members, self.features)
        return torch.einsum("bec,ekc->bek", h, self.head_weight) + self.head_bias


def partly_linear_mask(
    num_layers: int, ks: Sequence[int | None], *, last: bool = False
) -> torch.Tensor:
    """(len(ks), num_layers) ReLU mask of partly-linear variants: variant k has its first k
    activations identity (k = 0 is the main model, None = all layers linear); with `last`,
    its last k (the specificity control of CLAIMS.md, depth_wave)."""
    rows = []
    for k in ks:
        k_eff = num_layers if k is None else k
        if isinstance(k_eff, bool) or not isinstance(k_eff, int) or not 0 <= k_eff <= num_layers:
            raise ValueError(f"k must be an int in [0, {num_layers}] or None (all), got {k!r}")
        row = [0.0] * k_eff + [1.0] * (num_layers - k_eff)
        rows.append(row[::-1] if last else row)
    return torch.tensor(rows)


def subset_linear_mask(num_layers: int, linear_layers: Sequence[int]) -> torch.Tensor:
    """(num_layers,) ReLU mask with the given layer indices identity; unknown indices raise."""
    bad = sorted({int(i) for i in linear_layers if not 0 <= int(i) < num_layers})
    if bad:
        raise ValueError(f"unknown layer indices {bad}; this model has layers 0..{num_layers - 1}")
    mask = torch.ones(num_layers)
    mask[list(linear_layers)] = 0.0
    return mask
