"""Order parameters Q, R, T, v, v* of a batch of teacher-student networks (Goldt et al. Sec. 2).

A batch holds B independent networks with the same K (hidden units, padded) and M. To
batch different K, smaller students are padded with inactive units (v = 0, frozen): an
inactive unit contributes nothing to the output, so its presence changes no average.
`from_weights` measures the order parameters of SGD weights, so ODE and SGD can start
from the same state.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor


class OrderParameters(NamedTuple):
    """Q (B,K,K), R (B,K,M), T (B,M,M), v (B,K), v* (B,M), active (B,K) bool; float64."""

    q: Tensor
    r: Tensor
    t: Tensor
    v: Tensor
    vs: Tensor
    active: Tensor

    @property
    def k(self) -> int:
        """Padded number of student units."""
        return self.q.shape[-1]

    @property
    def m(self) -> int:
        """Number of teacher units."""
        return self.t.shape[-1]

    def select(self, index: Tensor | slice | int) -> OrderParameters:
        """The networks `index` of the batch (keeping the batch dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return OrderParameters(*(x[index] for x in self))


def from_weights(w: Tensor, ws: Tensor, v: Tensor, vs: Tensor, active: Tensor | None = None):
    """Order parameters of weights w (B,K,N), w* (B,M,N), v (B,K), v* (B,M), in float64."""
    n = w.shape[-1]
    w64, ws64 = w.double(), ws.double()
    q = w64 @ w64.transpose(-1, -2) / n
    r = w64 @ ws64.transpose(-1, -2) / n
    t = ws64 @ ws64.transpose(-1, -2) / n
    if active is None:
        active = torch.ones(v.shape, dtype=torch.bool, device=v.device)
    v64 = v.double() * active
    q = _pad_inactive(q, active)
    r = r * active[..., None]
    return OrderParameters(q, r, t, v64, vs.double(), active.clone())


def _pad_inactive(q: Tensor, active: Tensor) -> Tensor:
    """Q with inactive units decoupled: zero off-diagonal rows, unit diagonal."""
    a = active.double()
    eye = torch.eye(q.shape[-1], dtype=q.dtype, device=q.device)
    keep = a[..., :, None] * a[..., None, :]
    return q * keep + eye * (1 - a)[..., None, :]


def random_student(
    ks: list[int],
    m: int,
    *,
    n: int,
    init_std: float,
    teacher: str,
    v: float,
    vs: float,
    generator: torch.Generator,
    device: str | torch.device = "cpu",
) -> OrderParameters:
    """Order parameters of random students (N(0, init_std^2) weights at input size n) for each
    K in `ks`, padded to max(ks); teacher 'identity' sets T = I (a normalised teacher),
    'gaussian' draws w* ~ N(0,1) at size n. Drawn on the CPU from `generator`, returned on
    `device`."""
    kmax = max(ks)
    b = len(ks)
    w = torch.randn(b, kmax, n, generator=generator, dtype=torch.float64) * init_std
    ws = teacher_weights(b, m, n, teacher=teacher, generator=generator)
    active = torch.arange(kmax)[None, :] < torch.tensor(ks)[:, None]
    state = from_weights(w, ws, torch.full((b, kmax), v), torch.full((b, m), vs), active)
    return OrderParameters(*(x.to(device) for x in state))


def teacher_weights(
    b: int, m: int, n: int, *, teacher: str, generator: torch.Generator, dtype=torch.float64
) -> Tensor:
    """Teacher weights (b, m, n): 'gaussian' N(0,1) entries (the paper), or 'identity':
    orthogonal rows of norm sqrt(n), so that T = I exactly (a normalised teacher)."""
    ws = torch.randn(b, m, n, generator=generator, dtype=torch.float64)
    if teacher == "identity":
        q, _ = torch.linalg.qr(ws.transpose(-1, -2))
        ws = q.transpose(-1, -2) * math.sqrt(n)
    elif teacher != "gaussian":
        raise ValueError(f"teacher must be 'identity' or 'gaussian', got {teacher!r}")
    return ws.to(dtype)
