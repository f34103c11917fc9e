"""iterative_linearisation's reported values (shared/CLAIMS.md: recorded beside the verdicts,
never asserted): accuracies per K with the network's own, acc_1 at matched training loss,
the staircase's windows, the divergence at the large step, fixed features' stability bound,
the step costs and the compute."""

from __future__ import annotations

from sgdclaims.spec import Check

REPORTED = (
    Check(
        "accuracies",
        "reported",
        "Final test accuracy (%, mean over the last 5% of the run) of f_lin for every K and "
        "seed, the network f(theta) itself beside it ('network'), and the control's.",
    ),
    Check(
        "acc_1_matched",
        "reported",
        "K = 1's test accuracy (%) at the checkpoint nearest to the step where its training "
        "loss first reaches K = inf's final training loss (matched training loss; checkpoints "
        "every 25 steps in the first third), K = inf's accuracy beside it.",
    ),
    Check(
        "staircase_windows",
        "reported",
        "lr x K of the staircase K's windows (mean-loss units) against the paper's, and the "
        "jump of the training loss at each refresh.",
    ),
    Check(
        "divergence",
        "reported",
        "Runs that diverged at the larger step; per K and seed the step and the rule.",
    ),
    Check(
        "stability_bound",
        "reported",
        "2 / lambda_max of the linearised training loss at initialisation (per seed): fixed "
        "features (K = inf, a convex loss) are stable below it; the main and large lr and "
        "K = inf's runs beside it.",
    ),
    Check(
        "step_cost",
        "reported",
        "CPU time of a batched step between refreshes per run / a plain autograd GD step "
        "(same full batch); the refresh step, tangent kernel and function-space step beside.",
    ),
    Check("compute", "reported", "CPU seconds of the case's units when computed."),
)
