"""Verdicts of whole cases and claims, and the claim-level summary in words (how many cases
were tested and supported, not reproduced or not testable here, and which statistics)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

#: verdicts of a whole claim (or case), most serious first
CLAIM_VERDICTS = (
    "error",
    "failed",
    "not reproduced",
    "not testable here",
    "partly supported",
    "supported",
    "skipped",
    "not run",
)
#: verdicts that say something about the claim (a statistic that ran)
FINDINGS = ("supported", "not reproduced", "not testable here")
#: kinds of checks whose verdicts make up a case's or claim's verdict
DECIDING = ("statistic", "harness")
#: how the summary says a case's verdict where the verdict itself reads badly
CASE_WORDS = {"error": "with an error", "failed": "failed"}


def claim_verdict(verdicts: Iterable[str]) -> str:
    """One verdict for a claim (or case) from those of its asserted statistics and harness
    checks."""
    seen = list(verdicts)
    if not seen:
        return "not run"
    for worst in ("error", "failed"):
        if worst in seen:
            return worst
    ran = [v for v in seen if v in FINDINGS]
    if not ran:
        return "skipped"
    if all(v == "supported" for v in ran):
        return "supported"
    if "supported" in ran:
        return "partly supported"
    return "not reproduced" if "not reproduced" in ran else "not testable here"


class Checked(Protocol):
    """What the summary reads of one claim test (report.items.EntryView has it)."""

    statistic: str
    kind: str
    verdict: str
    reason: str
    label: str
    case: tuple[int, str, str]


def case_verdicts(entries: Sequence[Checked]) -> dict[tuple[int, str, str], str]:
    """The verdict of every case of a claim, from its deciding tests (sorted by case)."""
    cases: dict[tuple[int, str, str], list[str]] = {}
    for e in entries:
        verdicts = cases.setdefault(e.case, [])
        if e.kind in DECIDING:
            verdicts.append(e.verdict)
    return {case: claim_verdict(vs) for case, vs in sorted(cases.items())}


def plural(n: int, word: str) -> str:
    """'1 case', '3 cases'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def cases_sentence(entries: Sequence[Checked]) -> str:
    """'Of 3 cases run, 1 supported, 1 not reproduced and 1 not testable here; 1 case
    skipped (needs --gpu).' for the index and the claim page."""
    verdicts = case_verdicts(entries)
    ran = [v for v in verdicts.values() if v not in ("skipped", "not run")]
    skipped = [c for c, v in verdicts.items() if v == "skipped"]
    parts = []
    if ran:
        counts = [f"{n} {CASE_WORDS.get(v, v)}" for v in CLAIM_VERDICTS if (n := ran.count(v))]
        parts.append(f"Of {plural(len(ran), 'case')} run, {join_words(counts)}")
    else:
        parts.append("No case ran")
    if skipped:
        reasons = sorted({e.reason for e in entries if e.case in skipped and e.reason})
        why = f" ({'; '.join(reasons)})" if reasons else ""
        parts.append(f"{plural(len(skipped), 'case')} skipped{why}")
    return "; ".join(parts) + "."


def findings(entries: Sequence[Checked], spec: Any = None) -> list[dict[str, Any]]:
    """The claim's findings by verdict, most serious first: {verdict, statistics: [(name,
    [case labels])], reasons: [text]} for asserted statistics and failed harness checks."""
    out = []
    for verdict in ("error", "failed", "not reproduced", "not testable here", "supported"):
        tests = [
            e
            for e in entries
            if e.verdict == verdict and (e.kind == "statistic" or verdict in ("error", "failed"))
        ]
        if not tests:
            continue
        names: dict[str, list[str]] = {}
        for e in tests:
            names.setdefault(e.statistic, []).append(e.label)
        reasons = sorted({why(e, spec) for e in tests if verdict != "supported"} - {""})
        out.append(
            {
                "verdict": verdict,
                "statistics": [(n, sorted(set(labels))) for n, labels in names.items()],
                "reasons": reasons,
            }
        )
    return out


def why(entry: Checked, spec: Any = None) -> str:
    """The reason of a test's verdict, in words: the failed precondition of a 'not testable
    here', the registry's reason and what was tried for a 'not reproduced'."""
    reason = entry.reason
    if entry.verdict == "not reproduced" and spec is not None:
        scale, dataset = entry.case[1], entry.case[2]
        miss = spec.registered_miss(entry.statistic, scale, dataset)
        if miss is not None:
            return f"not reproduced: {miss.reason} (tried: {miss.tried})"
    return reason


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
