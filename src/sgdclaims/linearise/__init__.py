"""Fixed-period iterative linearisation (Goldwaser & Ge, Alg. 1 and App. A).

Gradient descent on the linearised logits
    f_lin(x; theta) = f(x; theta_s) + J(theta_s) (theta - theta_s),
with theta_s refreshed to the current theta every K steps (K = inf: never, the fixed
NTK-feature model; K = 1: plain gradient descent). Softmax and cross-entropy stay outside
the linearisation. J is never materialised: `maps` holds the forward-mode product J v and
the reverse-mode product J^T u (built once per refresh and reused for the K steps of the
window, so a step between refreshes costs a tangent and a reverse pass), `run` the
training loop and its check against plain gradient descent, `cost` the step costs.

Full batch (the paper's setting) reuses the linearisation on the training set; mini-batches
(optional) re-evaluate the jvp on every batch and differentiate through it in reverse mode.
The control ("random" features) takes the Jacobian at a freshly drawn random network at
every refresh after the first instead of at theta_s, keeping the function learned so far as
a fixed offset: features that change every K steps but are not the trained network's.
"""

from sgdclaims.linearise.cost import step_costs
from sgdclaims.linearise.maps import (
    REFUSED,
    Linearisation,
    Params,
    TangentProgram,
    check_linearisable,
    check_period,
    check_periods,
    cross_entropy_and_grad,
    ggn_sharpness,
    is_refresh,
    k_label,
    linearised_logits,
    model_fn,
    model_params,
    sub,
)
from sgdclaims.linearise.run import (
    LinearisedRun,
    TangentPrograms,
    gd_agreement,
    rel_err,
    train_linearised,
    train_plain_gd,
)

__all__ = [
    "REFUSED",
    "Linearisation",
    "LinearisedRun",
    "Params",
    "TangentProgram",
    "TangentPrograms",
    "check_linearisable",
    "check_period",
    "check_periods",
    "cross_entropy_and_grad",
    "gd_agreement",
    "ggn_sharpness",
    "is_refresh",
    "k_label",
    "linearised_logits",
    "model_fn",
    "model_params",
    "rel_err",
    "step_costs",
    "sub",
    "train_linearised",
    "train_plain_gd",
]
