"""class_order's spec (shared/CLAIMS.md, class_order, 2026-12-03; Schouten & Toonen 2023,
Sec. 3.2-4.3, Fig. 2-5): the texts, checks, thresholds, nulls, controls and preconditions."""

from __future__ import annotations

from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Null, Paper

#: exact rank comparisons (CLAIMS.md, Falsifiability): a rounding tolerance in the favour of
#: the criterion
EXACT = 1e-9
_CNN = ("classes_learned_cnn",)
_VIT = ("converged", "classes_learned_cnn_vit")
_SURROGATE = (
    "the class-blind surrogate (at each checkpoint right on a random share a_t of every class, "
    "a_t the model's test accuracy, otherwise uniform over the other classes) through the same "
    "estimator, level, checkpoints and test set"
)
_TAU = (
    "tau_c: the first checkpoint from which I(F_t;Y=c) stays at or above 0.25 p(c) log2(1/p(c)) "
    "to the end (inf, ranked last, for a class that never gets there; ties as ties)"
)

SPEC = ClaimSpec(
    paper=Paper(
        authors="Schouten & Toonen",
        year="2023",
        title="Increasing the complexity of ... (the multi-class extension of Nakkiran et al.)",
        reference="Sec. 3.2-4.3, eq. 3-4, Fig. 2-5",
    ),
    claim=(
        "With ten classes, SGD learns the classes in a consistent order; a ViT learns them "
        "in the same order as a CNN, but sooner and without a warm-up."
    ),
    paragraph=(
        "Schouten & Toonen split the mutual information per class (their eq. 3-4, I(F;Y=y) "
        "and I(F;Y=y|G), which sum over y to the totals) and follow a linear model, a CNN and "
        "a small ViT trained side by side on the same data order. On MNIST the digits 0 and 1 "
        "are learned first and 5 and 8 last; on CIFAR-10 frog, ship and airplane come first "
        "and automobile and truck separate around epoch 27. The CNN has a warm-up of a few "
        "epochs (~4 on MNIST), the ViT none (Sec. 3.2-4.3, Fig. 2-5). Here the learning time "
        f"is {_TAU}: a fixed share of what a perfect classifier would show for the class, so a "
        "class the model never learns cannot rank early. Each order statistic is also computed "
        f"on {_SURROGATE}, which has no class order."
    ),
    shows=(
        "Per-class I(F_t;Y=c) and mu_c curves of every model (their Fig. 2-5), test accuracy "
        "(the warm-up), the learning times per seed and the learned order by MI and by recall."
    ),
    checks=(
        Check(
            "order_consistency",
            "statistic",
            f"Kendall's W of the CNN's class ranks by {_TAU}, across seeds (1 = every seed "
            "learns the classes in the same order).",
            Criterion(">=", 0.5, EXACT),
            "W below 0.5: the order changes from seed to seed.",
            control=Control(
                "order_consistency_control",
                Criterion("<", 0.5),
                f"W of {_SURROGATE} of the CNN: it must fall below 0.5.",
            ),
            requires=_CNN,
        ),
        Check(
            "order_consistency_p",
            "statistic",
            "Permutation p-value of that W.",
            Criterion("<", 0.05),
            "p of 0.05 or more: such an agreement arises by chance with this many seeds.",
            null=Null("W with each seed's ranks shuffled independently (9,999 shuffles)."),
            requires=_CNN,
        ),
        Check(
            "paper_order",
            "statistic",
            "1 when, by the CNN's seed-mean tau_c, classes 0 and 1 are both among the first "
            "three learned and 5 and 8 both among the last three (per seed: each seed's own "
            "order).",
            Criterion(">=", 1),
            "0: the concrete MNIST order the paper reports is not what SGD learns here.",
            control=Control(
                "paper_order_control",
                Criterion("<", 0.5),
                f"paper_order of {_SURROGATE} of the CNN: it must be 0.",
            ),
            requires=_CNN,
            datasets=("mnist",),
            reference={"mnist": "0 and 1 learned first, 5 and 8 last (Sec. 4, MNIST)"},
        ),
        Check(
            "paper_order_chance",
            "reported",
            "The exact probability that a random order of the observed seed-mean tau_c (its "
            "ties kept) meets paper_order (1/140 without ties).",
            datasets=("mnist",),
        ),
        Check(
            "surrogate_paper_order",
            "reported",
            "How many of paper_order's four conditions (0 and 1 each among the first three, 5 "
            "and 8 each among the last three) the CNN's class-blind surrogate meets from the "
            "test set's class sizes alone: the fixed level is not neutral to class size, so at "
            "equal recall each class reaches it at its own accuracy; the order of those "
            "accuracies (a class beyond the CNN's final accuracy last) is the surrogate's "
            "expected order. Read paper_order beside it.",
            datasets=("mnist",),
        ),
        Check(
            "classes_learned_cnn",
            "precondition",
            "Classes with final recall >= 0.5 of the CNN, every seed: a tau statistic needs "
            "the classes it orders to be learned (CLAIMS.md `classes_learned`).",
            Criterion(">=", 8),
        ),
        Check(
            "classes_learned_cnn_vit",
            "precondition",
            "The same for the CNN and the ViT (the fewer of the two), every seed.",
            Criterion(">=", 8),
        ),
        Check(
            "converged",
            "precondition",
            "The largest difference, over the CNN, the ViT and the seeds, between a model's "
            "final test accuracy and its mean over the preceding 20% of the run; a model whose "
            "final accuracy is below 2 x chance has not converged to a classifier (inf).",
            Criterion("<", 0.02),
        ),
        Check(
            "vit_cnn_agreement",
            "statistic",
            "Spearman rho between the seed-mean tau_c of the CNN and of the ViT over the classes.",
            Criterion(">=", 0.5, EXACT),
            "rho below 0.5: the two architectures learn the classes in different orders.",
            control=Control(
                "vit_cnn_agreement_control",
                Criterion("<", 0.5),
                f"rho between the seed-mean tau_c of {_SURROGATE} of the CNN and of the ViT.",
            ),
            requires=_VIT,
        ),
        Check(
            "vit_cnn_agreement_p",
            "statistic",
            "One-sided permutation p-value of that rho.",
            Criterion("<", 0.05),
            "p of 0.05 or more: with ten classes, such a rho arises by chance.",
            null=Null("rho with the CNN's classes shuffled (9,999 shuffles)."),
            requires=_VIT,
        ),
        Check(
            "vit_sooner",
            "statistic",
            "mean_c tau_c(ViT) / mean_c tau_c(CNN) per seed, then the geometric mean over seeds; "
            "a seed with an infinite tau gives NaN, which fails.",
            Criterion("<", 0.8),
            "A ratio of 0.8 or more: the ViT does not learn the classes much sooner.",
            control=Control(
                "vit_sooner_control",
                Criterion(">=", 0.8),
                "The seed-noise floor: the smallest ratio of mean_c tau_c between two CNN "
                "seeds. Below 0.8, three seeds cannot tell the ViT from CNN seed noise.",
            ),
            requires=_VIT,
            reported_at=("fast",),
            reference={"*": "much faster: the ViT has no warm-up, the CNN ~4 epochs (Sec. 4)"},
        ),
        Check(
            "vit_sooner_from_warm_up",
            "reported",
            "vit_sooner with each model's tau_c counted from the end of its own warm-up: at "
            "fast scale the lr was chosen to give the CNN its warm-up, which decides the ratio.",
        ),
        Check(
            "gap_tracks_order",
            "reported",
            "Spearman rho between tau_c and the per-class gap I(F;Y=c) - mu_c = I(F;Y=c|L) "
            "of the CNN at mid-training, from Miller-Madow corrected per-class terms; per seed, "
            "then the mean.",
        ),
        Check(
            "warm_up_linear",
            "reported",
            "SGD steps until the linear model's test accuracy first reaches 2 x chance.",
        ),
        Check(
            "warm_up_cnn",
            "reported",
            "The same for the CNN: the end of its warm-up.",
            reference={"mnist": "~4 of 50 epochs at lr 1e-3 (Sec. 4)"},
        ),
        Check(
            "warm_up_vit",
            "reported",
            "The same for the ViT.",
            reference={"*": "no warm-up (Sec. 4)"},
        ),
        Check(
            "recall_order_agreement",
            "reported",
            "Spearman rho between the CNN's seed-mean tau_c by MI and by recall (the first "
            "checkpoint from which recall stays >= 0.5 to the end).",
        ),
        Check("final_accuracy_linear", "reported", "Final test accuracy of the linear model."),
        Check("final_accuracy_cnn", "reported", "Final test accuracy of the CNN."),
        Check("final_accuracy_vit", "reported", "Final test accuracy of the ViT."),
        Check(
            "alive",
            "harness",
            "1 when every seed of every model (linear, CNN, ViT) trained: finite loss never "
            "above 100x its initial value, and over the last 5% at least 2 predicted classes "
            "and accuracy at least chance + 5 pp (shared/CLAIMS.md, Common ground).",
            Criterion(">=", 1.0),
        ),
        Check(
            "n_test",
            "harness",
            "Test images, the same for every checkpoint, model and surrogate (CLAIMS.md: at "
            "least 2,000).",
            Criterion(">=", 2000),
        ),
        Check(
            "curves_recorded",
            "harness",
            "1 when every model and surrogate of every seed is recorded at the same "
            "checkpoints with finite accuracy, per-class information and recall.",
            Criterion(">=", 1.0),
        ),
    ),
)
