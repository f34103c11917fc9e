"""eg_scaling's statistics (shared/CLAIMS.md, eg_scaling; Goldt et al. 2020): pure functions of
the cached result, every statistic, control, harness and reported value with its per-seed
(per-start, per-K) values."""

from __future__ import annotations

import numpy as np

from sgdclaims.claims.eg_scaling.fits import (
    deviations,
    k_means,
    line,
    nanmax,
    per_k,
    signed_r2,
    spearman_or_nan,
    trend,
)
from sgdclaims.runner import Result
from sgdclaims.teacher_student import formulas
from sgdclaims.values import Statistics, Value, seed_mean

#: eps_g*/sigma^2 of the reference C++ code nn2pp, erf SCM, M=2, eta=0.05, sigma=0.01, K=2..6
#: (shared/CLAIMS.md, eg_scaling)
NN2PP = {2: 0.0094, 3: 0.0178, 4: 0.0262, 5: 0.0338, 6: 0.0436}
PERMUTED = "each seed's values assigned to L by an independent random permutation (mean of 200)"
PER_K = "fit of the per-K means over certified starts; per start: that start's own fit"
#: a diverged run (NaN deviation) fails; never dropped
NAN = {"skipna": False}
statistics = Statistics()


@statistics.returns(
    "ode_matches_sgd", "ode_matches_sgd_control", "ode_matches_sgd_4n", "ode_matches_sgd_4n_control"
)
def _match(result: Result) -> dict[str, Value]:
    cfg, frame = result.config, result.frame("match")
    n0, n1, k0 = cfg.match_n, cfg.match_n * cfg.match_n_factor, min(cfg.match_ks)
    base, big = deviations(frame, n0), deviations(frame, n1)
    per_k_mean = base.groupby("k").mean(**NAN)
    wrong = deviations(frame, n0, k_ode=k0).drop(k0)
    ratio = big.groupby("seed").mean(**NAN) / base.groupby("seed").mean(**NAN)
    means = {f"mean at N={n0}": base.mean(**NAN), f"mean at N={n1}": big.mean(**NAN)}
    return {
        "ode_matches_sgd": Value(
            per_k_mean.max(**NAN),
            base.groupby("seed").max(**NAN),
            f"N={n0}: the worst K of the mean over seeds; per seed: its worst K",
            {f"K={k}": v for k, v in per_k_mean.items()},
        ),
        "ode_matches_sgd_control": seed_mean(
            wrong,
            f"N={n0}: SGD of K={max(cfg.match_ks)} against the ODE of K={k0} started from "
            "the same seed (curves of another network)",
        ),
        "ode_matches_sgd_4n": Value(
            big.mean(**NAN) / base.mean(**NAN),
            ratio,
            f"mean deviation at N={n1} over that at N={n0}; per seed",
            means,
        ),
        "ode_matches_sgd_4n_control": Value(
            deviations(frame, n1, "eps_ode_ref").mean(**NAN) / base.mean(**NAN),
            note=f"the same with the N={n1} runs read on the time scale steps/{n0} (not "
            "Thm. 1's alpha = steps/N)",
        ),
    }


@statistics.returns(
    "eg_linear_in_L",
    "eg_linear_in_L_control",
    "eg_slope",
    "eg_slope_control",
    "certified_starts",
    "eps_star_spread",
    "start_distance",
    "nn2pp_deviation",
    "eq11_deviation",
)
def _scm(result: Result) -> dict[str, Value]:
    cfg, frame, both = result.config, result.frame("ode"), result.frame("both")
    s2, target = cfg.sigma**2, cfg.ode_eta / (2 * np.pi)
    ks, table = per_k(frame, "eps_star", s2)
    means = k_means(table)
    slope, r2, slopes, r2s = line(ks, table, cfg.m)
    b_ks, b_table = per_k(both[both.k.isin(ks)], "eps_star", s2)
    b_slope, b_r2 = line(b_ks, b_table, cfg.m)[:2] if len(b_ks) > 1 else (np.nan, np.nan)
    counts = np.isfinite(table).sum(axis=0)
    spread = np.array([nanmax(c) + nanmax(-c) for c in table.T]) / means
    ends = frame.pivot(index="start", columns="k", values="start_eps").to_numpy() / s2
    dist = np.abs(ends / means - 1).max(axis=0)
    eq11 = frame.groupby("k").eq11.first().to_numpy() / s2
    ref = np.array([NN2PP.get(int(k), np.nan) for k in ks])
    status = frame.groupby("k").start_status.agg(lambda x: ", ".join(sorted(set(x))))
    ours = {f"K={k} ours": v for k, v in zip(ks, means)}
    theirs = {f"K={k} nn2pp": v for k, v in zip(ks, ref) if v == v}
    starts = "; ".join(f"K={k}: {x}" for k, x in status.items())
    return {
        "eg_linear_in_L": Value(r2, r2s, f"R^2; {PER_K}", {"slope": slope}),
        "eg_linear_in_L_control": Value(
            b_r2,
            note="R^2 of the certified both-layer eps_g* (Fig. 3c) against L = K - M",
            details={"slope": b_slope},
        ),
        "eg_slope": Value(
            abs(slope / target - 1),
            np.abs(np.array(slopes) / target - 1),
            f"|slope / (eta / 2 pi) - 1|; {PER_K}",
            {"slope": slope, "eta/(2 pi)": target},
        ),
        "eg_slope_control": Value(
            abs(b_slope / target - 1),
            note="the same for the certified both-layer eps_g* (Fig. 3c) against L",
        ),
        "certified_starts": Value(
            counts.min(), counts, "certified starts of the K with the fewest; per K: the count"
        ),
        "eps_star_spread": Value(
            nanmax(spread),
            spread,
            "(max - min) / mean of eps_g* over certified starts, the worst K; per K",
        ),
        "start_distance": Value(
            nanmax(dist),
            dist,
            "|eps_g at the end of a start's own integration / eps_g* - 1|, the worst start; "
            "per K. Status of the starts: " + starts,
        ),
        "nn2pp_deviation": Value(
            nanmax(np.abs(means / ref - 1)),
            note="max over K of |ours / nn2pp - 1| (eps_g*/sigma^2)",
            details={**ours, **theirs},
        ),
        "eq11_deviation": Value(
            nanmax(np.abs(means / eq11 - 1)),
            note="max over K of |ours / eq. 11 - 1|",
            details={f"K={k} eq. 11": e for k, e in zip(ks, eq11)},
        ),
    }


@statistics.returns(
    "sgd_grows_with_L",
    "sgd_grows_with_L_control",
    "sgd_ode_change",
    "relu_grows_with_L",
    "relu_grows_with_L_control",
)
def _sgd(result: Result) -> dict[str, Value]:
    cfg, sgd, relu = result.config, result.frame("sgd"), result.frame("relu")
    ls, rho, rhos, rho_perm, means = trend(sgd, "eps_sgd", spearman_or_nan, cfg.sigma**2)
    relu_ls, r2, r2s, r2_perm, relu_means = trend(relu, "eps_sgd", signed_r2, cfg.sigma**2)
    change = sgd.groupby("L").ode_change.max(**NAN)
    return {
        "sgd_grows_with_L": Value(
            rho,
            rhos,
            "Spearman of L and the per-L mean over seeds of the final SGD eps_g/sigma^2; per seed",
            {f"L={ell:g}": v for ell, v in zip(ls, means)},
        ),
        "sgd_grows_with_L_control": Value(rho_perm, note=f"the same, {PERMUTED}"),
        "sgd_ode_change": Value(
            change.max(**NAN),
            sgd.ode_change,
            "the ODE from each SGD start at its eta: |change of eps_g over the last half of "
            "the SGD run|, the largest; per run",
            {f"L={ell}": v for ell, v in change.items()},
        ),
        "relu_grows_with_L": Value(
            r2,
            r2s,
            "R^2 of the line through the per-L means over seeds (eps_g/sigma^2), signed by "
            "its slope; per seed",
            {f"L={ell:g}": v for ell, v in zip(relu_ls, relu_means)},
        ),
        "relu_grows_with_L_control": Value(r2_perm, note=f"the same, {PERMUTED}"),
    }


@statistics.returns(
    "linear_ode_eq12", "linear_ode_eq12_control", "linear_sgd_eq12", "linear_sgd_eq12_control"
)
def _linear(result: Result) -> dict[str, Value]:
    cfg, frame = result.config, result.frame("linear")
    at_m = formulas.eps_linear_scm(cfg.linear_m, cfg.linear_m, cfg.linear_eta, cfg.sigma)
    out = {}
    for name, column in (("linear_ode_eq12", "eps_star"), ("linear_sgd_eq12", "eps_sgd")):
        err = frame.assign(
            e=np.abs(frame[column] / frame.eq12 - 1), c=np.abs(frame[column] / at_m - 1)
        )
        out[name] = Value(
            err.groupby("k").e.mean(**NAN).max(**NAN),
            err.groupby("seed").e.max(**NAN),
            "max over K of the mean over seeds of |value / eq. 12 - 1|; per seed: its worst K",
        )
        out[f"{name}_control"] = Value(
            err.groupby("k").c.mean(**NAN).max(**NAN),
            note="the same against eq. 12 with L = 0 for every K (L ignored)",
        )
    return out


@statistics.returns(
    "both_layers_decrease", "both_layers_decrease_control", "both_certified_starts", "eq15_ratio"
)
def _both(result: Result) -> dict[str, Value]:
    cfg, eq15 = result.config, result.frame("eq15")
    ks, table = per_k(result.frame("both"), "eps_star", cfg.sigma**2)
    scm_ks, scm = per_k(result.frame("ode"), "eps_star", cfg.sigma**2)
    means, counts = k_means(table), np.isfinite(table).sum(axis=0)
    ratio = (eq15.eps_star / eq15.eq15).groupby(eq15.k).mean(**NAN)
    return {
        "both_layers_decrease": Value(
            spearman_or_nan(ks, means),
            [spearman_or_nan(ks, row) for row in table],
            "Spearman of K and the per-K mean of certified eps_g*/sigma^2; per start",
            {f"K={k}": v for k, v in zip(ks, means)},
        ),
        "both_layers_decrease_control": Value(
            spearman_or_nan(scm_ks, k_means(scm)),
            note="the same for the soft committee machine (Fig. 2a)",
        ),
        "both_certified_starts": Value(
            counts.min(), counts, "certified starts of the K with the fewest; per K"
        ),
        "eq15_ratio": Value(
            np.abs(ratio - 1).max(**NAN),
            ratio,
            f"M=1, eta={cfg.eq15_eta:g}: max over K of |eps_g* / eq. 15 - 1|; "
            "per K: eps_g* / eq. 15",
            {f"K={k}": v for k, v in ratio.items()},
        ),
    }
