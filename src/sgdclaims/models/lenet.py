"""The LeNet-5 variant of Goldwaser & Ge (iterative linearisation, Sec. 4): LeNet-5 with 50
channels in each conv layer and no BatchNorm or dropout:
conv5x5(50)-ReLU-maxpool2-conv5x5(50)-ReLU-maxpool2-dense120-ReLU-dense84-ReLU-out.

Max-pooling is applied before the ReLU. The two orders compute the same function (ReLU is
monotone, so it commutes with max) and have the same derivative almost everywhere, but
pooling first applies the ReLU to a quarter of the values. The conv activations are kept
channels-last: on one CPU core max-pooling a channels-last tensor is ~10x faster (measured
on 128 x 50 x 12 x 12), and a one-channel input's conv output is not channels-last unless
asked for.

`LeNetGroup` is the same network for R parameter sets at once (stacked along a leading
member dimension) with its linear maps written out (sgdclaims.linearise.Family): the logits,
the forward-mode product J delta, the reverse-mode product J^T u and the tangent kernel
J J^T, each a handful of matrix products. Both convolutions are matrix products over
patches, each 2x2 max-pool a choice among its four offsets (the first maximum, as
max_pool2d takes it). On one CPU core this runs a linearised step ~2x faster than torch.func
on LeNet50 (mkldnn runs these small convolutions at a quarter of matmul speed; measured).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

CHANNELS_LAST = torch.channels_last
Params = dict[str, torch.Tensor]


class LeNet50(nn.Module):
    """LeNet-5 with 50-channel conv layers for (C, H, W) images (28x28 MNIST, 32x32 CIFAR;
    at least 16x16)."""

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        channels: int = 50,
        dense: tuple[int, int] = (120, 84),
    ):
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"LeNet50 needs image inputs (C, H, W), got shape {in_shape}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        c, h, w = in_shape
        side_h, side_w = ((h - 4) // 2 - 4) // 2, ((w - 4) // 2 - 4) // 2
        if side_h < 1 or side_w < 1:
            raise ValueError(f"images of {h}x{w} are too small for LeNet50 (>= 16x16)")
        self.conv1 = nn.Conv2d(c, channels, 5)
        self.conv2 = nn.Conv2d(channels, channels, 5)
        self.fc1 = nn.Linear(channels * side_h * side_w, dense[0])
        self.fc2 = nn.Linear(dense[0], dense[1])
        self.out = nn.Linear(dense[1], num_classes)
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                conv.weight.data = conv.weight.data.contiguous(memory_format=CHANNELS_LAST)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x.contiguous(memory_format=CHANNELS_LAST))
        x = F.relu(F.max_pool2d(x.contiguous(memory_format=CHANNELS_LAST), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.flatten(1)
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


def pool4(o: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The maximum over the leading dimension of size 4 (a 2x2 pool's offsets) and the index
    of its first maximum (max_pool2d's choice on ties)."""
    v = torch.maximum(torch.maximum(o[0], o[1]), torch.maximum(o[2], o[3]))
    later = [(o[i] != v).long() for i in range(3)]
    return v, later[0] * (1 + later[1] * (1 + later[2]))


@dataclasses.dataclass
class GroupPoint:
    """The network group at one point theta_s on one input batch: the logits and what the
    linear maps around it need (pool choices, ReLU masks, activations, weight matrices)."""

    logits: torch.Tensor
    patches: torch.Tensor
    q1: torch.Tensor
    f1: torch.Tensor
    x2: torch.Tensor
    q2: torch.Tensor
    f2: torch.Tensor
    acts: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    masks: tuple[torch.Tensor, torch.Tensor]
    weights: Params
    sizes: tuple[int, int, int, int]


class LeNetGroup:
    """LeNet50 for a stack of R parameter sets (LeNet50's names, a leading member dimension)
    on shared inputs: `prepare` turns images into conv1 patches once; `primal` gives the
    logits (R, N, classes) and the point the linear maps need; `tangent` is J delta,
    `pullback` J^T u and `kernel` J J^T (R, N classes, N classes)."""

    def __init__(self, in_shape: tuple[int, int, int], kernel_size: int = 5):
        self.c, self.h, self.w = in_shape
        k = self.k = kernel_size
        self.s1 = ((self.h - k + 1) // 2, (self.w - k + 1) // 2)
        self.s2 = (self.s1[0] - k + 1, self.s1[1] - k + 1)
        self.s3 = (self.s2[0] // 2, self.s2[1] // 2)
        if min(self.s3) < 1:
            raise ValueError(f"images of {self.h}x{self.w} are too small for LeNet50 (>= 16x16)")
        a, b = self.s3
        offsets = [
            (dy, dx, i, j) for dy in (0, 1) for dx in (0, 1) for i in range(a) for j in range(b)
        ]
        self.offsets = [(2 * i + dy, 2 * j + dx) for dy, dx, i, j in offsets]
        self._buffers: dict[tuple, torch.Tensor] = {}

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """conv1's patches with a ones column (the bias): (N 2s1h 2s1w, C k k + 1), rows
        ordered (image, row, column) over the outputs the pool reads."""
        n, k, (a, b) = x.shape[0], self.k, self.s1
        p = F.unfold(x, k).view(n, -1, self.h - k + 1, self.w - k + 1)[:, :, : 2 * a, : 2 * b]
        p = p.permute(0, 2, 3, 1).reshape(n * 4 * a * b, -1)
        return torch.cat([p, p.new_ones(len(p), 1)], dim=1)

    def _scratch(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """A zeroed buffer kept between calls: a fresh one of conv1's size costs more to
        allocate (page faults) than the scatter into it (measured on one CPU core)."""
        key = (shape, like.dtype, like.device)
        if key not in self._buffers:
            self._buffers[key] = like.new_zeros(shape)
        return self._buffers[key].zero_()

    def _windows(self, h: torch.Tensor) -> torch.Tensor:
        """conv2's patches of h (R, N, s1h, s1w, C1): (R, 4 s3h s3w N, k k C1), rows ordered
        (pool offset, row, column, image)."""
        k, (r, n) = self.k, h.shape[:2]
        parts = [h[:, :, y : y + k, x : x + k] for y, x in self.offsets]
        return torch.stack(parts, 1).view(r, len(parts) * n, -1)

    def _fold(self, g: torch.Tensor, r: int, n: int, c: int) -> torch.Tensor:
        """The adjoint of _windows: patch gradients summed back into (R, N, s1h, s1w, C1)."""
        k = self.k
        g = g.view(r, len(self.offsets), n, k, k, c)
        out = g.new_zeros(r, n, *self.s1, c)
        for i, (y, x) in enumerate(self.offsets):
            out[:, :, y : y + k, x : x + k] += g[:, i]
        return out

    def _matrices(self, p: Params) -> tuple[torch.Tensor, torch.Tensor]:
        """conv1's weights and bias as (C k k + 1, R C1), conv2's weights as (R, C2, k k C1)."""
        w1, w2 = p["conv1.weight"], p["conv2.weight"]
        r, c1 = w1.shape[:2]
        m1 = torch.cat([w1.reshape(r, c1, -1), p["conv1.bias"][:, :, None]], 2)
        return m1.permute(2, 0, 1).reshape(-1, r * c1), w2.permute(0, 1, 3, 4, 2).reshape(
            r, -1, w2[0, 0].numel()
        )

    def _to_images(self, t: torch.Tensor, n: int, r: int, c1: int) -> torch.Tensor:
        """(N s1h s1w, R C1) -> (R, N, s1h, s1w, C1)."""
        return t.view(n, *self.s1, r, c1).permute(3, 0, 1, 2, 4).contiguous()

    def _flat(self, v: torch.Tensor, n: int) -> torch.Tensor:
        """(R, s3h s3w N, C2) rows (row, column, image) -> (R, N, C2 s3h s3w) as LeNet50's
        flatten orders them (channel, row, column)."""
        r, _, c2 = v.shape
        return v.view(r, -1, n, c2).permute(0, 2, 3, 1).reshape(r, n, -1)

    def _unflat(self, g: torch.Tensor, n: int) -> torch.Tensor:
        """The inverse of _flat (on any leading dimensions)."""
        lead = g.shape[:-2]
        s = self.s3[0] * self.s3[1]
        return g.reshape(*lead, n, -1, s).movedim(-1, -3).reshape(*lead, s * n, -1)

    def primal(self, p: Params, patches: torch.Tensor) -> GroupPoint:
        """The logits at p (stacked parameters) and the point the linear maps need."""
        r, c1 = p["conv1.weight"].shape[:2]
        n = len(patches) // (4 * self.s1[0] * self.s1[1])
        m1, m2 = self._matrices(p)
        o1 = (patches @ m1).view(n, 2 * self.s1[0], 2 * self.s1[1], r * c1).permute(0, 3, 1, 2)
        v1, q1 = F.max_pool2d(o1, 2, return_indices=True)
        v1, q1 = (
            v1.permute(0, 2, 3, 1).reshape(-1, r * c1),
            q1.permute(0, 2, 3, 1).reshape(n, -1, r * c1),
        )
        f1 = (v1 > 0).to(v1.dtype)
        x2 = self._windows(self._to_images(torch.relu(v1), n, r, c1))
        c2 = m2.shape[1]
        v2, q2 = pool4(torch.bmm(x2, m2.transpose(1, 2)).view(r, 4, -1, c2).transpose(0, 1))
        v2 = v2 + p["conv2.bias"][:, None]
        f2 = (v2 > 0).to(v2.dtype)
        a2 = self._flat(v2 * f2, n)
        z3 = torch.baddbmm(p["fc1.bias"][:, None], a2, p["fc1.weight"].transpose(1, 2))
        g3 = (z3 > 0).to(z3.dtype)
        a3 = z3 * g3
        z4 = torch.baddbmm(p["fc2.bias"][:, None], a3, p["fc2.weight"].transpose(1, 2))
        g4 = (z4 > 0).to(z4.dtype)
        a4 = z4 * g4
        logits = torch.baddbmm(p["out.bias"][:, None], a4, p["out.weight"].transpose(1, 2))
        weights = {"conv1": m1, "conv2": m2, **{k: p[f"{k}.weight"] for k in ("fc1", "fc2", "out")}}
        return GroupPoint(
            logits, patches, q1, f1, x2, q2, f2, (a2, a3, a4), (g3, g4), weights, (r, n, c1, c2)
        )

    def tangent(self, s: GroupPoint, d: Params) -> torch.Tensor:
        """J delta at the point s: the logits' change for a parameter change d (R, N, classes)."""
        r, n, c1, c2 = s.sizes
        (a2, a3, a4), (g3, g4), w = s.acts, s.masks, s.weights
        d1, d2 = self._matrices(d)
        t1 = (s.patches @ d1).view(n, -1, r * c1).gather(1, s.q1).view(-1, r * c1) * s.f1
        t2 = torch.bmm(self._windows(self._to_images(t1, n, r, c1)), w["conv2"].transpose(1, 2))
        t2 = t2.baddbmm_(s.x2, d2.transpose(1, 2)).view(r, 4, -1, c2)
        t2 = (t2.gather(1, s.q2[:, None])[:, 0] + d["conv2.bias"][:, None]) * s.f2
        t = self._flat(t2, n)
        for name, act, mask in (("fc1", a2, g3), ("fc2", a3, g4), ("out", a4, None)):
            t = torch.baddbmm(d[f"{name}.bias"][:, None], t, w[name].transpose(1, 2))
            t = torch.baddbmm(t, act, d[f"{name}.weight"].transpose(1, 2))
            t = t if mask is None else t * mask
        return t

    def pullback(self, s: GroupPoint, u: torch.Tensor) -> Params:
        """J^T u at the point s: the parameter gradient of <u, logits> (stacked)."""
        r, n, c1, c2 = s.sizes
        (a2, a3, a4), (g3, g4), w = s.acts, s.masks, s.weights
        out: Params = {}
        g = u
        for name, act, mask in (("out", a4, g4), ("fc2", a3, g3), ("fc1", a2, None)):
            out[f"{name}.weight"] = g.transpose(1, 2).contiguous() @ act
            out[f"{name}.bias"] = g.sum(1)
            g = g @ w[name] if mask is None else (g @ w[name]) * mask
        g2 = self._unflat(g, n) * s.f2
        out["conv2.bias"] = g2.sum(1)
        full2 = g2.new_zeros(r, 4, *g2.shape[1:]).scatter_(1, s.q2[:, None], g2[:, None])
        full2 = full2.view(r, -1, c2)
        dw2 = (full2.transpose(1, 2).contiguous() @ s.x2).view(r, c2, self.k, self.k, c1)
        out["conv2.weight"] = dw2.permute(0, 1, 4, 2, 3)
        gh = self._fold(full2 @ w["conv2"], r, n, c1)
        g1 = gh.permute(1, 2, 3, 0, 4).reshape(-1, r * c1) * s.f1
        full1 = self._scratch((n, len(s.patches) // n, r * c1), g1)
        full1 = full1.scatter_(1, s.q1, g1.view(n, -1, r * c1))
        dw1 = (s.patches.transpose(0, 1) @ full1.view(-1, r * c1)).view(-1, r, c1).permute(1, 2, 0)
        out["conv1.weight"] = dw1[..., :-1].reshape(r, c1, self.c, self.k, self.k)
        out["conv1.bias"] = dw1[..., -1]
        return out

    def kernel(self, s: GroupPoint) -> torch.Tensor:
        """J J^T at the point s, the empirical tangent kernel of the logits (R, N C, N C),
        rows and columns ordered (image, class): summed layer by layer from the cotangents
        of each class, never materialising J."""
        r, n, c1, c2 = s.sizes
        (a2, a3, a4), (g3, g4), w = s.acts, s.masks, s.weights
        classes = w["out"].shape[1]
        eye = torch.eye(classes, dtype=a4.dtype, device=a4.device)
        gram = (a4 @ a4.transpose(1, 2) + 1)[:, :, None, :, None] * eye[:, None, :]
        g = w["out"][:, None] * g4[:, :, None]  # (R, N, classes, D2): cotangents at fc2's output
        for name, act, mask in (("fc2", a3, g3), ("fc1", a2, None)):
            flat = g.reshape(r, n * classes, -1)
            outer = (flat @ flat.transpose(1, 2)).view(r, n, classes, n, classes)
            gram = gram + outer * (act @ act.transpose(1, 2) + 1)[:, :, None, :, None]
            g = g @ w[name][:, None] if mask is None else (g @ w[name][:, None]) * mask[:, :, None]
        g2 = self._unflat(g.transpose(1, 2), n) * s.f2[:, None]  # (R, classes, s3 N, C2)
        gram = gram + self._conv2_kernel(s, g2)
        full2 = g2.new_zeros(r, classes, 4, *g2.shape[2:]).scatter_(
            2, s.q2[:, None, None].expand(-1, classes, -1, -1, -1), g2[:, :, None]
        )
        gh = full2.view(r * classes, -1, c2) @ w["conv2"].repeat_interleave(classes, 0)
        gh = self._fold(gh, r * classes, n, c1).view(r, classes, n, -1, c1)
        h = self._conv1_kernel(s, gh).reshape(r, n * classes, -1)
        return gram.reshape(r, n * classes, n * classes) + h @ h.transpose(1, 2)

    def _conv1_kernel(self, s: GroupPoint, gh: torch.Tensor) -> torch.Tensor:
        """conv1's rows of J for every (image, class) cotangent, (R, N, classes, C1 (C k k + 1)),
        from the gradients gh (R, classes, N, s1h s1w, C1) at its pooled outputs: each pooled
        output's gradient times the patch its pool chose."""
        r, n, c1, _ = s.sizes
        (a, b), classes = self.s1, gh.shape[1]
        relu = s.f1.view(n, -1, r, c1).permute(0, 2, 3, 1)[:, :, None]  # (N, R, 1, C1, s1)
        g1 = gh.permute(2, 0, 1, 4, 3).contiguous() * relu  # (N, R, classes, C1, s1)
        q = s.q1.view(n, -1, r, c1).permute(0, 2, 3, 1)[:, :, None]
        offset = (q // (2 * b)) % 2 * 2 + q % 2
        patches = s.patches.view(n, a, 2, b, 2, -1).permute(2, 4, 0, 1, 3, 5)
        patches = patches.reshape(4, n, a * b, -1)
        h = sum(
            torch.bmm((g1 * (offset == i)).view(n, -1, a * b), patches[i]) for i in range(4)
        )  # (N, R classes C1, C k k + 1)
        return h.view(n, r, classes, -1).transpose(0, 1)

    def _conv2_kernel(self, s: GroupPoint, g2: torch.Tensor) -> torch.Tensor:
        """conv2's part of J J^T from the cotangents g2 (R, classes, s3 N, C2) at its pooled
        outputs: weights through the Gram of the patches each pool chose, and the bias."""
        r, n, _, c2 = s.sizes
        classes, cells = g2.shape[1], g2.shape[2]
        grid = g2.view(r, classes, -1, n, c2)
        bias = grid.sum(2).permute(0, 2, 1, 3).reshape(r, n * classes, c2)
        gram = (bias @ bias.transpose(1, 2)).view(r, n, classes, n, classes)
        rows = s.q2 * cells + torch.arange(cells, device=g2.device)[:, None]  # (R, s3 N, C2)
        patch_gram = s.x2 @ s.x2.transpose(1, 2)
        idx = rows.transpose(1, 2)
        members = torch.arange(r, device=g2.device)[:, None, None, None]
        chosen = patch_gram[members, idx[:, :, :, None], idx[:, :, None, :]]  # (R, C2, s3N, s3N)
        chosen = chosen.view(r, c2, -1, n, cells // n, n)
        return gram + torch.einsum("rkpnc,rcpnqm,rlqmc->rnkml", grid, chosen, grid)
