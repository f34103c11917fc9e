"""Fixed-period iterative linearisation (Goldwaser & Ge, Alg. 1 and App. A), a group of runs
in one computation.

Gradient descent on the linearised logits
    f_lin(x; theta) = f(x; theta_s) + J(theta_s) (theta - theta_s),
with theta_s refreshed to the current theta every K steps (K = inf: never, the fixed
NTK-feature model; K = 1: plain gradient descent). Softmax and cross-entropy stay outside
the linearisation; the whole training set is one batch (the paper's setting).

A `Family` is R networks of one architecture with their parameters stacked along a leading
member dimension and the maps around a point: the logits, J delta, J^T u and optionally the
tangent kernel J J^T, never materialising J (`family`: the protocol and `ModuleFamily`, any
nn.Module through torch.func; sgdclaims.models.lenet.LeNetGroup writes LeNet-5's out).
`train_group` trains a group of members (own initial parameters, K, lr, checkpoints) in one
computation, in parameter or function space (`spaces`), every step through the one divergence
rule of sgdclaims.training; `reference` holds plain autograd GD, which K = 1 reproduces;
`cost` times the steps.

The control ("random" features) takes the Jacobian at a freshly drawn random network at
every refresh after the first instead of at theta_s, keeping the function learned so far as
a fixed offset: features that change every K steps but are not the trained network's.
"""

from sgdclaims.linearise.cost import step_costs
from sgdclaims.linearise.family import Family, ModuleFamily, Point, has_kernel
from sgdclaims.linearise.maps import (
    REFUSED,
    Params,
    check_linearisable,
    check_period,
    check_periods,
    cross_entropy_and_grad,
    ggn_sharpness,
    is_refresh,
    k_label,
    member,
    model_fn,
    model_params,
    stack,
    sub,
)
from sgdclaims.linearise.reference import gd_agreement, rel_err, train_plain_gd
from sgdclaims.linearise.run import Member, MemberRun, train_group

__all__ = [
    "REFUSED",
    "Family",
    "Member",
    "MemberRun",
    "ModuleFamily",
    "Params",
    "Point",
    "check_linearisable",
    "check_period",
    "check_periods",
    "cross_entropy_and_grad",
    "gd_agreement",
    "ggn_sharpness",
    "has_kernel",
    "is_refresh",
    "k_label",
    "member",
    "model_fn",
    "model_params",
    "rel_err",
    "stack",
    "step_costs",
    "sub",
    "train_group",
    "train_plain_gd",
]
