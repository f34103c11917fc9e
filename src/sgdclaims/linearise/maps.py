"""Helpers of the linearised training loop: parameter sets (named tensors, stacked along a
leading member dimension for a group of runs), the refresh schedule of period K, the
cross-entropy outside the linearisation (Goldwaser & Ge, App. A) and the sharpness of the
linearised loss."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

Params = dict[str, torch.Tensor]

#: modules whose behaviour changes between calls (running statistics, random masks)
REFUSED = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.modules.dropout._DropoutNd,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
)


def check_linearisable(model: nn.Module) -> None:
    """Refuse models whose function is not fixed by their parameters (BatchNorm, dropout):
    their batch statistics or masks would change inside the linearisation."""
    for name, module in model.named_modules():
        if isinstance(module, REFUSED):
            raise ValueError(
                f"cannot linearise a model with {type(module).__name__} (module "
                f"{name or '<root>'!r}): its statistics or random masks would change inside "
                "the linearisation; use a model without BatchNorm/dropout"
            )
    buffers = [name for name, _ in model.named_buffers()]
    if buffers:
        raise ValueError(f"cannot linearise a model with buffers {buffers}: they are state")


def check_period(period: float) -> None:
    """K must be an integer >= 1 or math.inf (never refresh)."""
    if isinstance(period, bool) or not isinstance(period, (int, float)) or math.isnan(period):
        raise ValueError(f"period K must be an integer >= 1 or inf, got {period!r}")
    if period < 1:
        raise ValueError(f"period K must be >= 1 (K = 1 is plain gradient descent), got {period}")
    if not math.isinf(period) and period != int(period):
        raise ValueError(f"period K must be an integer or inf, got {period}")


def check_periods(name: str, values: tuple, must_contain: tuple = ()) -> None:
    """Raise ValueError naming `name` unless `values` is a non-empty tuple of valid K that
    holds every K of `must_contain`."""
    if not isinstance(values, tuple) or not values:
        raise ValueError(f"{name} must be a non-empty tuple of K values, got {values!r}")
    for k in values:
        try:
            check_period(k)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    if not set(must_contain) <= set(values):
        raise ValueError(f"{name} must contain {must_contain}, got {values}")


def k_label(period: float) -> str:
    """'inf' or the integer K as text (unit names, legends)."""
    return "inf" if math.isinf(period) else str(int(period))


def is_refresh(step: int, period: float) -> bool:
    """True when step (0-based) starts a new K-window: steps 0, K, 2K, ..."""
    return step == 0 if math.isinf(period) else step % int(period) == 0


def model_params(model: nn.Module) -> Params:
    """A detached copy of the model's parameters (the optimisation variable theta)."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def model_fn(model: nn.Module, x: torch.Tensor) -> Callable[[Params], torch.Tensor]:
    """theta -> the model's logits on x at parameters theta."""
    return lambda p: functional_call(model, p, (x,))


def sub(a: Params, b: Params) -> Params:
    """a - b, parameter by parameter."""
    return {k: a[k] - b[k] for k in a}


def stack(members: Sequence[Params]) -> Params:
    """Parameter sets stacked along a new leading member dimension."""
    return {k: torch.stack([m[k] for m in members]) for k in members[0]}


def member(params: Params, index: int) -> Params:
    """One member's parameters out of a stack."""
    return {k: v[index] for k, v in params.items()}


def take(params: Params, index: torch.Tensor | Sequence[int]) -> Params:
    """The members `index` of a stack (a new stack)."""
    return {k: v[index] for k, v in params.items()}


def put(params: Params, index: Sequence[int], values: Params) -> Params:
    """A copy of the stack with members `index` replaced by the stack `values`."""
    out = {k: v.clone() for k, v in params.items()}
    for k in out:
        out[k][list(index)] = values[k]
    return out


def scaled_step(theta: Params, lr: torch.Tensor, grad: Params) -> Params:
    """theta - lr grad with one learning rate per member (lr: (R,))."""
    return {k: v - lr.view(-1, *[1] * (v.dim() - 1)) * grad[k] for k, v in theta.items()}


def cross_entropy_and_grad(
    logits: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy of each member's logits (R, N, classes) against y (N,), and its
    gradient with respect to the logits, (softmax - onehot) / N (no host sync)."""
    logits = logits.detach()
    logp = F.log_softmax(logits, dim=-1)
    index = y.view(1, -1, 1).expand(len(logits), -1, 1)
    loss = -logp.gather(2, index)[..., 0].mean(1)
    grad = logp.exp().scatter_add_(2, index, torch.full_like(logp[..., :1], -1.0))
    return loss, grad / logits.shape[1]


def dot(a: Params, b: Params) -> torch.Tensor:
    """Per-member inner products of two stacks (R,)."""
    return sum((a[k] * b[k]).flatten(1).sum(1) for k in a)  # type: ignore[return-value]


def ggn_sharpness(family: Any, point: Any, logits: torch.Tensor, iters: int) -> torch.Tensor:
    """The largest eigenvalue of each member's Hessian of the mean cross-entropy of the
    linearised model with these logits, J^T H(z) J / N (exact for a model linear in theta:
    its Gauss-Newton matrix), by `iters` power iterations from a seeded direction (a lower
    bound that converges from below). GD on the linearised loss is stable for lr < 2 / it."""
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    p = torch.softmax(logits.detach(), dim=-1)
    gen = torch.Generator().manual_seed(0)
    shapes = {k: v.shape for k, v in family.pullback(point, torch.zeros_like(p)).items()}
    v = {  # one seeded direction for every member, so a member's value does not depend on R
        k: torch.randn(s[1:], generator=gen, dtype=p.dtype).to(p.device).expand(s)
        for k, s in sorted(shapes.items())
    }
    value = torch.zeros(len(p), dtype=p.dtype, device=p.device)
    for _ in range(iters):
        norm = dot(v, v).sqrt()
        v = {k: t / norm.view(-1, *[1] * (t.dim() - 1)) for k, t in v.items()}
        jv = family.tangent(point, v)
        hjv = (p * jv - p * (p * jv).sum(-1, keepdim=True)) / p.shape[1]
        w = family.pullback(point, hjv)
        value, v = dot(v, w), w
    return value
