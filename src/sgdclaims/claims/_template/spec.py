"""my_claim's spec (shared/CLAIMS.md, my_claim): the paper, the claim in words, every check
with its threshold, control and preconditions, and the cases declared not reproduced. The
claim test, the report and the README read it; nothing else holds a threshold."""

from __future__ import annotations

from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Paper

SPEC = ClaimSpec(
    paper=Paper("Author & Author", "YEAR", "The paper's title", "Sec. N, Fig. M"),
    claim="The my_claim score is high.",
    paragraph=(
        "A synthetic claim that exercises the harness: replace this with the paper's claim in "
        "a paragraph, what it means and where the paper makes it."
    ),
    shows="The per-seed scores.",
    checks=(
        Check(
            "score",
            "statistic",
            "The score.",
            Criterion(">=", 0.8),
            "A low score.",
            control=Control(
                "score_control",
                Criterion("<", 0.8),
                "The same score on a null run (the effect removed): it must miss.",
            ),
            reference={"*": "~0.97 (Fig. 1)"},
        ),
        Check("ready", "precondition", "Whether the level is high.", Criterion(">=", 1.0)),
        Check(
            "gated",
            "statistic",
            "The score again.",
            Criterion(">=", 0.8),
            "A low score.",
            control=Control("gated_control", Criterion("<", 0.8), "The null run's score."),
            requires=("ready",),
        ),
        Check("side", "reported", "A reported number."),
        Check(
            "alive",
            "harness",
            "1 when every seed trained: finite loss, two classes predicted and accuracy above "
            "chance + 5 pp at the end (shared/CLAIMS.md, Common ground).",
            Criterion(">=", 1.0),
        ),
    ),
    not_reproduced=(),
)
