"""depth_wave's spec (shared/CLAIMS.md, depth_wave; Pinson et al., Sec. 2-3, Fig. 1-2, App. A):
the texts, checks, thresholds, controls and preconditions, and the not-reproduced entries."""

from __future__ import annotations

from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, NotReproduced, Paper

_PAPER_D = (
    "d(k) in batches of 40k: all 0, 15 0, 13 3000, 11 9000, 9 10000, 7 13000, "
    "5 and 3 never (their Fig. 1, ImageNet)"
)

_TRIED = (
    "narrow BaseNet (3x3 stem, stages of widths 8/16/32, 10 conv-BN-act layers), k in "
    "{0,2,4,6,8,all} as one grouped model per seed (same init and data order), SGD momentum "
    "0.9, lr 0.1 decayed 10x on a validation-loss plateau (patience 5 evaluations), 14 px "
    "10-class Fashion-MNIST with random contrast-polarity flips (synthetic), 41 evaluations: "
    "batch 256 for 160 steps (3 seeds, this case) and for 240 steps (2 seeds); batch 64 for "
    "1,200 steps (2 seeds). Before `headroom` existed (issue 14): 28 px 10-class Fashion-MNIST, "
    "width 16-64, batch 128, 1,500 steps; Fashion-MNIST T-shirt/pullover/coat/shirt at 14 px, "
    "batch 64, lr 0.1 for 200 steps and lr 0.025 for 800 steps. Real 10-class Fashion-MNIST "
    "(12k and 60k training images, width 8 and 16, 10 and 13 layers) and MNIST (10k subset) "
    "at 14 px failed `headroom` in this budget"
)

SPEC = ClaimSpec(
    paper=Paper(
        authors="Pinson, Boland, Ginis, Pechenizkiy",
        year="",
        title="Exploring the development of complexity over depth and time",
        reference="Sec. 2-3, Fig. 1-2, App. A",
    ),
    claim=(
        "Layers become effectively nonlinear from deep to shallow: networks whose first k "
        "layers are linear diverge from the full network earlier the larger k, and mean "
        "preactivations turn negative in deep layers first."
    ),
    paragraph=(
        "Take BaseNet (a ResNet v1 without residual connections, conv-BN-ReLU layers) and "
        "variants in which the ReLUs of the first k conv layers are replaced by the identity, "
        "all from the same initial weights and data order. If the deep layers turn nonlinear "
        "first, a variant that keeps only the deep layers nonlinear follows the full network "
        "longer; the more shallow layers are linear, the sooner it falls behind. The paper "
        "shows this as a wave moving from deep to shallow layers over training, with each "
        "layer's mean preactivation turning negative deep-first (Sec. 2-3, Fig. 1-2, App. A). "
        "`linear_layers_near_zero` is partly structural: the BN shift of an identity layer "
        "followed by a conv and a train-mode BN gets no gradient (the next BN re-centres it), "
        "so an identity layer's mean stays near zero whatever SGD does."
    ),
    shows=(
        "Accuracy of the main and partly-linear models with their divergence points (Fig. 1) "
        "and the depth x time heat map of mean preactivations with t_neg and d(k) (Fig. 2)."
    ),
    checks=(
        Check(
            "headroom",
            "precondition",
            "0.95 x the main model's final test accuracy - 2 points - the test accuracy of "
            "logistic regression on the same inputs (both shown beside it): where it is "
            "negative no linear model can cross the divergence line, so d(k) is noise.",
            Criterion(">=", 0.0),
        ),
        Check(
            "accuracy_logistic",
            "reported",
            "Test accuracy of logistic regression (L-BFGS "
            "to convergence, weight decay 1e-4) on the same inputs.",
        ),
        Check("final_accuracy_main", "reported", "Final test accuracy of the main model."),
        Check(
            "wave_monotone",
            "statistic",
            "Spearman rho(k, d(k)) over k in {2..all} (k = 0, the main model, left out): d(k) "
            "is the first evaluation where the smoothed seed-mean accuracy of variant k is "
            "below 0.95 x the main model's, among those where the main model is at least "
            "2 x chance (Savitzky-Golay, window 5, order 2); never = ranked last.",
            Criterion("<=", -0.8),
            "rho above -0.8: more linear layers do not make a variant fall behind sooner, so "
            "there is no deep-to-shallow wave.",
            control=Control(
                "wave_monotone_control",
                Criterion("<", 0.5),
                "The share of shuffles of the d(k) values over k (all 120 for five variants) "
                "whose rho passes -0.8: fewer than half may.",
            ),
            requires=("headroom",),
            reference={"imagenet": _PAPER_D},
        ),
        Check(
            "linear_diverges_first",
            "statistic",
            "d(all) as a share of the run: the fully linear model falls behind at once.",
            Criterion("<=", 0.10),
            "A later d(all): the network's nonlinearity would not matter early.",
            control=Control(
                "linear_diverges_first_control",
                Criterion(">", 0.10),
                "d between two runs of the main model (the mean over every ordered pair of "
                "seeds): seed noise alone must not cross the line in the first 10%.",
            ),
            requires=("headroom",),
            reference={"imagenet": "0: d(all) = 0 of 40k batches (their Fig. 1)"},
        ),
        Check(
            "layers_turn",
            "precondition",
            "The fewest layers of the main model, over seeds, whose mean preactivation goes "
            "below -0.05 after step 0: a rank correlation over fewer layers means nothing.",
            Criterion(">=", 4),
        ),
        Check(
            "preact_deep_first",
            "statistic",
            "Spearman rho(l, t_neg(l)) over the layers that go negative, t_neg(l) the first "
            "evaluation after step 0 where the main model's layer-l mean preactivation (BN "
            "output, 500 fixed test images, eval mode) is below -0.05; mean over seeds.",
            Criterion("<=", -0.5),
            "rho above -0.5: the preactivations do not turn negative deep layers first.",
            control=Control(
                "preact_deep_first_control",
                Criterion("<", 0.5),
                "The share of 1,000 seeded shuffles of each seed's layer order whose seed-mean rho "
                "passes -0.5: fewer than half may.",
            ),
            requires=("layers_turn",),
            reference={"imagenet": "deep layers' means turn negative first (their Fig. 2)"},
        ),
        Check(
            "linear_layers_near_zero",
            "statistic",
            "Final mean |preactivation mean| over the identity layers of the fully linear "
            "model / that over the ReLU layers of the main model (partly structural, see "
            "above).",
            Criterion("<", 1.0),
            "A ratio of 1 or more: identity layers drift from zero as far as ReLU layers.",
            control=Control(
                "linear_layers_near_zero_control",
                Criterion(">=", 1.0),
                "The same ratio between ReLU layers: those of each partly-linear variant "
                "(layers k and deeper) over the main model's same layers, mean over k; with "
                "no identity layer in it, it must not fall below 1.",
            ),
            reference={"*": "identity layers keep their means near zero (Sec. 3)"},
        ),
        Check(
            "mu_baseline",
            "reported",
            "mu_Y(M_i;M_j) in bits between final main models of different seeds, with "
            "mu_Y(M;P_k) between the main model and each variant beside it (same seed).",
        ),
    ),
    not_reproduced=(
        NotReproduced(
            "wave_monotone",
            "fast",
            "fashion_mnist_polarity",
            "On this task a partly-linear variant with a few ReLU layers left at the deep end "
            "ends as accurate as the main model, so the variants with k up to 8 of 10 layers "
            "cross the divergence line, if at all, only in the first evaluations, while every "
            "curve still rises steeply and two seeds of the main model cross it as well; d(k) "
            "then orders the variants by early noise, not by depth. The paper's intermediate "
            "divergence points come from ImageNet, 17 layers and 40k batches.",
            _TRIED,
        ),
        NotReproduced(
            "preact_deep_first",
            "fast",
            "fashion_mnist_polarity",
            "In the short fast runs the layer means cross the negative line first in the "
            "first evaluations, where the BN running statistics still lag the weights, and "
            "in no depth order; the later, slow drift of the BN shifts that the paper's "
            "Fig. 2 shows over 40k batches has no time to develop.",
            _TRIED,
        ),
    ),
)
