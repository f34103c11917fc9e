"""eg_scaling's checks (shared/CLAIMS.md, eg_scaling, 2026-12-03): every statistic with its
threshold and its null or control, the preconditions, harness checks and reported values."""

from __future__ import annotations

from sgdclaims.spec import Check, Control, Criterion, Null

#: nn2pp's eps_g/sigma^2 at alpha 1e6 for K = 2..6 (stats_scm.NN2PP, shared/CLAIMS.md)
_NN2PP = "0.0094, 0.0178, 0.0262, 0.0338, 0.0436"
#: eq. 11 for L = 0..4 (teacher_student.formulas.eps_erf_scm at sigma = 1, to 4 places)
_EQ11 = (
    "eq. 11 (leading order in eta): eta/(2 pi) (L + M/sqrt 3) = "
    "0.0092, 0.0171, 0.0251, 0.0331, 0.0410 for L = 0..4 at eta = 0.05, M = 2"
)
#: rank statistics are compared exactly (shared/CLAIMS.md, Falsifiability)
EXACT = 1e-9
#: a trend over L whose null is the L assigned to the values in every order
PERMUTED = (
    "the L (or K) assigned to the per-L means in every order: the exact permutation p-value, "
    "reported in the details (shared/CLAIMS.md: reported, not asserted)"
)

MATCH = (
    Check(
        "ode_matches_sgd",
        "statistic",
        "Median over checkpoints uniform in alpha over the horizon (alpha_max i / 50, i = "
        "1..50, config match_checkpoints; the log-spaced early ones are for the figure only) "
        "of |log10 eps_SGD - log10 eps_ODE|, the ODE started from each SGD run's measured "
        "initial order parameters, mean over seeds, worst K of {2, 4}.",
        Criterion("<=", 0.10),
        "A larger deviation: the ODEs would not describe SGD at this N.",
        control=Control(
            "ode_matches_sgd_control",
            Criterion(">", 0.10),
            "The SGD of K=4 against the ODE of K=2 from the same seed: curves of another "
            "network must not match.",
        ),
        reference={"*": "Fig. 1b: ODE and SGD curves coincide (N=784)"},
    ),
    Check(
        "ode_matches_sgd_4n",
        "statistic",
        "Mean deviation at 4N over the mean deviation at N (3 seeds, both K).",
        Criterion("<", 1.0),
        "A ratio of 1 or more: the deviation is not a finite-size effect.",
        null=Null(
            "the deviation at N, measured in the same run with the same seed numbers (the 4N "
            "starts drawn afresh): the statistic "
            "is the ratio of the deviation at 4N to it (1 when N does not matter; the "
            "sabotage copies the N runs to 4N)"
        ),
        reference={"*": "Thm. 1: fluctuations O(1/sqrt N), about 1/2 from N to 4N"},
    ),
)

BRANCH = (
    Check(
        "eg_linear_in_L",
        "statistic",
        "R^2 of the line through eps_branch/sigma^2 (eta = 0.05, T = I, the eq. 10 fixed point "
        "by Newton from each start's projection, median over starts) against L = 0..3 (fast) "
        "or 0..4 (full): a goodness-of-fit check of eq. 11's form.",
        Criterion(">=", 0.99),
        "A poor linear fit: eps_branch would not grow linearly with the excess units.",
        null=Null(
            "a model constant in L: R^2 = 1 - SS_res / SS_tot contrasts the line's residual "
            "with the constant's on the same values; no control (CLAIMS.md). The sabotage "
            "suite feeds it values flat in L and growing as L^2, which miss"
        ),
        reference={"*": f"{_EQ11}; nn2pp eps_g/sigma^2 = {_NN2PP} for K = 2..6 (CLAIMS.md)"},
    ),
    Check(
        "eg_slope",
        "statistic",
        "|s / (1/(2 pi)) - 1|, s the slope of eps_branch/sigma^2 in L divided by eta at eta in "
        "{0.0125, 0.025, 0.05}, extrapolated linearly to eta = 0 (eq. 11's leading order).",
        Criterion("<=", 0.03),
        "An extrapolated slope more than 3% away from 1/(2 pi).",
        null=Null(
            "eq. 11's leading-order slope 1/(2 pi) itself: the statistic is the relative "
            "distance to it; an eps_branch flat in L gives 1, one growing as L^2 (the sabotage) "
            "more"
        ),
        reference={"*": "eq. 11: slope/eta = 1/(2 pi) = 0.159 as eta -> 0"},
    ),
    Check(
        "slope_at_eta",
        "reported",
        "The slope at eta = 0.05 over eta/(2 pi), less 1: eq. 11's O(eta) term.",
        reference={"*": "CLAIMS.md: +9.1% measured at eta = 0.05, +4.4% at 0.025, +2.2% at 0.0125"},
    ),
    Check(
        "branch_certified",
        "harness",
        "Share of the Newton solutions for eps_branch (every K, eta and start) that converged "
        "(residual max |f| <= 1e-13) from the start's projection onto the branch.",
        Criterion(">=", 1.0),
    ),
    Check(
        "branch_eigenvalue",
        "reported",
        "Top Jacobian eigenvalue at eps_branch (eta = 0.05), the largest over K; a positive one "
        "makes the point a saddle (per K and in units of eta^2 sigma^2 2/pi in the details).",
        reference={"*": "CLAIMS.md: ~ +1.05 eta^2 sigma^2 (2/pi) for K >= 4 (a saddle)"},
    ),
    Check("eq11_deviation", "reported", "Largest |eps_branch / eq. 11 - 1| over K."),
)

REACHED = (
    Check(
        "reached_settled",
        "precondition",
        "Settled starts (eps_reached drifting by less than 0.1% over the last decade of alpha, "
        "cancelling-pair starts included) "
        "of the K with the fewest.",
        Criterion(">=", 2),
    ),
    Check(
        "reached_matches_branch",
        "statistic",
        "|median over settled starts of eps_reached / eps_branch - 1|, eps_reached each random "
        "start's own integration to alpha_max (fast 1e5, full 1e6); asserted on the worst K. "
        "Settled: drift below 0.1% a decade, cancelling-pair starts included (CLAIMS.md's rule "
        "read literally). Each start's ratio, drift and status (settled, cancelling pair, "
        "unsettled) beside it.",
        Criterion("<=", 0.05),
        "More than 5% at some K: SGD from random starts does not reach the theory line.",
        null=Null(
            "eps_branch, the eq. 10 fixed point of the same K measured in the same run: the "
            "statistic is the relative distance of eps_reached to it"
        ),
        requires=("reached_settled",),
        reference={"*": "Fig. 2a: the ODE line and SGD from random starts 'agree perfectly'"},
    ),
    Check(
        "nn2pp_deviation",
        "reported",
        "Largest |eps_reached (median over starts) / nn2pp - 1| over K, eps_g/sigma^2.",
        reference={
            "*": f"nn2pp (reference C++ code, eta = 0.05, alpha 1e6): {_NN2PP} for K = 2..6"
        },
    ),
)

SGD = (
    Check(
        "sgd_settled",
        "precondition",
        "L whose every seed's SGD eps_g changes by less than 10% over the last half of its "
        "horizon; only those enter sgd_grows_with_L.",
        Criterion(">=", 4),
    ),
    Check(
        "sgd_grows_with_L",
        "statistic",
        "Spearman correlation of L and the SGD asymptote (final eps_g, mean over seeds) over "
        "the settled L, compared exactly.",
        Criterion(">=", 1.0, tolerance=EXACT),
        "Any inversion: SGD's asymptote does not grow with L.",
        null=Null(PERMUTED),
        requires=("sgd_settled",),
        reference={"*": "Fig. 2a: SGD crosses on the ODE lines, growing with L"},
    ),
    Check(
        "sgd_ode_change",
        "reported",
        "Largest change of the same-start ODE's eps_g over the last half of the SGD run.",
    ),
    Check(
        "linear_ode_eq12",
        "statistic",
        "Linear network: max over K of |eps_reached of the ODE from each SGD start / eq. 12 - 1| "
        "(mean over starts).",
        Criterion("<=", 0.05),
        "More than 5%: eq. 12 would not hold.",
        null=Null("eq. 12's prediction at each K: the statistic is the relative distance to it"),
        reference={"*": "eq. 12: eta sigma^2 (L+M) / (4 - 2 eta (L+M)), Fig. 4"},
    ),
    Check(
        "linear_sgd_eq12",
        "statistic",
        "Linear network: max over K of |SGD final eps_g / eq. 12 - 1| (mean over seeds).",
        Criterion("<=", 0.20),
        "More than 20%: SGD would not follow eq. 12.",
        null=Null("eq. 12's prediction at each K: the statistic is the relative distance to it"),
        reference={"*": "eq. 12, Fig. 4"},
    ),
    Check(
        "relu_settled",
        "precondition",
        "sgd_settled's rule on the ReLU runs ('over settled L as above', CLAIMS.md).",
        Criterion(">=", 4),
    ),
    Check(
        "relu_grows_with_L",
        "statistic",
        "ReLU soft committee machine: R^2 of the line through the SGD asymptotes against the "
        "settled L, signed by its slope (>= 0.8 exactly when slope > 0 and R^2 >= 0.8).",
        Criterion(">=", 0.8),
        "A flat, falling or non-linear trend: the growth with L would be special to erf.",
        null=Null(PERMUTED),
        requires=("relu_settled",),
        reference={"*": "Fig. 2a (ReLU): eps_g* grows linearly with L"},
    ),
)

BOTH = (
    Check(
        "both_settled",
        "precondition",
        "Both layers trained: settled starts of the K with the fewest.",
        Criterion(">=", 2),
    ),
    Check(
        "both_layers_decrease",
        "statistic",
        "Both layers trained (erf, M = 2, eta = 0.2, v* = 2): Spearman correlation of K and "
        "the median over settled starts of each start's own eps_reached, compared exactly.",
        Criterion("<=", -0.8, tolerance=EXACT),
        "Above -0.8: training the second layer would not reverse the trend.",
        null=Null(PERMUTED),
        requires=("both_settled",),
        reference={"*": "Fig. 3c: eps_g* falls with K"},
    ),
    Check(
        "both_denoising",
        "reported",
        "Share of the starts (K > M) that reached the denoising solution.",
        reference={
            "*": "Sec. 3: convergence to the denoising solution can be difficult for large students"
        },
    ),
    Check(
        "eq15_ratio",
        "reported",
        "Both layers, M = 1, eta = 0.05: largest |eps_reached / eq. 15 - 1| over K (settled "
        "starts).",
        reference={"*": "eq. 15: eta (sigma v*)^2 / (2 sqrt 3 K pi), leading order"},
    ),
    Check(
        "alive",
        "harness",
        "1 when every run is alive: the divergence rule never fired and the final eps_g is at "
        "most 95% of the best constant predictor's (regression's chance + 5 pp), for every "
        "SGD seed and ODE start (shared/CLAIMS.md, Common ground).",
        Criterion(">=", 1.0),
    ),
)

CHECKS = (*MATCH, *BRANCH, *REACHED, *SGD, *BOTH)
