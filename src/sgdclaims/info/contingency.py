"""`Contingency`: the joint counts of (F, Y, L) and every plug-in quantity read from
them (entropies, I(F;Y), I(F;Y|L), mu_Y(F;L), per-class terms, Miller-Madow)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from sgdclaims.info.counting import _cells, _check_cells, _count, _count_blocked
from sgdclaims.info.encoding import LabelArray, _encode_all, _is_torch, _to_float, _xp

Values = np.ndarray | np.float64 | torch.Tensor


def _check_base(base: float) -> float:
    """log(base), after checking that base is a usable logarithm base."""
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        raise ValueError(f"base must be a number > 0 and != 1, got {base!r}")
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be finite, > 0 and != 1, got {base!r}")
    return math.log(base)


def _entropy_nats(marginal, n):
    """Plug-in entropy (nats) per table of counts (T, ...): sum (c/n) log(n/c), 0 log 0 = 0."""
    xp = _xp(marginal)
    c = marginal.reshape(marginal.shape[0], -1)
    ratio = xp.where(c > 0, n.reshape(-1, 1) / xp.where(c > 0, c, 1.0), 1.0)
    return (c * xp.log(ratio)).sum(axis=1) / n


def _sum_to(table, key: str):
    """The table (T, kF, kY, kL) summed over the variables not in `key` (letters of 'fyl',
    in that order), axes kept. Counts are integers, so any summation order is exact;
    numpy's einsum is several times faster than sum over the short middle axes."""
    drop = tuple(1 + i for i, v in enumerate("fyl") if v not in key)
    if not drop:
        return table
    if _is_torch(table):
        return table.sum(axis=drop, keepdims=True)
    summed = np.einsum(f"tfyl->t{key}", table)
    return summed.reshape([size if i not in drop else 1 for i, size in enumerate(table.shape)])


def _mi_terms(joint, a, b, given):
    """Cell terms c_abg log(c_abg c_g / (c_ag c_bg)) in count units, 0 log 0 = 0 exactly:
    empty cells get ratio 1, and their marginals are never divided by."""
    xp = _xp(joint)
    occupied = joint > 0
    if xp is np:
        # the same operations on occupied cells as below (adding 0.0 changes nothing
        # there), in place and unmasked; empty cells get denominator a*b + 1 >= 1 and
        # ratio 0 + 1 = 1, so their term is 0 * log(1) = +0.0 as below
        empty = (~occupied).astype(np.float64)
        denominator = a * b
        denominator += empty
        ratio = joint * given
        ratio /= denominator
        ratio += empty
        np.log(ratio, out=ratio)
        ratio *= joint
        return ratio
    ratio = xp.where(occupied, joint * given / xp.where(occupied, a * b, 1.0), 1.0)
    return joint * xp.log(ratio)


def _occupied(marginal):
    """Number of non-empty cells per table (Miller-Madow's m), float64."""
    return _to_float((marginal > 0).reshape(marginal.shape[0], -1).sum(axis=1))


@dataclass(frozen=True, eq=False)
class Contingency:
    """The joint counts of (F, Y, L) at T checkpoints; every MI quantity is read from it.

    Build it with `Contingency.from_labels(F, Y, L)`. Without L, L is a constant and the
    conditional quantities equal the unconditional ones. `f_values`, `y_values`,
    `l_values` give the label of each table index (0..num_classes-1 when num_classes is
    given, else the sorted labels present); per-class results follow `y_values`.
    `table` is (T, kF, kY, kL) float64, numpy or a tensor like the input.
    """

    table: np.ndarray | torch.Tensor
    f_values: np.ndarray | torch.Tensor | None = None
    y_values: np.ndarray | torch.Tensor | None = None
    l_values: np.ndarray | torch.Tensor | None = None
    batched: bool = True

    @classmethod
    def from_labels(
        cls,
        F: LabelArray,
        Y: LabelArray,
        L: LabelArray | None = None,
        *,
        num_classes: int | None = None,
    ) -> Contingency:
        """Count (F, Y, L) jointly in one pass; any of them may be (T, n) for T checkpoints."""
        return cls._build({"F": F, "Y": Y, "L": L}, num_classes)

    @classmethod
    def _build(
        cls,
        named: dict[str, LabelArray | None],
        num_classes: int | None,
        optional: tuple[str, ...] = ("L",),
    ) -> Contingency:
        """Encode the variables (F, Y, L roles in order) and count them."""
        inputs = _encode_all(named, num_classes, optional, defer=True)
        _check_cells(inputs.num_steps, inputs.shape)
        roles = (inputs.F, inputs.Y, inputs.L)
        batched = [r.codes is not None and r.codes.ndim == 2 for r in roles]
        if inputs.as_numpy and batched.count(True) == 1:
            table = _count_blocked(inputs, list(named))
        else:
            table = _count(_cells(inputs), inputs.shape)
        values = (inputs.F.values, inputs.Y.values, inputs.L.values)
        return cls(table, *values, batched=inputs.batched)

    @property
    def counts(self) -> Values:
        """Joint counts, (T, kF, kY, kL) when batched else (kF, kY, kL), float64."""
        return self._out(self.table)

    @property
    def n(self) -> int:
        """Number of examples."""
        return int(self.table[0].sum())

    def _out(self, x):
        """Drop the checkpoint axis when unbatched; 0-d numpy results become np.float64."""
        if not self.batched:
            x = x[0]
        return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x

    def _marginal(self, keep: str):
        """Counts summed over the variables not in `keep` (letters of 'fyl'), axes kept;
        computed once per table."""
        if not keep or set(keep) - set("fyl"):
            raise ValueError(f"variables must be a non-empty subset of 'fyl', got {keep!r}")
        key = "".join(v for v in "fyl" if v in keep)
        cache = self.__dict__.setdefault("_marginals", {})
        if key not in cache:
            # a single variable is summed from a cached pair (10x smaller) when there is one
            parents = [p for p in cache if len(p) == 2 and key in p] if len(key) == 1 else []
            cache[key] = _sum_to(cache[parents[0]] if parents else self.table, key)
        return cache[key]

    def _total(self):
        """Number of examples per table, shape (T,)."""
        return self._marginal("l").sum(axis=(1, 2, 3))

    def entropy(
        self, of: str = "y", given: str = "", *, base: float = 2, miller_madow: bool = False
    ) -> Values:
        """H(of | given), variables named by letters of 'fyl': entropy('y', 'l') = H(Y|L)."""
        log_base = _check_base(base)
        n = self._total()
        joint = self._marginal("".join(sorted(set(of) | set(given))))
        h = _entropy_nats(joint, n)
        m = _occupied(joint)
        if given:
            cond = self._marginal(given)
            h = h - _entropy_nats(cond, n)
            m = m - _occupied(cond) + 1
        if miller_madow:
            h = h + (m - 1) / (2 * n)
        return self._out(h / log_base)

    def _pair_terms(self):
        """Cell terms of I(F;Y), shape (T, kF, kY, 1), in count-nats."""
        n = self._total().reshape(-1, 1, 1, 1)
        return _mi_terms(self._marginal("fy"), self._marginal("f"), self._marginal("y"), n)

    def _conditional_terms(self):
        """Cell terms of I(F;Y|L), shape (T, kF, kY, kL), in count-nats."""
        return _mi_terms(
            self.table, self._marginal("fl"), self._marginal("yl"), self._marginal("l")
        )

    def _mm_mi(self):
        """Miller-Madow correction of I(F;Y) in nats: (m_F + m_Y - m_FY - 1) / (2N)."""
        m = (
            _occupied(self._marginal("f"))
            + _occupied(self._marginal("y"))
            - _occupied(self._marginal("fy"))
            - 1
        )
        return m / (2 * self._total())

    def _mm_cmi(self):
        """Miller-Madow correction of I(F;Y|L) in nats: (m_FL + m_YL - m_FYL - m_L) / (2N)."""
        m = (
            _occupied(self._marginal("fl"))
            + _occupied(self._marginal("yl"))
            - _occupied(self.table)
            - _occupied(self._marginal("l"))
        )
        return m / (2 * self._total())

    def _mi_nats(self, miller_madow: bool):
        """I(F;Y) in nats per table."""
        mi = self._pair_terms().sum(axis=(1, 2, 3)) / self._total()
        return mi + self._mm_mi() if miller_madow else mi

    def _cmi_nats(self, miller_madow: bool):
        """I(F;Y|L) in nats per table."""
        cmi = self._conditional_terms().sum(axis=(1, 2, 3)) / self._total()
        return cmi + self._mm_cmi() if miller_madow else cmi

    def mutual_information(self, *, base: float = 2, miller_madow: bool = False) -> Values:
        """I(F;Y) = sum p(f,y) log[p(f,y) / (p(f) p(y))] (Nakkiran et al. 2019, Sec. 2)."""
        log_base = _check_base(base)
        return self._out(self._mi_nats(miller_madow) / log_base)

    def conditional_mutual_information(
        self, *, base: float = 2, miller_madow: bool = False
    ) -> Values:
        """I(F;Y|L) = sum p(f,y,l) log[p(f,y|l) / (p(f|l) p(y|l))] (Nakkiran et al., Sec. 2)."""
        log_base = _check_base(base)
        return self._out(self._cmi_nats(miller_madow) / log_base)

    def performance_correlation(self, *, base: float = 2, miller_madow: bool = False) -> Values:
        """mu_Y(F;L) = I(F;Y) - I(F;Y|L): the part of F's information on Y that L explains
        (Nakkiran et al. 2019, eq. 1)."""
        log_base = _check_base(base)
        mu = self._mi_nats(miller_madow) - self._cmi_nats(miller_madow)
        return self._out(mu / log_base)

    def _per_class(self, terms, log_base: float):
        """Cell terms summed to one value per class of Y, (T, kY), in units of the base."""
        return terms.sum(axis=(1, 3)) / self._total().reshape(-1, 1) / log_base

    def per_class_mutual_information(self, *, base: float = 2) -> Values:
        """I(F;Y=y) = sum_f p(f,y) log[p(f,y) / (p(f)p(y))] per class, (T, kY); sums to
        I(F;Y) (Schouten & Toonen 2023, eq. 3). Miller-Madow has no per-class form."""
        return self._out(self._per_class(self._pair_terms(), _check_base(base)))

    def per_class_conditional_mutual_information(self, *, base: float = 2) -> Values:
        """I(F;Y=y|L) = sum_{f,l} p(f,y,l) log[p(f,y|l) / (p(f|l)p(y|l))] per class, (T, kY);
        sums to I(F;Y|L) (Schouten & Toonen 2023, eq. 4)."""
        return self._out(self._per_class(self._conditional_terms(), _check_base(base)))

    def per_class_performance_correlation(self, *, base: float = 2) -> Values:
        """mu per class, I(F;Y=y) - I(F;Y=y|L), (T, kY); sums to mu_Y(F;L)."""
        log_base = _check_base(base)
        diff = self._per_class(self._pair_terms(), log_base) - self._per_class(
            self._conditional_terms(), log_base
        )
        return self._out(diff)
