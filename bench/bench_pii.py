"""The personal-data scrubber against the labelled cases in ``pii_cases.py``.

For each kind it prints:

* recall: the share of labelled pieces whose every letter and digit lies inside a finding of
  that kind (a half-scrubbed phone number is a leak, so partial cover counts as a miss);
* precision: the share of findings that overlap a labelled piece of their kind;
* exact: findings whose span is exactly the labelled one (informative; spans may differ by
  a town or a bracket and still scrub the data).

Then the false positives on look-alikes (texts with no personal data: SKUs, barcodes, prices,
order numbers, model numbers, dimensions, dates, product names), each offending case listed,
the misses, and the time taken on a 100 kB text.

Run from the repository root (no Django set-up needed)::

    python bench/bench_pii.py [--show-misses 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pii_cases import CASES, Case  # noqa: E402

from oscar_gpt.privacy import KINDS, Finding, find_personal_data, scrub  # noqa: E402
from oscar_gpt.privacy.numbers import iban_ok, luhn_ok  # noqa: E402

#: Look-alike categories the goal allows no false positive in.
NUMBER_LOOKALIKES = ("sku", "barcode", "price", "order")
RECALL_GOAL = 0.99


def check_labels(cases: list[Case]) -> list[str]:
    """Labels that cannot be right: a card failing Luhn, an IBAN failing mod 97."""
    problems = []
    for case in cases:
        for span in case.spans:
            digits = "".join(ch for ch in span.text if ch.isdigit())
            if span.kind == "card" and not luhn_ok(digits):
                problems.append(f"card label fails Luhn: {span.text!r}")
            compact = "".join(ch for ch in span.text if ch.isalnum())
            if span.kind == "iban" and not iban_ok(compact):
                problems.append(f"IBAN label fails mod 97: {span.text!r}")
    return problems


def covered(case: Case, span, findings: list[Finding]) -> bool:
    for index in range(span.start, span.end):
        if not case.text[index].isalnum():
            continue
        if not any(f.kind == span.kind and f.start <= index < f.end for f in findings):
            return False
    return True


def describe(case: Case, findings: list[Finding]) -> str:
    found = ", ".join(f"{f.kind}:{case.text[f.start : f.end]!r}" for f in findings) or "nothing"
    text = case.text.replace("\n", "\\n")
    if len(text) > 110:
        text = text[:107] + "..."
    return f"{text!r}\n        found {found}"


@dataclass
class Score:
    """Counts over a set of cases."""

    expected: Counter = field(default_factory=Counter)
    caught: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    true_found: Counter = field(default_factory=Counter)
    exact: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    lookalike_fp: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lookalike_total: Counter = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.expected.values()))

    @property
    def precision(self) -> float:
        return sum(self.true_found.values()) / max(1, sum(self.found.values()))

    def lookalike_fp_count(self, categories=None) -> int:
        return sum(
            len(cases)
            for category, cases in self.lookalike_fp.items()
            if categories is None or category in categories
        )


def evaluate(cases: list[Case]) -> Score:
    score = Score()
    for case in cases:
        findings = find_personal_data(
            case.text, names=case.names, region=case.region, language=case.language
        )
        if case.category:
            score.lookalike_total[case.category] += 1
            if findings:
                score.lookalike_fp[case.category].append(
                    f"[{case.split}] " + describe(case, findings)
                )
            for finding in findings:
                score.found[finding.kind] += 1
            continue
        for span in case.spans:
            score.expected[span.kind] += 1
            if covered(case, span, findings):
                score.caught[span.kind] += 1
            else:
                score.misses.append(
                    f"[{case.split}] [{span.kind}] {span.text!r} in {describe(case, findings)}"
                )
        for finding in findings:
            score.found[finding.kind] += 1
            matching = [
                s
                for s in case.spans
                if s.kind == finding.kind and s.start < finding.end and finding.start < s.end
            ]
            if matching:
                score.true_found[finding.kind] += 1
                if any(s.start == finding.start and s.end == finding.end for s in matching):
                    score.exact[finding.kind] += 1
            else:
                score.false_positives.append(
                    f"[{case.split}] [{finding.kind}] {describe(case, [finding])}"
                )
    return score


def print_table(score: Score) -> None:
    print(
        f"{'kind':<16}{'labelled':>9}{'caught':>8}{'recall':>8}{'found':>7}{'true':>6}"
        f"{'precision':>10}{'exact':>7}"
    )
    for kind in KINDS:
        if not score.expected[kind] and not score.found[kind]:
            continue
        expected, found = score.expected[kind], score.found[kind]
        recall = score.caught[kind] / expected if expected else float("nan")
        precision = score.true_found[kind] / found if found else float("nan")
        print(
            f"{kind:<16}{expected:>9}{score.caught[kind]:>8}{recall:>8.1%}{found:>7}"
            f"{score.true_found[kind]:>6}{precision:>10.1%}{score.exact[kind]:>7}"
        )
    print(
        f"{'all':<16}{sum(score.expected.values()):>9}{sum(score.caught.values()):>8}"
        f"{score.recall:>8.1%}{sum(score.found.values()):>7}{sum(score.true_found.values()):>6}"
        f"{score.precision:>10.1%}{sum(score.exact.values()):>7}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-misses", type=int, default=50)
    args = parser.parse_args()

    problems = check_labels(CASES)
    for problem in problems:
        print("LABEL PROBLEM:", problem)

    started = time.perf_counter()
    score = evaluate(CASES)
    elapsed = time.perf_counter() - started

    positives = sum(1 for case in CASES if not case.category)
    languages = Counter(case.language for case in CASES)
    print(
        f"{len(CASES)} cases: {positives} with personal data ({sum(score.expected.values())} "
        f"pieces), {len(CASES) - positives} look-alikes; languages "
        + ", ".join(f"{lang} {count}" for lang, count in sorted(languages.items()))
    )
    print()
    print_table(score)
    print()
    for split in ("dev", "holdout", "fresh"):
        part = evaluate([case for case in CASES if case.split == split])
        print(
            f"{split:<8} {sum(1 for c in CASES if c.split == split):>4} cases: "
            f"recall {part.recall:.1%} ({sum(part.caught.values())}/"
            f"{sum(part.expected.values())}), precision {part.precision:.1%}, look-alikes "
            f"with a false positive {part.lookalike_fp_count()}/"
            f"{sum(part.lookalike_total.values())}"
        )

    print()
    print("false positives on look-alikes (cases with any finding / cases):")
    for category in sorted(score.lookalike_total):
        offending = score.lookalike_fp[category]
        print(f"  {category:<10} {len(offending):>3} / {score.lookalike_total[category]}")
        for line in offending:
            print(f"      {line}")
    if score.false_positives:
        print(f"\nfalse positives in cases with personal data ({len(score.false_positives)}):")
        for line in score.false_positives:
            print(f"  {line}")
    if score.misses:
        print(f"\nmisses ({len(score.misses)}):")
        for line in score.misses[: args.show_misses]:
            print(f"  {line}")

    sample = " ".join(case.text for case in CASES)
    big = (sample * (100_000 // len(sample) + 1))[:100_000]
    tick = time.perf_counter()
    result = scrub(big)
    big_time = time.perf_counter() - tick
    print(
        f"\ntime: {elapsed * 1000 / len(CASES):.2f} ms per case; a 100 kB text of these cases "
        f"in {big_time:.2f} s ({len(result.findings)} findings)"
    )

    number_fp = score.lookalike_fp_count(NUMBER_LOOKALIKES)
    met = score.recall >= RECALL_GOAL and number_fp == 0 and not problems
    print(
        f"goal: {RECALL_GOAL:.0%} recall with no false positives on SKUs and prices "
        f"(recall {score.recall:.1%}; look-alike false positives on SKUs, barcodes, prices, "
        f"order numbers: {number_fp}): {'MET' if met else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
