"""Plain gradient descent with autograd on the module itself, the reference that K = 1 must
reproduce (Goldwaser & Ge, Alg. 1 with K = 1 is gradient descent), and the agreement check."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from sgdclaims.data.dataset import Dataset
from sgdclaims.linearise.family import Family
from sgdclaims.linearise.maps import Params, model_params
from sgdclaims.linearise.run import Member, train_group


def train_plain_gd(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float
) -> Params:
    """Plain full-batch gradient descent with autograd on the module; the final parameters."""
    net = copy.deepcopy(model)
    for _ in range(steps):
        loss = F.cross_entropy(net(x), y)
        grads = torch.autograd.grad(loss, list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p.sub_(lr * g)
    return model_params(net)


def rel_err(params: Mapping[str, torch.Tensor], ref: Mapping[str, torch.Tensor]) -> float:
    """||params - ref|| / ||ref|| over all parameters together (NaN if either is)."""
    num = math.sqrt(sum(float((params[k] - ref[k]).double().pow(2).sum()) for k in ref))
    return num / math.sqrt(sum(float(ref[k].double().pow(2).sum()) for k in ref))


def gd_agreement(
    family: Family,
    model: nn.Module,
    data: Dataset,
    *,
    lr: float,
    steps: int,
    periods: Sequence[float] = (1, 2),
) -> dict[float, float]:
    """{K: ||theta_K - theta_GD|| / ||theta_GD||} after `steps` full-batch steps of the
    linearised runs with periods K (one group, from the model's parameters) and of plain
    autograd gradient descent on the model, in the model's dtype (K = 1 must agree to
    rounding; K = 2 must not)."""
    ref = train_plain_gd(model, data.x_train, data.y_train, steps=steps, lr=lr)
    init = model_params(model)
    members = [Member(init, k, lr, checkpoints=(0,)) for k in periods]
    runs = train_group(family, members, data, steps=steps)
    return {float(k): rel_err(run.params, ref) for k, run in zip(periods, runs)}
