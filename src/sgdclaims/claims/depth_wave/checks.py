"""depth_wave's harness checks and reported values (shared/CLAIMS.md, Common ground and
depth_wave): recorded beside the claim's statistics in spec.py."""

from __future__ import annotations

from sgdclaims.spec import Check, Criterion

HARNESS = (
    Check(
        "n_test",
        "harness",
        "Test images of every evaluation, model and control (CLAIMS.md: at least 2,000).",
        Criterion(">=", 2000),
    ),
    Check(
        "alive",
        "harness",
        "1 when every seed of every member trained: finite loss never above 100x its first, "
        "and over the last 5% two classes predicted and accuracy at least chance + 5 pp "
        "(shared/CLAIMS.md, Common ground); per run beside it.",
        Criterion(">=", 1.0),
    ),
    Check(
        "early_evaluations",
        "harness",
        "Evaluations in the first 10% of the run (after step 0): d(all) <= 0.10 T needs them.",
        Criterion(">=", 10),
    ),
    Check(
        "lbfgs_below_limit",
        "harness",
        "L-BFGS iterations of the logistic regression / its limit: below 1, it converged.",
        Criterion("<", 1.0),
    ),
)

REPORTED = (
    Check(
        "accuracy_logistic",
        "reported",
        "Test accuracy of logistic regression (L-BFGS to convergence, weight decay 1e-4) on the "
        "same inputs.",
    ),
    Check(
        "final_accuracy",
        "reported",
        "Final test accuracy of the main model, and of every member (seed means) beside it.",
    ),
    Check(
        "wave_monotone_p",
        "reported",
        "One-sided p of wave_monotone's rho against every order of the d(k) values.",
    ),
    Check(
        "linear_layers_near_zero",
        "reported",
        "Final mean |train-mode preactivation mean| of the fully linear model over the main "
        "model's (a structural sanity check: the BN shift of an identity layer followed by a "
        "conv and a train-mode BN gets almost no gradient, as the next BN re-centres it).",
    ),
    Check(
        "mu_baseline",
        "reported",
        "mu_Y(M_i;M_j) in bits between the final main model and its twins (same seed and data "
        "order), with mu_Y(M;P_k) between the main model and each member beside it.",
    ),
)
