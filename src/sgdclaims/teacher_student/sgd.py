"""Online SGD of two-layer teacher-student networks (Goldt et al. 2020, eq. 2-3).

One fresh Gaussian sample per step, output noise sigma, separate learning rates for the
first (eta_w / sqrt N) and second (eta_v / N) layer. R independent replicas (seeds, or K
values padded with inactive units) advance together: every step is a fixed number of
batched operations over all replicas (the loops are in `steppers`), and inputs and noise are
drawn in big blocks on the networks' device. Replicas in the same `stream` share their
inputs and label noise (different students of one seed may see one data stream), which
divides the cost of drawing them. The divergence rule of sgdclaims.training stops a replica.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch import Tensor

from sgdclaims.teacher_student.activations import activation_fn
from sgdclaims.teacher_student.error import eps_from_order, eps_monte_carlo
from sgdclaims.teacher_student.state import OrderParameters, from_weights, teacher_weights
from sgdclaims.teacher_student.steppers import NumpyBlocks, torch_stepper
from sgdclaims.training import Divergence
from sgdclaims.validate import require_non_negative, require_positive

BACKENDS = ("numpy", "torch")


@dataclasses.dataclass
class Networks:
    """Weights of R replicas: w (R,K,N), w* (R,M,N), v (R,K), v* (R,M), active units (R,K)."""

    w: Tensor
    ws: Tensor
    v: Tensor
    vs: Tensor
    active: Tensor

    def order_parameters(self) -> OrderParameters:
        """Q, R, T, v, v* measured from the weights (float64), the ODE's initial condition."""
        return from_weights(self.w, self.ws, self.v, self.vs, self.active)

    def to(self, device: str | torch.device) -> Networks:
        """The same networks on `device`."""
        return Networks(*(x.to(device) for x in dataclasses.astuple(self)))


@dataclasses.dataclass
class SGDTrace:
    """eps_g (C, R) at checkpoint times alpha (C,) (NaN once a replica's run stopped), its
    standard error (Monte Carlo eps_g), the final networks, the number of steps, and per
    replica the divergence rule that stopped it ('' if none) and the alpha where it fired."""

    alpha: np.ndarray
    eps: np.ndarray
    eps_se: np.ndarray
    nets: Networks
    steps: int
    diverged: list[str] = dataclasses.field(default_factory=list)
    diverged_at: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))


def sgd(
    nets: Networks,
    *,
    activation: str,
    eta_w: float,
    eta_v: float,
    sigma: float,
    alphas: np.ndarray,
    generator: torch.Generator,
    block: int = 256,
    mc_inputs: Tensor | None = None,
    streams: Tensor | None = None,
    backend: str | None = None,
) -> SGDTrace:
    """Run online SGD from `nets` (updated in place), recording eps_g at times `alphas`.

    `generator` lives on the networks' device. eps_g is exact from the order parameters for
    erf and linear activations and a Monte Carlo estimate on the held-out inputs `mc_inputs`
    (P, N) otherwise (ReLU). streams (R,): the input stream of each replica (default: its
    own). backend: 'numpy' (CPU only) or 'torch'; default numpy on the CPU, else torch.

    The divergence rule of sgdclaims.training is checked on each replica's training loss, the
    mean of Delta^2 / 2 over each block of `block` fresh samples (one sample's loss is a
    chi-square draw, so a single step would fire the 100x rule on noise; a NaN at any step
    makes its block's mean NaN); a replica it stops is NaN from the next checkpoint on.
    """
    require_positive("eta_w", eta_w)
    require_non_negative("eta_v", eta_v)
    require_non_negative("sigma", sigma)
    activation_fn(activation)  # ValueError naming the activation
    if activation not in ("erf", "linear") and mc_inputs is None:
        raise ValueError(f"activation={activation!r} needs mc_inputs to measure eps_g")
    device = nets.w.device
    backend = backend or ("numpy" if device.type == "cpu" else "torch")
    if backend not in BACKENDS or (backend == "numpy" and device.type != "cpu"):
        raise ValueError(
            f"backend must be one of {list(BACKENDS)} (numpy on the CPU only), "
            f"got {backend!r} on {device}"
        )
    r, _, n = nets.w.shape
    streams = torch.arange(r) if streams is None else streams.cpu()
    n_streams = int(streams.max()) + 1
    nets.v.mul_(nets.active.to(nets.v.dtype))
    targets = np.rint(np.asarray(alphas, dtype=float) * n).astype(np.int64)
    if len(targets) == 0 or np.any(np.diff(targets) < 0) or targets[0] < 0:
        raise ValueError("alphas must be sorted, non-empty and non-negative")
    if backend == "numpy":
        advance = NumpyBlocks(nets, activation, eta_w, eta_v / n, streams.numpy())
    else:
        advance = torch_stepper(nets, activation, eta_w, eta_v / n, streams.to(device))
    rules = [Divergence("cpu") for _ in range(r)]
    stopped = np.zeros(r, dtype=bool)
    at = np.full(r, np.nan)
    step, rows, ses = 0, [], []
    for target in targets:
        while step < target:
            size = int(min(block, target - step))
            shape = (n_streams, size)
            x = torch.randn(*shape, n, generator=generator, dtype=nets.w.dtype, device=device)
            noise = torch.randn(*shape, generator=generator, dtype=nets.w.dtype, device=device)
            deltas = torch.as_tensor(advance(x.mul_(1 / math.sqrt(n)), noise.mul_(sigma)))
            step += size
            loss = (0.5 * deltas.double() ** 2).mean(0).cpu()
            for i, rule in enumerate(rules):
                if not stopped[i]:
                    rule.update(step, loss[i])
        for i, rule in enumerate(rules):
            if not stopped[i] and rule.fired:
                stopped[i], at[i] = True, rule.step / n
        e, se = _measure(activation, nets, mc_inputs)
        rows.append(np.where(stopped, np.nan, e))
        ses.append(se)
    diverged = [rule.rule for rule in rules]
    alpha = np.asarray(alphas, float)
    return SGDTrace(alpha, np.stack(rows), np.stack(ses), nets, step, diverged, at)


def _measure(activation: str, nets: Networks, mc_inputs: Tensor | None):
    """eps_g (R,) of the networks and its standard error (0 where exact)."""
    if activation in ("erf", "linear"):
        return eps_from_order(activation, nets.order_parameters()).cpu().numpy(), np.zeros(
            nets.w.shape[0]
        )
    e, se = eps_monte_carlo(activation, nets.w, nets.ws, nets.v, nets.vs, mc_inputs)
    return e.cpu().numpy(), se.cpu().numpy()


def init_networks(
    ks: list[int],
    m: int,
    *,
    n: int,
    init_std: float,
    teacher: str,
    v0: float,
    vs: float,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
    v_init_std: float = 0.0,
    device: str | torch.device = "cpu",
) -> Networks:
    """Replicas with K in `ks` (padded to max(ks)): students N(0, init_std^2), second layer
    v0 (+ N(0, v_init_std^2) when trained), teachers per `teacher` ('gaussian' or
    'identity', see state.teacher_weights) with second layer v*; drawn on the CPU from
    `generator` (so a seed gives the same networks on every device), then moved."""
    for name, value in (("n", n), ("init_std", init_std)):
        require_positive(name, value)
    if m < 1 or any(k < 1 for k in ks):
        raise ValueError(f"M and every K must be >= 1, got M={m}, K={ks}")
    kmax, r = max(ks), len(ks)
    w = torch.randn(r, kmax, n, generator=generator, dtype=torch.float64) * init_std
    ws = teacher_weights(r, m, n, teacher=teacher, generator=generator)
    v = v0 + v_init_std * torch.randn(r, kmax, generator=generator, dtype=torch.float64)
    active = torch.arange(kmax)[None, :] < torch.tensor(ks)[:, None]
    nets = Networks(
        w.to(dtype),
        ws.to(dtype),
        (v * active).to(dtype),
        torch.full((r, m), float(vs), dtype=dtype),
        active,
    )
    return nets.to(device)
