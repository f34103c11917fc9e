"""linear_early's spec (shared/CLAIMS.md, linear_early, 2026-12-03; Nakkiran et al. 2019,
Sec. 3, Fig. 4): the texts, checks, thresholds, nulls, controls and preconditions."""

from __future__ import annotations

from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Null, Paper

RETENTION_PRECONDITIONS = ("outgrown", "retention_informative", "fits_training_set")

SPEC = ClaimSpec(
    paper=Paper(
        authors="Nakkiran, Kaplun, Kalimeris, Yang, Edelman, Zhang, Barak",
        year="2019",
        title="SGD on neural networks learns functions of increasing complexity",
        reference="Sec. 3, Fig. 1 and Fig. 4",
    ),
    claim=(
        "Early in training almost all of what a CNN predicts about the label is explained "
        "by a linear classifier; later the network outgrows it but keeps what it explained."
    ),
    paragraph=(
        "Fix L, the best linear classifier on raw pixels, and follow the CNN F_t during plain "
        "SGD on a binary task. The performance correlation mu_Y(F_t;L) = I(F_t;Y) - "
        "I(F_t;Y|L) counts the bits about the label that F_t shares with L. The paper's Fig. 4 "
        "shows mu_Y tracking I(F_t;Y) almost exactly in the first phase of training (on binary "
        "MNIST up to about 0.35-0.4 bits), then levelling off near I(L;Y) while I(F_t;Y) keeps "
        "rising: SGD first finds the linear part of the function, then something more, and "
        "does not forget the linear part (Sec. 3, Fig. 1 for the synthetic sinusoid task)."
    ),
    shows="I(F_t;Y) and mu_Y(F_t;L) against SGD steps, as in the paper's Fig. 4.",
    checks=(
        Check(
            "early_explained",
            "statistic",
            "The smallest share mu_Y(F_t;L)/I(F_t;Y) over the early window, the checkpoints "
            "where I(F_t;Y) is between 20% and 80% of I(L;Y); each seed on its own window, "
            "asserted on the worst seed.",
            Criterion(">=", 0.80),
            "A value below 0.80 on some run: early on, the CNN already knows things about the "
            "label that the linear classifier does not.",
            control=Control(
                "early_explained_control",
                Criterion("<", 0.80),
                "The same statistic with L replaced by C, a classifier with L's per-class "
                "accuracy whose errors are drawn independently of L's: it must miss. Where it "
                "does not (high accuracies), the statistic cannot tell L from accuracy and is "
                "failed.",
            ),
            every_seed=True,
            reference={"mnist": "~1: mu_Y tracks I(F_t;Y) up to ~0.35-0.4 bits (Fig. 4, MNIST)"},
        ),
        Check(
            "control_gap",
            "reported",
            "early_explained less its control (C in place of L), per seed: how much of the "
            "statistic is L in particular rather than any classifier of its accuracy.",
        ),
        Check(
            "nonlinear_control",
            "reported",
            "early_explained with L replaced by K, a k-NN on raw inputs whose test accuracy is "
            "within 1 pp of L's. The note says whether K explains early F as well as L: then "
            "the data show 'a classifier of L's accuracy with L's hard examples', not 'linear' "
            "as such.",
        ),
        Check(
            "outgrows_linear",
            "statistic",
            "I(F_T;Y) - mu_Y(F_T;L) = I(F_T;Y|L), final values, in bits, on the worst seed: "
            "what the trained CNN knows about the label beyond the linear classifier.",
            Criterion(">=", 0.05),
            "Less than 0.05 bits on some run, or no more than a linear model trained the same "
            "way: the CNN never became more than a linear classifier.",
            null=Null(
                "S, a linear model trained by the same SGD as F (initialisation seed, data "
                "order, lr, steps): what it shows beyond L is optimisation differences and "
                "estimator bias. F must exceed S's I(S_T;Y|L) by 0.02 bits on every seed.",
                "outgrows_linear_excess",
                Criterion(">=", 0.02),
            ),
            requires=("fits_training_set",),
            every_seed=True,
            reference={
                "mnist": "~0.39 bits: I(F_T;Y) ~0.83 minus the mu plateau ~0.435 (Fig. 4)",
                "cifar10": "~0.09 bits: I(F_T;Y) ~0.10 minus the mu plateau ~0.0135 (Fig. 4)",
            },
        ),
        Check(
            "fits_training_set",
            "precondition",
            "F's final training accuracy, every seed (the paper's regime: 'even if training is "
            "continued to the point of zero training error'). Misses only: a run that has not "
            "fitted its training set can confirm 'eventually' but not refute it.",
            Criterion(">=", 0.99),
            misses_only=True,
        ),
        Check(
            "outgrown",
            "precondition",
            "Final test accuracy of F minus that of L, every seed: retention can only be tested "
            "once F has outgrown L.",
            Criterion(">=", 0.02),
        ),
        Check(
            "retention_informative",
            "precondition",
            "I(L;Y) - mu_Y(F_T;C) in bits, every seed: else F is so accurate that any "
            "classifier of L's accuracy is 'retained'.",
            Criterion(">=", 0.03),
        ),
        Check(
            "retained",
            "statistic",
            "Excess retention R = [mu_Y(F_T;L) - mu_Y(F_T;C)] / [I(L;Y) - mu_Y(F_T;C)] on the "
            "worst seed (final values): 1 = F keeps exactly L's hard examples, 0 = no more than "
            "an independent classifier C of L's accuracy.",
            Criterion(">=", 0.5),
            "Below 0.5 on some run: the trained CNN shares no more of L's errors than an "
            "independent classifier of L's accuracy would; it did not keep the linear function.",
            null=Null(
                "C, a classifier with L's per-class accuracy and independent errors: R is a "
                "normalised excess over it (0 at the null)."
            ),
            requires=RETENTION_PRECONDITIONS,
            every_seed=True,
            reference={"mnist": "~0.8 (from their Fig. 4 accuracies)"},
        ),
        Check(
            "retention_drop",
            "reported",
            "[max over t of the 3-checkpoint running mean of mu_Y(F_t;L) - mu_Y(F_T;L)] / "
            "[I(L;Y) - mu_Y(F_T;C)]: how far the shared information falls from its peak; "
            "I(L;Y|F_T) and H(Y|F_T) beside it.",
            reference={"mnist": "~0: mu_Y plateaus at ~0.43-0.44 bits (Fig. 4)"},
        ),
        Check(
            "lr_sensitivity",
            "reported",
            "early_explained on the worst seed at 10x the fast lr, with 1x, 2x and 10x beside "
            "it (MNIST; the paper gives no lr sensitivity, and the statistic falls as the lr "
            "grows).",
            scales=("fast",),
            datasets=("mnist",),
        ),
        Check(
            "window_points",
            "harness",
            "The fewest checkpoints any seed has inside its own early window (early_explained "
            "is a minimum over them, so the window must be resolved).",
            Criterion(">=", 5),
        ),
        Check(
            "knn_matched",
            "harness",
            "|test accuracy of the k-NN - that of L|: K must have L's accuracy.",
            Criterion("<=", 0.01),
        ),
        Check(
            "n_test", "harness", "Test examples (CLAIMS.md: at least 2,000).", Criterion(">=", 2000)
        ),
        Check(
            "l_iterations",
            "harness",
            "L-BFGS iterations over their limit: L is trained to convergence, below the limit.",
            Criterion("<", 1.0),
        ),
        Check(
            "alive",
            "harness",
            "1 when F and S of every seed trained: finite loss never above 100x its initial "
            "value, and over the last 5% two classes predicted with accuracy at least chance "
            "+ 5 pp (CLAIMS.md, Common ground).",
            Criterion(">=", 1.0),
        ),
        Check(
            "I_LY",
            "reported",
            "I(L;Y) in bits.",
            reference={"mnist": "~0.445 (Fig. 4)", "cifar10": "~0.015 (Fig. 4)"},
        ),
        Check(
            "I_FT_Y",
            "reported",
            "I(F_T;Y) in bits, final value.",
            reference={"mnist": "~0.83 (Fig. 4)", "cifar10": "~0.10 (Fig. 4)"},
        ),
        Check("accuracy_L", "reported", "Test accuracy of L."),
        Check("final_accuracy_F", "reported", "Final test accuracy of F."),
    ),
)
