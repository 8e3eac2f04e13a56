"""The claims checker against human-written sentences, and against planted errors.

Data: Amazon Science's semiPQA data-to-text files (one structured attribute and a sentence a
person wrote about it), read at run time from ``../shared/data/product-qa-amazon-science``
next to the repository, or from ``--data DIR``. Nothing from them is copied into the
repository.

For each split it measures, for :func:`oscar_gpt.grounding.check_claims` and for a naive
baseline (flag every number whose digits are not in the attribute's text):

* false flags: the share of human sentences with at least one unsupported claim (low is
  good; some of them are real mistakes in the human sentence);
* catches: the share of planted errors flagged *where they were planted* (an unsupported claim
  overlapping the altered span), per kind: a number changed (x2, +1 or one digit), a unit
  changed without converting the number (grams -> kilograms, inches -> centimeters), a
  material swapped for another. Each row gets at most one alteration of each kind, only when
  its sentence has something to alter, and only when the alteration is an error: a changed
  number that the attribute states anyway, a unit swap of the number 0 (0 kg is 0 lb), or a
  swap within one material's spellings and kinds (aluminium/aluminum, oak/wood) is skipped.

The checker was improved looking at the train split only; dev is reported as it comes.

Run from the repository root (no Django set-up needed)::

    python bench/bench_descriptions.py [--data DIR] [--split train dev] [--reasons 10]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from amazon_attributes import facts_from  # noqa: E402

from oscar_gpt.grounding import check_claims  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "product-qa-amazon-science"
FILES = {
    "train": "semipqa_data_to_text_train.tsv",
    "dev": "semipqa_data_to_text_dev.tsv",
}
SEED = 20240601

# -- planted errors ------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"(?<![\w.])[0-9]+(?:\.[0-9]+)?(?![\w.]?[0-9])")

#: Unit swaps within one dimension, the number left as it is.
# fmt: off
UNIT_SWAPS = {
    "kilograms": "grams", "kilogram": "gram", "grams": "kilograms", "gram": "kilogram",
    "kg": "g", "g": "kg", "milligrams": "grams", "mg": "g", "ounces": "pounds",
    "ounce": "pound", "oz": "lb", "pounds": "kilograms", "pound": "kilogram", "lbs": "kg",
    "lb": "kg", "carats": "grams",
    "inches": "centimeters", "inch": "centimeter", '"': " cm", "centimeters": "inches",
    "centimetres": "inches", "centimeter": "inch", "cm": "in", "millimeters": "centimeters",
    "millimetres": "centimetres", "millimeter": "centimeter", "mm": "cm", "feet": "meters",
    "foot": "meter", "ft": "m", "meters": "feet", "metres": "feet", "yards": "meters",
    "hours": "minutes", "hour": "minute", "hrs": "min", "minutes": "hours", "minute": "hour",
    "seconds": "minutes", "milliseconds": "seconds", "days": "weeks",
    "GB": "MB", "MB": "GB", "TB": "GB", "gigabytes": "megabytes", "megabytes": "gigabytes",
    "ml": "l", "milliliters": "liters", "millilitres": "litres", "liters": "milliliters",
    "fluid ounces": "milliliters", "gallons": "liters",
    "watts": "kilowatts", "volts": "millivolts", "amps": "milliamps",
    "milliampere hours": "ampere hours", "mAh": "Ah",
    "degrees celsius": "degrees fahrenheit", "degrees fahrenheit": "degrees celsius",
    "°C": "°F", "GHz": "MHz", "MHz": "GHz", "calories": "kilojoules",
}
# fmt: on
_UNIT_RE = re.compile(
    r"(?<=[0-9])( ?)("
    + "|".join(re.escape(unit) for unit in sorted(UNIT_SWAPS, key=len, reverse=True))
    + r")(?![A-Za-z])"
)

#: Materials to swap; the replacement is one the attribute does not mention.
# fmt: off
MATERIALS = (
    "stainless steel", "steel", "copper", "aluminum", "aluminium", "brass", "bronze",
    "titanium", "iron", "zinc", "silver", "gold", "leather", "cotton", "wool", "polyester",
    "nylon", "plastic", "glass", "ceramic", "wood", "bamboo", "silicone", "rubber", "fleece",
    "silk", "linen", "canvas", "mesh", "acrylic", "spandex", "oak", "walnut", "pine",
)
# fmt: on
#: Spellings and kinds of one material: swapping within a family plants no error.
# fmt: off
FAMILIES = {
    "aluminium": "aluminum", "stainless steel": "steel", "oak": "wood", "walnut": "wood",
    "pine": "wood", "bamboo": "wood",
}
# fmt: on
_MATERIAL_RE = re.compile(
    r"\b(" + "|".join(re.escape(m) for m in MATERIALS) + r")\b", re.IGNORECASE
)


@dataclass
class Planted:
    kind: str
    text: str
    start: int
    end: int


def _format_like(value: float, original: str) -> str:
    decimals = len(original.partition(".")[2])
    return f"{value:.{decimals}f}"


def _numbers_in(data: str) -> set[float]:
    return {float(m) for m in re.findall(r"[0-9]+(?:\.[0-9]+)?", data)}


def plant_number(text: str, data: str, rng: random.Random) -> Planted | None:
    matches = list(_NUMBER_RE.finditer(text))
    if not matches:
        return None
    match = rng.choice(matches)
    original = match.group()
    value = float(original)
    how = rng.choice(("x2", "+1", "digit"))
    if how == "x2" and value != 0:
        new = _format_like(value * 2, original)
    elif how == "+1":
        new = _format_like(value + 1, original)
    else:
        positions = [i for i, char in enumerate(original) if char.isdigit()]
        position = rng.choice(positions)
        choices = [d for d in "0123456789" if d != original[position]]
        if position == 0 and len(positions) > 1:
            choices = [d for d in choices if d != "0"]
        new = original[:position] + rng.choice(choices) + original[position + 1 :]
    if new == original or float(new) == value:
        new = _format_like(value + 1, original)
    if float(new) in _numbers_in(data):
        return None  # the "error" would be a number the attribute states: no error
    altered = text[: match.start()] + new + text[match.end() :]
    return Planted("number changed", altered, match.start(), match.start() + len(new))


def plant_unit(text: str, rng: random.Random) -> Planted | None:
    matches = list(_UNIT_RE.finditer(text))
    if not matches:
        return None
    match = rng.choice(matches)
    number = re.search(r"[0-9.]+\Z", text[: match.start()])
    if number is not None and number.group().strip(".") and float(number.group().strip(".")) == 0:
        return None  # 0 kg is 0 lb: no error
    new = match.group(1) + UNIT_SWAPS[match.group(2)]
    if match.group(2) == '"':
        new = UNIT_SWAPS['"']
    altered = text[: match.start()] + new + text[match.end() :]
    return Planted("unit changed", altered, match.start(), match.start() + len(new))


def plant_material(text: str, data: str, rng: random.Random) -> Planted | None:
    matches = list(_MATERIAL_RE.finditer(text))
    if not matches:
        return None
    match = rng.choice(matches)
    lowered = data.lower()
    family = FAMILIES.get(match.group().lower(), match.group().lower())
    choices = [
        m
        for m in MATERIALS
        if m not in lowered
        and m not in match.group().lower()
        and match.group().lower() not in m
        and FAMILIES.get(m, m) != family
        and m != family
    ]
    new = rng.choice(choices)
    altered = text[: match.start()] + new + text[match.end() :]
    return Planted("material swapped", altered, match.start(), match.start() + len(new))


# -- the two judges -----------------------------------------------------------------------


def checker_flags(text: str, facts) -> list[tuple[int, int, str, str]]:
    report = check_claims(text, facts)
    return [(c.start, c.end, c.kind, c.reason) for c in report.unsupported]


def baseline_flags(text: str, data: str) -> list[tuple[int, int, str, str]]:
    """Any number whose digits do not appear in the attribute's text."""
    return [
        (m.start(), m.end(), "number", "not in the data")
        for m in _NUMBER_RE.finditer(text)
        if m.group() not in data
    ]


def _overlaps(flags, start: int, end: int) -> bool:
    return any(s < end and start < e for s, e, _kind, _reason in flags)


# -- the run ------------------------------------------------------------------------------


@dataclass
class Tally:
    rows: int = 0
    flagged: Counter = field(default_factory=Counter)
    planted: Counter = field(default_factory=Counter)
    caught: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    seconds: float = 0.0
    checks: int = 0


_DIGITS_RE = re.compile(r"[0-9]+(?:[.,/][0-9]+)*")


def _reason_shape(kind: str, reason: str) -> str:
    detail = reason.partition(": ")[2]
    if " say " in detail:
        detail = detail.split(" say ")[0] + " say <fact>"
    return f"{kind}: {_DIGITS_RE.sub('N', detail)}"


def read_rows(path: Path) -> list[tuple[str, str]]:
    csv.field_size_limit(10_000_000)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        rows = [(row["data"] or "", row["text"] or "") for row in reader]
    return [(data, text) for data, text in rows if text.strip().lower() not in ("", "na", "n/a")]


def run_split(path: Path) -> Tally:
    rng = random.Random(SEED)
    tally = Tally()
    for data, text in read_rows(path):
        facts = facts_from(data)
        tally.rows += 1
        started = time.perf_counter()
        flags = checker_flags(text, facts)
        tally.seconds += time.perf_counter() - started
        tally.checks += 1
        if flags:
            tally.flagged["checker"] += 1
            for _start, _end, kind, reason in flags:
                shape = _reason_shape(kind, reason)
                tally.reasons[shape] += 1
                tally.examples.setdefault(shape, (reason, text))
        if baseline_flags(text, data):
            tally.flagged["baseline"] += 1
        plants = (
            plant_number(text, data, rng),
            plant_unit(text, rng),
            plant_material(text, data, rng),
        )
        for planted in plants:
            if planted is None:
                continue
            tally.planted[planted.kind] += 1
            started = time.perf_counter()
            altered_flags = checker_flags(planted.text, facts)
            tally.seconds += time.perf_counter() - started
            tally.checks += 1
            if _overlaps(altered_flags, planted.start, planted.end):
                tally.caught[("checker", planted.kind)] += 1
            if _overlaps(baseline_flags(planted.text, data), planted.start, planted.end):
                tally.caught[("baseline", planted.kind)] += 1
    return tally


def _cell(count: int, total: int) -> str:
    share = 100.0 * count / total if total else 0.0
    return f"{count:>5}/{total:<5} {share:5.1f}%"


def print_table(name: str, tally: Tally) -> None:
    print(f"\n{name}: {tally.rows} rows (sentences 'na' left out)")
    print(f"  {'':34} {'checker':>19}   {'naive baseline':>19}")
    print(
        f"  {'false flags (human sentences)':34} "
        f"{_cell(tally.flagged['checker'], tally.rows)}   "
        f"{_cell(tally.flagged['baseline'], tally.rows)}"
    )
    total_planted = sum(tally.planted.values())
    for kind in ("number changed", "unit changed", "material swapped"):
        planted = tally.planted[kind]
        print(
            f"  {'caught: ' + kind:34} "
            f"{_cell(tally.caught[('checker', kind)], planted)}   "
            f"{_cell(tally.caught[('baseline', kind)], planted)}"
        )
    for judge in ("checker", "baseline"):
        tally.caught[(judge, "all")] = sum(tally.caught[(judge, kind)] for kind in tally.planted)
    print(
        f"  {'caught: all planted errors':34} "
        f"{_cell(tally.caught[('checker', 'all')], total_planted)}   "
        f"{_cell(tally.caught[('baseline', 'all')], total_planted)}"
    )
    if tally.checks:
        print(f"  checker time: {1e3 * tally.seconds / tally.checks:.3f} ms per sentence")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the TSVs")
    parser.add_argument("--split", nargs="+", default=["train", "dev"], choices=sorted(FILES))
    parser.add_argument(
        "--reasons", type=int, default=10, help="most common false-flag reasons shown (train)"
    )
    args = parser.parse_args(argv)
    missing = [args.data / FILES[split] for split in args.split]
    missing = [path for path in missing if not path.is_file()]
    if missing:
        print(
            "bench_descriptions: data not found: "
            + ", ".join(str(path) for path in missing)
            + "\nPass --data DIR, the folder holding Amazon Science's semiPQA "
            "data-to-text TSV files.",
            file=sys.stderr,
        )
        return 2
    print(f"claims checker on semiPQA data-to-text (seed {SEED})")
    for split in args.split:
        tally = run_split(args.data / FILES[split])
        print_table(split, tally)
        if split == "train" and args.reasons:
            print(f"\n  {args.reasons} most common reasons for flags on human sentences:")
            for shape, count in tally.reasons.most_common(args.reasons):
                reason, _text = tally.examples[shape]
                print(f"  {count:>5}  {shape}   e.g. {reason[:70]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
