"""eg_scaling's statistics (shared/CLAIMS.md, eg_scaling; Goldt et al. 2020): pure functions of
the cached result, every statistic, control, precondition, harness and reported value with its
per-seed (per-start, per-K) values and the runs it enters that are not alive. Editing this
module (or the stats_* modules) recomputes nothing."""

from __future__ import annotations

from sgdclaims.alive import alive_value
from sgdclaims.claims.eg_scaling.alive import part_runs
from sgdclaims.claims.eg_scaling.stats_both import both_values
from sgdclaims.claims.eg_scaling.stats_match import match_values
from sgdclaims.claims.eg_scaling.stats_scm import branch_values, reached_values
from sgdclaims.claims.eg_scaling.stats_sgd import linear_values, sgd_values
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value

statistics = Statistics()


@statistics.returns("ode_matches_sgd", "ode_matches_sgd_control", "ode_matches_sgd_4n")
def _match(result: Result) -> dict[str, Value]:
    return match_values(result, part_runs(result))


@statistics.returns(
    "eg_linear_in_L",
    "eg_slope",
    "slope_at_eta",
    "branch_certified",
    "branch_eigenvalue",
    "eq11_deviation",
)
def _branch(result: Result) -> dict[str, Value]:
    return branch_values(result, part_runs(result))


@statistics.returns("reached_settled", "reached_matches_branch", "nn2pp_deviation")
def _reached(result: Result) -> dict[str, Value]:
    return reached_values(result, part_runs(result))


@statistics.returns(
    "sgd_settled", "sgd_grows_with_L", "sgd_ode_change", "relu_settled", "relu_grows_with_L"
)
def _sgd(result: Result) -> dict[str, Value]:
    return sgd_values(result, part_runs(result))


@statistics.returns("linear_ode_eq12", "linear_sgd_eq12")
def _linear(result: Result) -> dict[str, Value]:
    return linear_values(result, part_runs(result))


@statistics.returns("both_settled", "both_layers_decrease", "both_denoising", "eq15_ratio")
def _both(result: Result) -> dict[str, Value]:
    return both_values(result, part_runs(result))


@statistics.returns("alive")
def _alive(result: Result) -> dict[str, Value]:
    return {"alive": alive_value([r for runs in part_runs(result).values() for r in runs])}
