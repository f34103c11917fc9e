"""class_order's spec (shared/CLAIMS.md, class_order; Schouten & Toonen 2023, Sec. 3.2-4.3,
Fig. 2-5): the texts, checks, thresholds, controls and preconditions."""

from __future__ import annotations

from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Paper

#: the relabelling control; 200 is readers.RELABELLINGS (tests/test_class_order_experiment.py)
_RELABEL = (
    "after an independent random relabelling of the classes of every seed (200 relabellings, "
    "their median): the models treat class indices symmetrically, so this is what training "
    "on shuffled class names gives"
)
_CONVERGED = ("converged",)

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
        "tau_c of a class is the first checkpoint at which its per-class term I(F_t;Y=c) "
        "reaches half of its own final value (the mean over the last 5% of the run), which "
        "removes the class-frequency cap -p(c) log p(c) from the comparison."
    ),
    shows=(
        "Per-class I(F_t;Y=c) and mu_c curves of every model (their Fig. 2-5), test accuracy "
        "(the warm-up), the learning times and the learned order by MI and by recall."
    ),
    checks=(
        Check(
            "order_consistency",
            "statistic",
            "Kendall's W of the CNN's class ranks by tau_c across seeds (1 = every seed learns "
            "the classes in the same order).",
            Criterion(">=", 0.5),
            "W below 0.5: the order changes from seed to seed, so there is no consistent "
            "order to speak of.",
            control=Control(
                "order_consistency_control",
                Criterion("<", 0.5),
                f"W {_RELABEL}: it must fall below 0.5.",
            ),
        ),
        Check(
            "order_consistency_p",
            "statistic",
            "Permutation p-value of W: each seed's ranks shuffled independently.",
            Criterion("<", 0.05),
            "p of 0.05 or more: an agreement like this arises by chance.",
            control=Control(
                "order_consistency_p_control",
                Criterion(">=", 0.05),
                f"The p-value of W {_RELABEL}: it must be 0.05 or more.",
            ),
        ),
        Check(
            "paper_order",
            "statistic",
            "1 when, by the CNN's seed-mean tau_c, classes 0 and 1 are both among the first "
            "three learned and 5 and 8 both among the last three (per seed: each seed's own "
            "order). A random order meets this with probability 1/140.",
            Criterion(">=", 1),
            "0: the concrete MNIST order the paper reports is not what SGD learns here.",
            control=Control(
                "paper_order_control",
                Criterion("<", 0.5),
                "The share of per-seed relabellings (200) whose seed-mean order meets it: "
                "about 1/140 for a random order.",
            ),
            datasets=("mnist",),
            reference={"mnist": "0 and 1 learned first, 5 and 8 last (Sec. 4, MNIST)"},
        ),
        Check(
            "converged",
            "precondition",
            "The largest difference, over the CNN, the ViT and the seeds, between a model's "
            "final test accuracy and its mean over the preceding 20% of the run: tau_c "
            "normalises by the final value, which means nothing for a model still climbing.",
            Criterion("<", 0.02),
        ),
        Check(
            "vit_cnn_agreement",
            "statistic",
            "Spearman rho between the seed-mean tau_c of the CNN and of the ViT over the classes.",
            Criterion(">=", 0.5),
            "rho below 0.5: the two architectures learn the classes in different orders.",
            control=Control(
                "vit_cnn_agreement_control",
                Criterion("<", 0.5),
                "rho after independent random relabellings of both models' classes (median of "
                "50): it must fall below 0.5.",
            ),
            requires=_CONVERGED,
        ),
        Check(
            "vit_cnn_agreement_p",
            "statistic",
            "One-sided permutation p-value of that rho (the classes of one model shuffled).",
            Criterion("<", 0.05),
            "p of 0.05 or more: with ten classes, such a rho arises by chance.",
            control=Control(
                "vit_cnn_agreement_p_control",
                Criterion(">=", 0.05),
                "The p-value of the relabelled pairs (median of 50).",
            ),
            requires=_CONVERGED,
        ),
        Check(
            "vit_sooner",
            "statistic",
            "mean_c tau_c(ViT) / mean_c tau_c(CNN), per seed, then the mean over seeds.",
            Criterion("<", 1),
            "A ratio of 1 or more: the ViT does not learn the classes sooner than the CNN.",
            control=Control(
                "vit_sooner_control",
                Criterion(">=", 1),
                "The same ratio for the CNN against itself (seed s+1 over seed s, cyclically): "
                "a model is not sooner than itself, and a mean of such ratios is at least 1 "
                "(their product is 1), so a ratio below 1 is neither seed noise nor the skew "
                "of a ratio of noisy times.",
            ),
            requires=_CONVERGED,
            reference={"*": "< 1: the ViT has no warm-up, the CNN ~4 epochs on MNIST (Sec. 4)"},
        ),
        Check(
            "gap_tracks_order",
            "reported",
            "Spearman rho between tau_c and the per-class gap I(F;Y=c) - mu_c = I(F;Y=c|L) "
            "of the CNN at mid-training, from Miller-Madow corrected per-class terms (the "
            "plug-in conditional terms are strongly biased at a few hundred images per class); "
            "per seed, then the mean.",
        ),
        Check(
            "cnn_warmup",
            "reported",
            "SGD steps until the CNN's test accuracy first reaches 1.5 x chance (a net that "
            "predicts one class scores about chance): the end of its warm-up.",
            reference={"mnist": "~4 of 50 epochs at lr 1e-3 (Sec. 4)"},
        ),
        Check(
            "vit_warmup",
            "reported",
            "The same for the ViT.",
            reference={"*": "no warm-up (Sec. 4)"},
        ),
        Check(
            "recall_order_agreement",
            "reported",
            "Spearman rho between the CNN's seed-mean tau_c by MI and by recall.",
        ),
        Check("final_accuracy_linear", "reported", "Final test accuracy of the linear model."),
        Check("final_accuracy_cnn", "reported", "Final test accuracy of the CNN."),
        Check("final_accuracy_vit", "reported", "Final test accuracy of the ViT."),
    ),
)
