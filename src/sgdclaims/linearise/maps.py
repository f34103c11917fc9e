"""The linear maps of a network around a point theta_s, never materialising the Jacobian:
delta -> J(theta_s) delta (forward mode, torch.func.jvp traced once with make_fx and split
into its primal and tangent parts, as torch.func.linearize does, without re-tracing at each
refresh), u -> J(theta_s)^T u (reverse mode, torch.func.vjp), the cross-entropy gradient
outside the linearisation (their App. A) and the sharpness of the linearised loss.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, jvp, vjp
from torch.fx import Graph, GraphModule, Node
from torch.fx.experimental.proxy_tensor import make_fx
from torch.fx.node import map_arg
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


def sub(a: Params, b: Params) -> Params:
    """a - b, parameter by parameter."""
    return {k: a[k] - b[k] for k in a}


def model_fn(model: nn.Module, x: torch.Tensor) -> Callable[[Params], torch.Tensor]:
    """theta -> the model's logits on x at parameters theta."""
    return lambda p: functional_call(model, p, (x,))


class TangentProgram:
    """torch.func.jvp of `model` traced once (make_fx) for one input shape, with the input as
    an argument, and split into a primal part (depends on theta_s and x only; it also gives
    the logits f(x; theta_s)) and a tangent part (linear in delta): a refresh re-runs only the
    primal part, a step between refreshes only the tangent part. One program serves every
    input batch of the traced shape. This is torch.func.linearize without re-tracing."""

    def __init__(self, model: nn.Module, example: Params, x: torch.Tensor):
        self.names, self.shape = list(example), tuple(x.shape)
        n = len(self.names)

        def flat_jvp(*flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            point = dict(zip(self.names, flat[:n]))
            delta = dict(zip(self.names, flat[n : 2 * n]))
            return jvp(model_fn(model, flat[2 * n]), (point,), (delta,))

        zeros = [torch.zeros_like(v) for v in example.values()]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated")
            self.graph = make_fx(flat_jvp)(*example.values(), *zeros, x)
        nodes = list(self.graph.graph.nodes)
        holders = [nd for nd in nodes if nd.op == "placeholder"]
        tangent = set(holders[n : 2 * n])
        for nd in nodes:
            if any(a in tangent for a in nd.all_input_nodes):
                tangent.add(nd)
        body = [nd for nd in nodes if nd.op not in ("placeholder", "output")]
        out_node, tangent_out = next(nd for nd in nodes if nd.op == "output").args[0]
        needed = {a for nd in tangent for a in nd.all_input_nodes if a not in tangent}
        self._needed = [nd for nd in nodes if nd in needed or nd is out_node]
        self._out_index = self._needed.index(out_node)
        primal_in = [*holders[:n], holders[2 * n]]
        body_primal = [nd for nd in body if nd not in tangent]
        self._primal = _subgraph(self.graph, primal_in, body_primal, self._needed)
        tangent_nodes = [nd for nd in body if nd in tangent]
        tangent_in = [*self._needed, *holders[n : 2 * n]]
        self._tangent = _subgraph(self.graph, tangent_in, tangent_nodes, tangent_out)

    @torch.no_grad()
    def primal(self, point: Params, x: torch.Tensor) -> list[torch.Tensor]:
        """The primal values the tangent part needs (and the logits), at theta_s = point."""
        if tuple(x.shape) != self.shape:
            raise ValueError(f"the program was traced for inputs {self.shape}, got {x.shape}")
        return list(self._primal(*(point[k] for k in self.names), x))

    def output(self, saved: list[torch.Tensor]) -> torch.Tensor:
        """f(x; theta_s) from the saved primal values."""
        return saved[self._out_index]

    def tangent(self, saved: list[torch.Tensor], delta: Params) -> torch.Tensor:
        """J(theta_s) delta from the saved primal values."""
        return self._tangent(*saved, *(delta[k] for k in self.names))


def _subgraph(root: GraphModule, inputs: list[Node], nodes: list[Node], output) -> GraphModule:
    """A GraphModule computing `output` from `inputs` with `nodes` of root's graph (Python
    code generated once: no per-node interpretation at each call)."""
    graph, env = Graph(), {}
    for i, node in enumerate(inputs):
        env[node] = graph.placeholder(f"in_{i}")
    for node in nodes:
        env[node] = graph.node_copy(node, env.__getitem__)
    graph.output(map_arg(output, env.__getitem__))
    return GraphModule(root, graph)


class Linearisation:
    """The network around theta_s on one input batch x: f(x; theta_s), and the linear maps
    delta -> J(theta_s) delta (jvp; primal part evaluated on first use) and
    u -> J(theta_s)^T u (vjp)."""

    def __init__(
        self, model: nn.Module, point: Params, x: torch.Tensor, program: TangentProgram | None
    ):
        self._model, self._point, self._x, self._program = model, point, x, program
        self.output, self._vjp = vjp(model_fn(model, x), point)
        self.output = self.output.detach()
        self._saved: list[torch.Tensor] | None = None

    def tangent_bytes(self) -> int:
        """Bytes of the primal values kept for the tangent part (held on top of the vjp's saved
        activations, which are those of a plain autograd step)."""
        tensors = [t for t in (self._saved or []) if isinstance(t, torch.Tensor)]
        return sum(t.numel() * t.element_size() for t in tensors)

    def tangent(self, delta: Params) -> torch.Tensor:
        """J(theta_s) delta, without materialising J (forward mode, primal reused)."""
        if self._program is None:
            self._program = TangentProgram(self._model, self._point, self._x)
        if self._saved is None:
            self._saved = self._program.primal(self._point, self._x)
        return self._program.tangent(self._saved, delta)

    def pullback(self, u: torch.Tensor) -> Params:
        """J(theta_s)^T u: the reverse-mode derivative of <u, f_lin> with respect to theta."""
        return self._vjp(u)[0]

    @property
    def program(self) -> TangentProgram | None:
        """The traced jvp, to be reused by the next refresh on inputs of the same shape."""
        return self._program


def linearised_logits(
    fn: Callable[[Params], torch.Tensor], point: Params, params: Params
) -> torch.Tensor:
    """f(x; point) + J(point)(params - point) in one jvp; differentiable in reverse mode."""
    out, tangent = jvp(fn, (point,), (sub(params, point),))
    return out + tangent


def cross_entropy_and_grad(
    logits: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy (a 0-d tensor: no host sync) and its gradient with respect to the
    logits, (softmax - onehot)/n."""
    logits = logits.detach()
    loss = F.cross_entropy(logits, y)
    grad = torch.softmax(logits, dim=1)
    grad[torch.arange(len(y), device=y.device), y] -= 1.0
    return loss, grad / len(y)


def _dot(a: Params, b: Params) -> torch.Tensor:
    return sum((a[k] * b[k]).sum() for k in a)  # type: ignore[return-value]


def ggn_sharpness(
    lin: Linearisation, delta: Params, iters: int, start: Params | None = None
) -> tuple[torch.Tensor, Params]:
    """The largest eigenvalue of the Hessian of the mean cross-entropy of the linearised
    model at theta_s + delta, J^T H(z) J / n (exact for a model linear in theta: its
    Gauss-Newton matrix), by `iters` power iterations from `start` (warm start) or a seeded
    direction; returns it (a 0-d tensor) and the last direction. Gradient descent on the
    linearised loss is stable there for lr < 2 / sharpness."""
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    logits = (lin.output + lin.tangent(delta)).detach()
    p = torch.softmax(logits, dim=1)
    if start is None:
        gen = torch.Generator().manual_seed(0)
        start = {
            k: torch.randn(v.shape, generator=gen, dtype=v.dtype).to(v.device)
            for k, v in delta.items()
        }
    v, value = start, torch.zeros(())
    for _ in range(iters):
        norm = torch.sqrt(_dot(v, v))
        v = {k: t / norm for k, t in v.items()}
        jv = lin.tangent(v)
        hjv = (p * jv - p * (p * jv).sum(1, keepdim=True)) / len(p)
        w = lin.pullback(hjv)
        value, v = _dot(v, w), w
    return value.detach(), v
