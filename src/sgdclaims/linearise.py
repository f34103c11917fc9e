"""Fixed-period iterative linearisation (Goldwaser & Ge, Alg. 1 and App. A).

Gradient descent on the linearised logits
    f_lin(x; theta) = f(x; theta_s) + J(theta_s) (theta - theta_s),
with theta_s refreshed to the current theta every K steps (K = inf: never, the fixed
NTK-feature model; K = 1: plain gradient descent). Softmax and cross-entropy stay outside
the linearisation. J is never materialised: J v is a forward-mode product (torch.func.jvp
over torch.func.functional_call, traced once with make_fx and split into its primal and
tangent parts, as torch.func.linearize does, without re-tracing at each refresh) and the
gradient J^T u is the reverse-mode product (torch.func.vjp at theta_s), i.e. the reverse
derivative of the linearised logits. Both maps are built once per refresh and reused for
the K steps of the window, so a step between refreshes costs a tangent and a reverse pass.

Full batch (the paper's setting) reuses the linearisation on the training set; mini-batches
(optional) re-evaluate the jvp on every batch and differentiate through it in reverse mode.
The control ("random" features) takes the Jacobian at a freshly drawn random network at
every refresh after the first instead of at theta_s, keeping the function learned so far as
a fixed offset: features that change every K steps but are not the trained network's.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jvp, vjp
from torch.fx import Node
from torch.fx.experimental.proxy_tensor import make_fx
from torch.fx.node import map_arg
from torch.nn import functional as F

from sgdclaims.data.registry import Dataset
from sgdclaims.training import batch_order

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


def is_refresh(step: int, period: float) -> bool:
    """True when step (0-based) starts a new K-window: steps 0, K, 2K, ..."""
    return step == 0 if math.isinf(period) else step % int(period) == 0


def model_params(model: nn.Module) -> Params:
    """A detached copy of the model's parameters (the optimisation variable theta)."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _sub(a: Params, b: Params) -> Params:
    return {k: a[k] - b[k] for k in a}


class TangentProgram:
    """torch.func.jvp over functional_call, traced once (make_fx) for one input batch and
    split into a primal part (depends on theta_s only) and a tangent part (linear in delta):
    a refresh re-runs only the primal part, a step between refreshes only the tangent part.
    This is torch.func.linearize without re-tracing at every refresh."""

    def __init__(self, fn: Callable[[Params], torch.Tensor], example: Params):
        self.names = list(example)
        n = len(self.names)

        def flat_jvp(*flat: torch.Tensor) -> torch.Tensor:
            point = dict(zip(self.names, flat[:n]))
            delta = dict(zip(self.names, flat[n:]))
            return jvp(fn, (point,), (delta,))[1]

        zeros = [torch.zeros_like(v) for v in example.values()]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated")
            self.graph = make_fx(flat_jvp)(*example.values(), *zeros)
        nodes = list(self.graph.graph.nodes)
        holders = [nd for nd in nodes if nd.op == "placeholder"]
        self.point_holders, self.delta_holders = holders[:n], holders[n:]
        tangent = set(self.delta_holders)
        for nd in nodes:
            if any(a in tangent for a in nd.all_input_nodes):
                tangent.add(nd)
        body = [nd for nd in nodes if nd.op not in ("placeholder", "output")]
        self.primal_nodes = [nd for nd in body if nd not in tangent]
        self.tangent_nodes = [nd for nd in body if nd in tangent]
        self.needed = {a for nd in tangent for a in nd.all_input_nodes if a not in tangent}
        self.output = next(nd for nd in nodes if nd.op == "output")

    def _eval(self, node: Node, env: dict) -> torch.Tensor:
        if node.op == "get_attr":
            return getattr(self.graph, node.target)
        args = map_arg(node.args, env.__getitem__)
        kwargs = map_arg(node.kwargs, env.__getitem__)
        if node.op == "call_method":
            return getattr(args[0], node.target)(*args[1:], **kwargs)
        return node.target(*args, **kwargs)

    @torch.no_grad()
    def primal(self, point: Params) -> dict:
        """The primal values the tangent part needs, at theta_s = point."""
        env = {nd: point[k] for nd, k in zip(self.point_holders, self.names)}
        for nd in self.primal_nodes:
            env[nd] = self._eval(nd, env)
        return {nd: env[nd] for nd in self.needed}

    def tangent(self, saved: dict, delta: Params) -> torch.Tensor:
        """J(theta_s) delta from the saved primal values."""
        env = dict(saved)
        env.update({nd: delta[k] for nd, k in zip(self.delta_holders, self.names)})
        for nd in self.tangent_nodes:
            env[nd] = self._eval(nd, env)
        return map_arg(self.output.args[0], env.__getitem__)


class Linearisation:
    """The network around theta_s on one input batch: f(x; theta_s), and the linear maps
    delta -> J(theta_s) delta (jvp; primal part evaluated on first use) and
    u -> J(theta_s)^T u (vjp)."""

    def __init__(
        self,
        fn: Callable[[Params], torch.Tensor],
        point: Params,
        program: TangentProgram | None = None,
    ):
        self._fn, self._point, self._program = fn, point, program
        self.output, self._vjp = vjp(fn, point)
        self.output = self.output.detach()
        self._saved: dict | None = None

    def tangent_bytes(self) -> int:
        """Bytes of the primal values kept for the tangent part (held on top of the vjp's saved
        activations, which are those of a plain autograd step)."""
        saved = self._saved or {}
        tensors = [t for t in saved.values() if isinstance(t, torch.Tensor)]
        return sum(t.numel() * t.element_size() for t in tensors)

    def tangent(self, delta: Params) -> torch.Tensor:
        """J(theta_s) delta, without materialising J (forward mode, primal reused)."""
        if self._program is None:
            self._program = TangentProgram(self._fn, self._point)
        if self._saved is None:
            self._saved = self._program.primal(self._point)
        return self._program.tangent(self._saved, delta)

    def pullback(self, u: torch.Tensor) -> Params:
        """J(theta_s)^T u: the reverse-mode derivative of <u, f_lin> with respect to theta."""
        return self._vjp(u)[0]

    @property
    def program(self) -> TangentProgram | None:
        """The traced jvp, to be reused by the next refresh on the same inputs."""
        return self._program


def linearised_logits(
    fn: Callable[[Params], torch.Tensor], point: Params, params: Params
) -> torch.Tensor:
    """f(x; point) + J(point)(params - point) in one jvp; differentiable in reverse mode."""
    out, tangent = jvp(fn, (point,), (_sub(params, point),))
    return out + tangent


def cross_entropy_and_grad(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Mean cross-entropy and its gradient with respect to the logits, (softmax - onehot)/n."""
    logits = logits.detach()
    loss = F.cross_entropy(logits, y)
    grad = torch.softmax(logits, dim=1)
    grad[torch.arange(len(y), device=y.device), y] -= 1.0
    return float(loss), grad / len(y)


def _model_fn(model: nn.Module, x: torch.Tensor) -> Callable[[Params], torch.Tensor]:
    return lambda p: functional_call(model, p, (x,))


@dataclasses.dataclass
class LinearisedRun:
    """What one run recorded: train loss before every step (NaN after a divergence), test
    accuracy at the checkpoints, the final parameters and the step it diverged at (or -1)."""

    train_loss: np.ndarray
    steps: np.ndarray
    test_acc: np.ndarray
    params: Params
    diverged_at: int


def _chunks(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    return [x[i : i + size] for i in range(0, len(x), size)]


class _Window:
    """One K-window: the anchor theta_s, the Jacobian's point, the offsets and the
    linearisation on the training set (full batch)."""

    def __init__(self, base: nn.Module, x_train, x_test, anchor, point, offsets, chunk, program):
        self.anchor, self.point, self.chunk = anchor, point, chunk
        self.base, self.x_test = base, x_test
        self.train = None
        if x_train is not None:
            self.train = Linearisation(_model_fn(base, x_train), point, program)
        if offsets is None:
            train_off = self.train.output if self.train is not None else None
            offsets = (train_off, None)
        self.train_offset, self.test_offset = offsets

    def train_logits(self, params: Params) -> torch.Tensor:
        """Linearised logits on the whole training set (the window's linearisation)."""
        if all(params[k] is self.anchor[k] for k in params):
            return self.train_offset
        return self.train_offset + self.train.tangent(_sub(params, self.anchor))

    @torch.no_grad()
    def test_logits(self, params: Params) -> torch.Tensor:
        """Linearised logits on the test set, in chunks (jvp; offset f(x; point) if none)."""
        delta = _sub(params, self.anchor)
        parts = []
        for i, xs in enumerate(_chunks(self.x_test, self.chunk)):
            out, tangent = jvp(_model_fn(self.base, xs), (self.point,), (delta,))
            offset = out if self.test_offset is None else self.test_offset[i]
            parts.append(offset + tangent)
        return torch.cat(parts)

    @torch.no_grad()
    def test_offsets_at(self, params: Params) -> list[torch.Tensor]:
        """The window's test logits at params, kept per chunk (the control's next offset)."""
        return _chunks(self.test_logits(params), self.chunk)


def train_linearised(
    model: nn.Module,
    data: Dataset,
    *,
    period: float,
    steps: int,
    lr: float,
    checkpoints: Sequence[int] | np.ndarray,
    batch_size: int | None = None,
    data_seed: int = 0,
    features: str = "own",
    control_factory: Callable[[int], nn.Module] | None = None,
    device: torch.device | str = "cpu",
    eval_chunk: int = 2000,
    blowup: float = 100.0,
) -> LinearisedRun:
    """Gradient descent on the iteratively linearised network (Alg. 1, fixed period K).

    period: K (int >= 1, or math.inf for fixed features); batch_size None = full batch.
    features: "own" (Jacobian at theta_s, the algorithm) or "random" (the control: every
    refresh after the first takes the Jacobian of control_factory(window index), a different
    random network, and keeps the function learned so far as the offset).
    Test accuracy at step t is that of the model the t-th update produced, f_lin(.; theta_t)
    around the linearisation used for that update. The run stops (diverged) when the
    training loss is non-finite or exceeds `blowup` times its initial value.
    """
    check_period(period)
    check_linearisable(model)
    if steps < 1 or not lr > 0:
        raise ValueError(f"steps must be >= 1 and lr > 0, got steps={steps}, lr={lr}")
    if features not in ("own", "random"):
        raise ValueError(f"features must be 'own' or 'random', got {features!r}")
    if features == "random" and control_factory is None:
        raise ValueError("features='random' needs control_factory(window) -> a random network")
    marks = np.unique(np.asarray(checkpoints, dtype=np.int64))
    if len(marks) == 0 or marks[0] < 0 or marks[-1] > steps:
        raise ValueError(f"checkpoints must lie in [0, {steps}]")
    data = data.to(device)
    base = copy.deepcopy(model).to(device)
    theta = model_params(base)
    n = len(data.x_train)
    full = batch_size is None or batch_size >= n
    if features == "random" and not full:
        raise ValueError("the random-feature control is full-batch only")
    order = None if full else batch_order(n, batch_size, steps, data_seed).to(device)

    def point_for(window: int, anchor: Params) -> Params:
        if features == "own" or window == 0:
            return anchor
        return {k: v.to(device) for k, v in model_params(control_factory(window)).items()}

    losses = np.full(steps, np.nan)
    accs: dict[int, float] = {}
    win: _Window | None = None
    window_index = -1
    diverged = -1

    def accuracy(w: _Window, params: Params) -> float:
        return (w.test_logits(params).argmax(1) == data.y_test).float().mean().item()

    mark_set = set(marks.tolist())
    for step in range(steps):
        if is_refresh(step, period) or win is None:
            window_index += 1
            offsets = None
            if features == "random" and win is not None:
                offsets = (win.train_logits(theta).detach(), win.test_offsets_at(theta))
            anchor = dict(theta)
            program = win.train.program if win is not None and win.train is not None else None
            win = _Window(
                base,
                data.x_train if full else None,
                data.x_test,
                anchor,
                point_for(window_index, anchor),
                offsets,
                eval_chunk,
                program,
            )
            theta = anchor
            if step == 0 and 0 in mark_set:
                accs[0] = accuracy(win, theta)
        if full:
            logits = win.train_logits(theta)
            loss, u = cross_entropy_and_grad(logits, data.y_train)
            grad = win.train.pullback(u)
        else:
            idx = order[step]
            xb, yb = data.x_train[idx], data.y_train[idx]
            fn = _model_fn(base, xb)
            params = {k: v.detach().requires_grad_(True) for k, v in theta.items()}
            logits = linearised_logits(fn, win.point, params)
            loss_t = F.cross_entropy(logits, yb)
            grad = dict(zip(params, torch.autograd.grad(loss_t, list(params.values()))))
            loss = float(loss_t.detach())
        losses[step] = loss
        if not math.isfinite(loss) or loss > blowup * losses[0]:
            diverged = step
            break
        with torch.no_grad():
            theta = {k: theta[k] - lr * grad[k] for k in theta}
        if step + 1 in mark_set:
            accs[step + 1] = accuracy(win, theta)
    acc = np.array([accs.get(int(s), np.nan) for s in marks])
    return LinearisedRun(losses, marks, acc, theta, diverged)


def train_plain_gd(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float
) -> Params:
    """Reference: plain full-batch gradient descent with autograd on the module itself."""
    net = copy.deepcopy(model)
    for _ in range(steps):
        loss = F.cross_entropy(net(x), y)
        grads = torch.autograd.grad(loss, list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p.sub_(lr * g)
    return model_params(net)


def step_costs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, reps: int = 3) -> dict:
    """CPU seconds (process time) per step, median of reps: a plain autograd GD step, a
    linearised step between refreshes, and a refresh step (re-linearising: vjp and jvp maps
    rebuilt), all on the same full batch; the report's step-cost ratios."""
    import time

    fn = _model_fn(model, x)
    theta = model_params(model)
    moved = {k: v + 1e-3 for k, v in theta.items()}
    params = list(model.parameters())

    def plain() -> None:
        loss = F.cross_entropy(model(x), y)
        torch.autograd.grad(loss, params)

    program = TangentProgram(fn, theta)

    def refresh() -> Linearisation:
        lin = Linearisation(fn, theta, program)
        lin.pullback(cross_entropy_and_grad(lin.output, y)[1])
        lin.tangent(_sub(moved, theta))
        return lin

    held = refresh()

    def between() -> None:
        logits = held.output + held.tangent(_sub(moved, theta))
        held.pullback(cross_entropy_and_grad(logits, y)[1])

    out = {}
    for name, f in (("plain", plain), ("between", between), ("refresh", refresh)):
        f()
        times = []
        for _ in range(reps):
            t0 = time.process_time()
            f()
            times.append(time.process_time() - t0)
        out[name] = float(np.median(times))
    return out
