"""What each claim says, where in its paper, and what each statistic measures (CLAIMS.md).

The report reads this catalogue to explain a claim even before it has been run: the
paper, the claim in one line and in one paragraph with the figure or equation it rests
on, and per statistic what it measures and which outcome would count against the claim.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class StatisticInfo:
    """One statistic of a claim: what it measures, its criterion, what would falsify it."""

    name: str
    measures: str
    criterion: str
    falsified_by: str
    asserted: bool = True


@dataclasses.dataclass(frozen=True)
class ClaimInfo:
    """A claim: its paper, one-line statement, one paragraph and its statistics."""

    id: str
    authors: str
    year: str
    title: str
    claim: str
    paragraph: str
    reference: str
    statistics: tuple[StatisticInfo, ...]
    shows: str = ""

    @property
    def paper(self) -> str:
        """'Authors (year)' for tables."""
        return f"{self.authors} ({self.year})" if self.year else self.authors

    def statistic(self, name: str) -> StatisticInfo | None:
        """The catalogue entry of statistic `name`, or None when it is not listed."""
        return next((s for s in self.statistics if s.name == name), None)


LINEAR_EARLY = ClaimInfo(
    id="linear_early",
    authors="Nakkiran, Kaplun, Kalimeris, Yang, Edelman, Zhang, Barak",
    year="2019",
    title="SGD on neural networks learns functions of increasing complexity",
    claim=(
        "Early in training almost all of what a CNN predicts about the label is explained "
        "by a linear classifier; later the network outgrows it but keeps what it explained."
    ),
    paragraph=(
        "Fix L, the best linear classifier on raw pixels, and follow the CNN F_t during "
        "plain SGD on a binary task. The performance correlation mu_Y(F_t;L) = I(F_t;Y) - "
        "I(F_t;Y|L) counts the bits about the label that F_t shares with L. The paper's "
        "Fig. 4 shows mu_Y tracking I(F_t;Y) almost exactly in the first phase of training "
        "(on binary MNIST up to about 0.35-0.4 bits), then levelling off near I(L;Y) while "
        "I(F_t;Y) keeps rising: SGD first finds the linear part of the function, then "
        "something more, and does not forget the linear part (Sec. 3, Fig. 1 for the "
        "synthetic sinusoid task)."
    ),
    reference="Sec. 3, Fig. 1 and Fig. 4",
    shows="I(F_t;Y) and mu_Y(F_t;L) against SGD steps, as in the paper's Fig. 4.",
    statistics=(
        StatisticInfo(
            "early_explained",
            "The smallest share mu_Y(F_t;L)/I(F_t;Y) over the early window, the checkpoints "
            "where I(F_t;Y) is between 20% and 80% of I(L;Y).",
            ">= 0.80",
            "A value below 0.80: early on, the CNN already knows things about the label "
            "that the linear classifier does not.",
        ),
        StatisticInfo(
            "control_gap",
            "early_explained minus the same statistic computed against a control classifier "
            "with L's per-class accuracy but errors drawn independently of L's.",
            ">= 0.20",
            "A gap below 0.20: any classifier of that accuracy would explain the CNN as "
            "well, so the statistic cannot tell a real linear model from chance.",
        ),
        StatisticInfo(
            "outgrows_linear",
            "I(F_T;Y) - mu_Y(F_T;L) at the last checkpoint, in bits: what the trained "
            "CNN knows about the label beyond the linear classifier.",
            ">= 0.05 bits",
            "Less than 0.05 bits: the CNN never became more than a linear classifier, so "
            "there is no second phase.",
        ),
        StatisticInfo(
            "retained",
            "mu_Y(F_T;L)/I(L;Y) at the last checkpoint: the share of the linear "
            "classifier's information that the trained CNN still carries (paper: ~0.97 "
            "MNIST, ~0.9 CIFAR-10).",
            ">= 0.85",
            "Below 0.85: the CNN forgot a substantial part of the linear function while "
            "learning more complex ones.",
        ),
        StatisticInfo(
            "retention_drop",
            "max_t mu_Y(F_t;L) - mu_Y(F_T;L): how far the shared information falls from its "
            "peak by the end; I(L;Y|F_T) and H(Y|F_T) are reported beside it because "
            "retention is trivial when F_T is near perfect.",
            "<= 0.10 I(L;Y)",
            "A drop larger than a tenth of I(L;Y): the linear part is learned and then lost.",
        ),
    ),
)

CLASS_ORDER = ClaimInfo(
    id="class_order",
    authors="Schouten & Toonen",
    year="2023",
    title="Increasing the complexity of ...",
    claim=(
        "With ten classes, SGD learns the classes in a consistent order; a ViT learns them "
        "in the same order as a CNN, but sooner and without a warm-up."
    ),
    paragraph=(
        "Schouten & Toonen split the mutual information per class (their eq. 3-4, "
        "I(F;Y=y) and I(F;Y=y|G), which sum over y to the totals) and follow a linear "
        "model, a CNN and a small ViT trained side by side on the same data order. On "
        "MNIST the digits 0 and 1 are learned first and 5 and 8 last; on CIFAR-10 frog, "
        "ship and plane come first. The CNN has a warm-up of a few epochs, the ViT none "
        "(Sec. 3.2-4.3, Fig. 2-5). Here the learning time tau_c of a class is the first "
        "checkpoint where its per-class term reaches half its own final value, which "
        "removes the class-frequency cap -p(c) log p(c) from the comparison."
    ),
    reference="Sec. 3.2-4.3, eq. 3-4, Fig. 2-5",
    shows="Per-class MI and mu curves (their Fig. 2-5) and the learned order of the classes.",
    statistics=(
        StatisticInfo(
            "order_consistency",
            "Kendall's W of the CNN's class ranks by tau_c across seeds (1 = every seed "
            "learns the classes in the same order), with a permutation p-value.",
            "W >= 0.5 and p < 0.05",
            "W below 0.5 or p >= 0.05: the order changes from seed to seed, so there is "
            "no consistent order to speak of.",
        ),
        StatisticInfo(
            "vit_cnn_agreement",
            "Spearman correlation between the seed-mean tau_c of the CNN and of the ViT "
            "over the classes.",
            ">= 0.5",
            "A correlation below 0.5: the two architectures learn the classes in different orders.",
        ),
        StatisticInfo(
            "vit_sooner",
            "Mean over classes of tau_c for the ViT divided by that for the CNN.",
            "< 1",
            "A ratio of 1 or more: the ViT is not faster than the CNN.",
        ),
        StatisticInfo(
            "gap_tracks_order",
            "Spearman correlation between tau_c and the per-class gap I(F;Y=c|L) at "
            "mid-training (how much of a class the model knows beyond the linear model).",
            "reported",
            "Reported only: it describes, and does not test, the relation.",
            asserted=False,
        ),
    ),
)

DEPTH_WAVE = ClaimInfo(
    id="depth_wave",
    authors="Pinson, Boland, Ginis, Pechenizkiy",
    year="",
    title="Exploring the development of complexity over depth and time",
    claim=(
        "Layers become effectively nonlinear from deep to shallow: networks whose first k "
        "layers are linear diverge from the full network earlier the larger k, and mean "
        "preactivations turn negative in deep layers first."
    ),
    paragraph=(
        "Take BaseNet (a ResNet without residual connections, conv-BN-ReLU layers) and "
        "variants in which the ReLUs of the first k conv layers are replaced by the "
        "identity, all from the same initial weights and data order. If the deep layers "
        "turn nonlinear first, a variant that keeps only the deep layers nonlinear "
        "follows the full network longer; the more shallow layers are linear, the sooner "
        "it falls behind. The paper shows this as a wave moving from deep to shallow "
        "layers over training, together with the mean preactivation of each layer "
        "turning negative deep-first (Sec. 2-3, Fig. 2, App. A)."
    ),
    reference="Sec. 2-3, Fig. 2, App. A",
    shows="The depth x time heat map with the divergence points of each variant (Fig. 2).",
    statistics=(
        StatisticInfo(
            "wave_monotone",
            "Spearman correlation between k (number of leading linear layers) and the "
            "divergence step d(k), the first step at which the variant's smoothed test "
            "accuracy falls below 95% of the full network's (never = ranked last).",
            "<= -0.8",
            "A correlation above -0.8: the divergence does not come earlier as more layers "
            "are linear, so there is no deep-to-shallow wave.",
        ),
        StatisticInfo(
            "linear_diverges_first",
            "Whether the fully linear network diverges within the first 10% of training.",
            "d(all) within the first 10% of steps",
            "The fully linear model keeping up with the network for longer: the nonlinear "
            "layers would not matter early.",
        ),
        StatisticInfo(
            "preact_deep_first",
            "Spearman correlation between layer index and the first step at which the "
            "layer's mean preactivation drops below -0.05, over the layers that do.",
            "<= -0.5",
            "A correlation above -0.5: preactivations do not turn negative deep-first.",
        ),
        StatisticInfo(
            "linear_layers_near_zero",
            "Mean |preactivation mean| of the identity layers of the fully linear model "
            "compared with that of the main model's ReLU layers at the end of training.",
            "linear < ReLU",
            "Linear layers drifting as far from zero as ReLU layers: the negative drift "
            "would not be tied to the nonlinearity.",
        ),
        StatisticInfo(
            "mu_baseline",
            "mu between two runs of the main model, beside mu between the main model and "
            "each partly-linear variant, as a baseline for how similar runs can be.",
            "reported",
            "Reported only.",
            asserted=False,
        ),
    ),
)

EG_SCALING = ClaimInfo(
    id="eg_scaling",
    authors="Goldt, Advani, Saxe, Krzakala, Zdeborová",
    year="2020",
    title="Dynamics of stochastic gradient descent for two-layer neural networks in the "
    "teacher-student setup",
    claim=(
        "Training only the first layer, the asymptotic generalisation error grows linearly "
        "with the excess hidden units L = K - M; the ODEs match SGD; training both layers "
        "it decreases with K."
    ),
    paragraph=(
        "A student two-layer network with K hidden units learns from a teacher with M "
        "units on Gaussian inputs, with label noise sigma. In the limit of large input "
        "dimension N, online SGD is described by ODEs for the order parameters Q, R, T "
        "(their Thm. 1, Fig. 1b). With the second layer fixed (soft committee machine), "
        "the final generalisation error at small learning rate eta is about "
        "eta sigma^2 L / (2 pi) above the M = K value (eq. 11, Fig. 2a): more "
        "parameters make the network generalise worse. For a linear network eq. 12 "
        "gives it in closed form; with both layers trained the error decreases with K "
        "instead (Sec. 3, Fig. 3, eq. 15)."
    ),
    reference="Thm. 1, eq. 11, 12, 15, Fig. 1b, 2a, 3",
    shows="eps_g(alpha), ODE against SGD (their Fig. 1b), and eps_g*/sigma^2 against L (Fig. 2a).",
    statistics=(
        StatisticInfo(
            "ode_matches_sgd",
            "Median over checkpoints of |log10 eps_SGD - log10 eps_ODE|, with the ODE started "
            "from the SGD run's initial order parameters, for K in {2, 4}; and whether the "
            "deviation shrinks from N to 4N (their Thm. 1).",
            "<= 0.10, and smaller at 4N",
            "A larger deviation, or one that does not shrink with N: the ODEs would not "
            "describe SGD.",
        ),
        StatisticInfo(
            "eg_linear_in_L",
            "Linear fit of the ODE asymptote eps_g*/sigma^2 against L (R^2 and slope), and "
            "the rank order of the SGD asymptotes.",
            "R^2 >= 0.99, slope within 15% of eta/(2 pi), SGD increasing",
            "A poor linear fit, a slope far from eta/(2 pi), or SGD errors that do not grow "
            "with L.",
        ),
        StatisticInfo(
            "linear_net_formula",
            "eps_g* of a linear student (g(x) = x) from the ODE and from SGD, against "
            "eta sigma^2 (L+M) / (4 - 2 eta (L+M)) (eq. 12).",
            "ODE within 5%, SGD within 20%",
            "A larger relative error: the closed form would not hold.",
        ),
        StatisticInfo(
            "relu_grows_with_L",
            "Slope and R^2 of the SGD asymptote of a ReLU soft committee machine against L.",
            "slope > 0, R^2 >= 0.8",
            "A flat or falling trend: the growth with L would be special to erf.",
        ),
        StatisticInfo(
            "both_layers_decrease",
            "Spearman correlation between K and eps_g* when both layers are trained (erf).",
            "<= -0.8",
            "A correlation above -0.8: training the second layer would not reverse the trend.",
        ),
    ),
)

ITERATIVE_LINEARISATION = ClaimInfo(
    id="iterative_linearisation",
    authors="Goldwaser & Ge",
    year="",
    title="Learning deep neural networks by iterative linearisation",
    claim=(
        "Refreshing the features (the Jacobian) only every K steps barely changes the result "
        "for K up to ~100; never refreshing them (fixed NTK features) is clearly worse."
    ),
    paragraph=(
        "Iterative linearisation trains f_lin(x) = f(x; theta_s) + J(theta_s)(theta - "
        "theta_s) by full-batch gradient descent and moves the linearisation point theta_s "
        "to the current parameters every K steps (Alg. 1). K = 1 is plain gradient "
        "descent; K = infinity is training in the fixed tangent-kernel features. The "
        "paper finds the test accuracy almost unchanged for K up to about 100, clearly "
        "worse at K = infinity, and the training loss falling in a staircase whose steps "
        "are the refreshes; with a large learning rate, large K diverges "
        "(Sec. 3-4, Fig. 1-2)."
    ),
    reference="Sec. 3-4, Alg. 1, Fig. 1-2",
    shows="Test accuracy against step for every K (their Fig. 1-2).",
    statistics=(
        StatisticInfo(
            "k1_is_gd",
            "Relative difference between the parameters after 20 steps of K = 1 and of "
            "plain gradient descent, in float64.",
            "<= 1e-6",
            "A larger difference: the implementation of the linearisation is wrong.",
        ),
        StatisticInfo(
            "k_insensitive",
            "|acc_K - acc_1| in percentage points of test accuracy for K in {10, 100}.",
            "<= 1.0 pp",
            "A larger gap: feature updates every K steps would cost accuracy.",
        ),
        StatisticInfo(
            "fixed_features_worse",
            "acc_1 - acc_inf in percentage points: what fixed features lose.",
            ">= 1.0 pp",
            "A smaller loss: feature learning would not matter at this scale.",
        ),
        StatisticInfo(
            "staircase",
            "For the largest finite K, the train-loss decrease over the last 10% of each "
            "K-window divided by that over its first 10%.",
            "< 0.25",
            "A ratio of 0.25 or more: the loss does not flatten between refreshes.",
        ),
        StatisticInfo(
            "large_lr_unstable",
            "Which K diverge at the larger learning rate.",
            "upward-closed, contains some K > 1, K = 1 converges",
            "Divergence at K = 1, or a set of diverging K that is not upward-closed.",
        ),
    ),
)

CATALOGUE: dict[str, ClaimInfo] = {
    c.id: c for c in (LINEAR_EARLY, CLASS_ORDER, DEPTH_WAVE, EG_SCALING, ITERATIVE_LINEARISATION)
}


def claim_info(claim_id: str) -> ClaimInfo:
    """The catalogue entry of a claim, or a bare one for an id the catalogue lacks."""
    if claim_id in CATALOGUE:
        return CATALOGUE[claim_id]
    return ClaimInfo(
        id=claim_id,
        authors="(not in the catalogue)",
        year="",
        title="",
        claim=f"Claim {claim_id!s} has results but no catalogue entry.",
        paragraph="",
        reference="",
        statistics=(),
    )
