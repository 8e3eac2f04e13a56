"""Check generated copy against the product's own facts, claim by claim.

The rules, in the order they take the text (an earlier rule's span is not read again):

1. Certifications and absolute claims written with signs: "IP67", "ISO 9001", "#1", "CE".
2. Vocabulary terms (:mod:`.vocabulary`): materials, colours, absolute claims
   ("waterproof", "best", "guaranteed"), certifications ("BPA-free", "vegan"). A term is
   supported when a fact mentions it or something that implies it ("stainless steel" supports
   "steel" and "metal"); a fact that says the opposite ("Waterproof: False", "not waterproof")
   contradicts it. Absolute claims that the text negates ("not waterproof") promise nothing.
3. Boolean facts by name: "wireless" in the text when a fact says "Wireless: False".
4. Codes mixing letters and digits ("WH-1000XM5", "H.264", "4K"): supported when a fact
   contains them (case, spaces and punctuation ignored).
5. Numbers. With a unit, a quantity is supported by a fact of the same dimension whose value
   is equal after conversion, within the precision the text used: half its last digit
   (exclusive), capped at 5 %; when the fact is in another unit, never tighter than 0.5 %
   (the rounding of a conversion). So "0.25 kg" matches 250 g and "30 cm" matches 12 in, but
   "20 inches" does not match 20.5 in, "533 ml" does not match 532 ml and "2 kg" does not
   match 1.6 kg. A hedge ("about", "approx.", "~") allows 10 %: "approximately 30 h" matches
   29.5 h, "30 h" does not. A bound ("more than 20 hours", "under 2 kg", "6+ months") is
   supported by a fact value that satisfies it, its end included; a fact that is itself a
   bound ("less than 36 months") is only restated, never loosened.
   A fact whose whole value is one number without a unit ("Weight: 250") supports a quantity
   of any dimension its name does not rule out ("250 g", not "250 ml"), unless another fact
   gives that number in another unit of the same dimension: "34 cm" when a fact says 34 in is
   a unit mistake. Bare numbers and counts must equal a number in some fact (or the length of
   a multi-option fact: "two colours"); after a word that a fact puts before a number
   ("Bluetooth 5.0" when a fact says "Bluetooth 5.3") they must equal one of that word's
   numbers.

No model calls, no database: facts arrive as plain :class:`Fact` values.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..translation import gettext_if_configured as _
from .quantities import WORD_RE, Atom, lookup_unit, scan, word_before, words_of
from .units import SYMBOLS, Unit, to_base
from .vocabulary import CONCEPTS, TERM_KINDS, Concept, Language, language_for

#: Claim kinds, for filtering and display.
KINDS = (
    "number",  # a bare number, a code ("WH-1000XM5"), or a quantity that is no size
    "percentage",
    "dimension",  # a length or area, or a size "45 x 30 cm"
    "count",  # "3 brush heads", "pack of 3", "two colours"
    "material",
    "colour",
    "absolute",  # "waterproof", "best", "guaranteed", "plastic-free"
    "certification",  # "CE", "IP67", "BPA-free", "vegan"
    "attribute",  # a boolean fact's name, or a number after an attribute ("Bluetooth 5.0")
)

#: Relative tolerance after a hedge ("about 30 hours").
HEDGE_TOLERANCE = 0.10
#: Against a fact in another unit, tolerance is never tighter than this (conversions round).
FLOOR_TOLERANCE = 0.005
#: Nor looser than this, however coarse the text's last digit ("2 kg" is not 1.6 kg).
CAP_TOLERANCE = 0.05


# Tuples, not unions: ``int | float`` builds a new object each time it is evaluated.
_NUMBERS = (int, float, Decimal)
_DATES = (date, datetime)
_COLLECTIONS = (list, tuple, set, frozenset)



@dataclass(frozen=True)
class Fact:
    """One thing the shop knows about the product, as plain data."""

    #: "Battery life", "Weight", "Material", "Colour", "Wireless", or "Title", "Category".
    name: str
    #: str | int | float | Decimal | bool | date | list[str] (a multi-option attribute).
    value: Any
    #: "hours", "g", "in", "mm", "GB", "%" ...; "" when none or when the name says it.
    unit: str = ""
    #: Where it comes from: "attribute", "title", "category", "description", "review" ...
    source: str = "attribute"


@dataclass
class Claim:
    """A checkable statement in the text, and whether the facts support it."""

    start: int
    end: int
    text: str
    #: One of :data:`KINDS`.
    kind: str
    supported: bool
    #: Human-readable, e.g. "50 hours: the facts say Battery life 30 hours".
    reason: str
    #: The supporting or contradicted fact, when there is one.
    fact: Fact | None = None


@dataclass
class ClaimsReport:
    """Every claim found in one text; store it with ``as_dict()`` on the draft."""

    claims: list[Claim] = field(default_factory=list)

    @property
    def unsupported(self) -> list[Claim]:
        return [claim for claim in self.claims if not claim.supported]

    @property
    def ok(self) -> bool:
        """Nothing in the text goes beyond the facts."""
        return not any(not claim.supported for claim in self.claims)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``{"ok": bool, "claims": [{start, end, text, ...}]}``."""
        return {
            "ok": self.ok,
            "claims": [
                {
                    "start": claim.start,
                    "end": claim.end,
                    "text": claim.text,
                    "kind": claim.kind,
                    "supported": claim.supported,
                    "reason": claim.reason,
                    "fact": _fact_as_dict(claim.fact) if claim.fact is not None else None,
                }
                for claim in self.claims
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimsReport:
        """The report back from ``as_dict()`` (fact values come back as JSON gave them)."""
        claims = []
        for item in data.get("claims", ()):
            fact = item.get("fact")
            claims.append(
                Claim(
                    start=item["start"],
                    end=item["end"],
                    text=item["text"],
                    kind=item["kind"],
                    supported=item["supported"],
                    reason=item["reason"],
                    fact=Fact(fact["name"], fact["value"], fact["unit"], fact["source"])
                    if fact
                    else None,
                )
            )
        return cls(claims)

    def highlight(self, text: str) -> SafeString:
        """``text`` as HTML: escaped, unsupported claims in ``<mark title="reason">``."""
        parts: list[str] = []
        position = 0
        for claim in sorted(self.unsupported, key=lambda c: c.start):
            if claim.start < position or claim.end > len(text):
                continue
            parts.append(escape(text[position : claim.start]))
            parts.append(
                f'<mark class="oscar-gpt-unsupported" title="{escape(claim.reason)}">'
                f"{escape(text[claim.start : claim.end])}</mark>"
            )
            position = claim.end
        parts.append(escape(text[position:]))
        return mark_safe("".join(parts))  # every piece is escaped above


def _json_value(value: Any) -> Any:
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _DATES):
        return value.isoformat()
    if isinstance(value, _COLLECTIONS):
        return [_json_value(item) for item in value]
    return str(value)


def _fact_as_dict(fact: Fact) -> dict[str, Any]:
    return {
        "name": fact.name,
        "value": _json_value(fact.value),
        "unit": fact.unit,
        "source": fact.source,
    }


# -- rendering facts ---------------------------------------------------------------------


def _number_text(value: float | int | Decimal, lang: Language) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        text = format(value.normalize(), "f")
    else:
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    if lang.decimal != ".":
        text = text.replace(".", lang.decimal)
    return text or "0"


def _value_text(value: Any, lang: Language) -> str:
    if isinstance(value, bool):
        return lang.yes_no[0] if value else lang.yes_no[1]
    if isinstance(value, _NUMBERS):
        return _number_text(value, lang)
    if isinstance(value, _DATES):
        return value.isoformat()
    if isinstance(value, _COLLECTIONS):
        return ", ".join(_value_text(item, lang) for item in value)
    return str(value)


_NAME_UNIT_RE = re.compile(r"\(([^()]{1,20})\)|\bin ([^\W\d_]{1,20})\s*\Z")


def _unit_of(fact: Fact, lang: Language) -> str:
    """The fact's unit, or one its name gives: "Weight (kg)", "Battery life in hours"."""
    if fact.unit or isinstance(fact.value, bool):
        return fact.unit.replace("_", " ")
    if isinstance(fact.value, _NUMBERS):
        match = _NAME_UNIT_RE.search(fact.name)
        if match:
            candidate = (match.group(1) or match.group(2)).strip()
            if lookup_unit(candidate, lang) is not None:
                return candidate
    return ""


def describe(fact: Fact, language: str = "en") -> str:
    """How a reason names a fact: "Battery life 30 hours", "Wireless: no"."""
    lang = language_for(language)
    value = _value_text(fact.value, lang)
    if len(value) > 80:
        value = value[:77] + "..."
    if isinstance(fact.value, bool):
        return f"{fact.name}: {value}"
    unit = _unit_of(fact, lang)
    if unit and unit in SYMBOLS and len(unit) <= 2 and not unit.isalpha():
        return f"{fact.name} {value}{unit}"
    return f"{fact.name} {value} {unit}".rstrip()


# -- vocabulary ----------------------------------------------------------------------------

# Certifications and claims written with signs, each with a cheap test that skips its regex.
# fmt: off
_SPECIAL: tuple[tuple[str, re.Pattern[str], Any], ...] = (
    ("ip", re.compile(r"(?<![A-Za-z0-9])[Ii][Pp](?:[Xx][0-9]|[0-9][Xx0-9])[Kk]?(?![A-Za-z0-9])"),
     lambda text, lowered: "ip" in lowered),
    ("iso", re.compile(r"(?<![A-Za-z0-9])ISO[ \u00a0-]?[0-9]{3,5}(?![0-9])"),
     lambda text, lowered: "ISO" in text),
    ("number one", re.compile(r"(?<![\w#])#[ ]?1(?![0-9.,])"), lambda text, lowered: "#" in text),
    ("number one", re.compile(r"(?<![A-Za-z])(?:No|Nr)\.?[ \u00a0]?1(?![0-9.,])"),
     lambda text, lowered: "No" in text or "Nr" in text),
    ("world's first",
     re.compile(r"(?<![A-Za-z])[Ww]orld['’]?s[ \u00a0](?:first|best|only|leading|most)\b"),
     lambda text, lowered: "orld" in lowered),
    ("world's first",
     re.compile(r"(?<![A-Za-z])[Ww]eltweit[ \u00a0](?:erste|einzige|beste)[nrs]?\b"),
     lambda text, lowered: "eltweit" in lowered),
    ("ce", re.compile(r"(?<![A-Za-z0-9])CE(?:[ -](?:certified|marked|mark|zertifiziert))?"
                      r"(?![A-Za-z0-9])"), lambda text, lowered: "CE" in text),
)
# fmt: on
_JOINERS = frozenset({" ", "-", "_", "\u00a0", " - ", "- "})


@dataclass(frozen=True, eq=False)
class _Vocabulary:
    lang: Language
    terms: dict[str, str]
    concepts: dict[str, Concept]
    #: Words that start a multi-word term (only those are tried as phrases).
    first_words: frozenset[str]
    #: Facts are often in English whatever the text's language: they are read with both.
    fact_terms: dict[str, str]
    fact_first_words: frozenset[str]
    #: concept -> itself and everything it implies.
    closure: dict[str, frozenset[str]]
    not_term_first: frozenset[str]
    #: A shop's own terms with digits ("EN 71"): (concept, pattern).
    special: tuple[tuple[str, re.Pattern[str]], ...] = ()


def _freeze(extra: Mapping[str, Iterable[str]] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not extra:
        return ()
    return tuple(sorted((kind, tuple(sorted(words))) for kind, words in extra.items()))


@lru_cache(maxsize=32)
def _vocabulary(code: str, extra: tuple[tuple[str, tuple[str, ...]], ...]) -> _Vocabulary:
    lang = language_for(code)
    terms = dict(lang.terms)
    concepts = dict(CONCEPTS)
    special: list[tuple[str, re.Pattern[str]]] = []
    for kind, words in extra:
        if kind not in TERM_KINDS:
            raise ValueError(f"extra_vocabulary: unknown kind {kind!r}; use one of {TERM_KINDS}")
        for word in words:
            if any(char.isdigit() for char in word):
                # "EN 71", "ISO 14001": matched as written, spaces and hyphens optional.
                pieces = [re.escape(piece) for piece in re.split(r"[\s_-]+", word) if piece]
                if pieces:
                    pattern = re.compile(
                        r"(?<![^\W_])" + r"[ \u00a0-]?".join(pieces) + r"(?![^\W_])",
                        re.IGNORECASE,
                    )
                    key = _normal(word)
                    concepts.setdefault(key, Concept(kind))
                    special.append((key, pattern))
                continue
            surface = " ".join(WORD_RE.findall(word.lower()))
            if not surface:
                continue
            concepts.setdefault(surface, Concept(kind))
            terms[surface] = surface
            if kind in ("material", "colour") and lang.code == "en":
                terms.setdefault(surface + "s", surface)
    closure: dict[str, frozenset[str]] = {}

    def close(key: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if key in closure:
            return closure[key]
        result = {key}
        for parent in concepts.get(key, Concept("absolute")).parents:
            if parent not in seen:
                result |= close(parent, seen | {key})
        closure[key] = frozenset(result)
        return closure[key]

    for key in concepts:
        close(key)
    first_words = frozenset(surface.split(" ", 1)[0] for surface in terms if " " in surface)
    fact_terms = terms if lang.code == "en" else {**language_for("en").terms, **terms}
    fact_first_words = frozenset(
        surface.split(" ", 1)[0] for surface in fact_terms if " " in surface
    )
    not_term_first = frozenset(phrase.split(" ", 1)[0] for phrase in lang.not_terms)
    return _Vocabulary(
        lang,
        terms,
        concepts,
        first_words,
        fact_terms,
        fact_first_words,
        closure,
        not_term_first,
        tuple(special),
    )


def _concept(vocab: _Vocabulary, key: str) -> Concept:
    concept = vocab.concepts.get(key)
    if concept is not None:
        return concept
    if key.startswith(("ip", "iso")):
        return Concept("certification")
    return Concept("absolute")


@dataclass(slots=True)
class _Term:
    start: int
    end: int
    key: str
    negated: bool
    #: "plastic-free": the term followed by "free".
    free: bool = False


def _negated(text: str, words: list[tuple[int, int, str]], index: int, lang: Language) -> bool:
    """A negation among the three words before ``words[index]``, in the same clause."""
    start = words[index][0]
    if text[max(0, start - 4) : start].lower() == "non-":
        return True
    for back in range(index - 1, max(-1, index - 4), -1):
        word_start, word_end, word = words[back]
        between = text[word_end:start]
        if any(mark in between for mark in ".!?;,:\n"):
            return False
        if word in lang.negations:
            return True
        if word == "t" and text[word_start - 1 : word_start] in ("'", "’"):
            return True  # "isn't", "doesn't"
    return False


#: "Waterproof: no", "Wireless = true": an answer right after a name.
_ANSWER_RE = re.compile(
    r"[ \t\u00a0]{0,3}[:=][ \t\u00a0]{0,3}(yes|no|true|false|ja|nein)(?![^\W\d_])", re.IGNORECASE
)
_NO = frozenset({"no", "false", "nein"})
_LABEL_RE = re.compile(r"[ \t\u00a0]{0,3}[:=]")


def _find_terms(
    text: str,
    words: list[tuple[int, int, str]],
    vocab: _Vocabulary,
    mask: bytearray | None,
    facts: bool = False,
) -> list[_Term]:
    """Vocabulary terms in ``text``, longest first (three words, two, one)."""
    found: list[_Term] = []
    terms = vocab.fact_terms if facts else vocab.terms
    first_words = vocab.fact_first_words if facts else vocab.first_words
    count = len(words)
    index = 0
    while index < count:
        start, end, word = words[index]
        if mask is not None and mask[start]:
            index += 1
            continue
        size = 0
        key = None
        if word in vocab.not_term_first:
            phrase = word
            skip = 1 if word in vocab.lang.not_terms else 0
            for ahead in range(1, 3):
                if index + ahead >= count:
                    break
                if text[words[index + ahead - 1][1] : words[index + ahead][0]] not in _JOINERS:
                    break
                phrase += " " + words[index + ahead][2]
                if phrase in vocab.lang.not_terms:
                    skip = ahead + 1
            if skip:
                index += skip
                continue
        if word in first_words:
            phrase = word
            for ahead in range(1, 3):
                if index + ahead >= count:
                    break
                if text[words[index + ahead - 1][1] : words[index + ahead][0]] not in _JOINERS:
                    break
                phrase += " " + words[index + ahead][2]
                if phrase in terms:
                    size, key = ahead + 1, terms[phrase]
        if key is None and word in terms:
            size, key = 1, terms[word]
        if key is None:
            index += 1
            continue
        last = index + size - 1
        term_end = words[last][1]
        free = False
        concept = vocab.concepts.get(key)
        if (
            last + 1 < count
            and words[last + 1][2] in ("free", "frei")
            and text[term_end : words[last + 1][0]] in ("-", " ", "\u00a0")
            and concept is not None
            and concept.kind in ("material", "colour")
        ):
            free = True  # "plastic-free"
            term_end = words[last + 1][1]
            size += 1
        negated = _negated(text, words, index, vocab.lang)
        answer = _ANSWER_RE.match(text, term_end)
        if answer is not None:
            negated = negated != (answer.group(1).lower() in _NO)
        found.append(_Term(start, term_end, key, negated, free))
        index += size
    return found


def _special_terms(text: str, vocab: _Vocabulary, mask: bytearray | None) -> list[_Term]:
    found = []
    lowered = text.lower()
    patterns = [
        (key, pattern) for key, pattern, worth_trying in _SPECIAL if worth_trying(text, lowered)
    ]
    for key, pattern in [*patterns, *vocab.special]:
        for match in pattern.finditer(text):
            if mask is not None and mask.find(1, match.start(), match.end()) != -1:
                continue
            term_key = _normal(match.group()) if key in ("ip", "iso") else key
            found.append(_Term(match.start(), match.end(), term_key, False))
    found.sort(key=lambda term: term.start)
    return found


_NORMAL_RE = re.compile(r"[\W_]+")


def _normal(text: str) -> str:
    """Lower case, letters and digits only: "WH-1000XM5" -> "wh1000xm5"."""
    return _NORMAL_RE.sub("", text.lower())


# -- the facts, indexed -------------------------------------------------------------------


def _key(value: float) -> float:
    return round(value, 6) + 0.0


class _FactIndex:
    """What the facts say, in the shapes the rules ask for."""

    def __init__(self, facts: Sequence[Fact], vocab: _Vocabulary):
        lang = vocab.lang
        self.facts = list(facts)
        lines = []
        name_ends = []
        for fact in self.facts:
            name = str(fact.name)
            unit = _unit_of(fact, lang)
            value = _value_text(fact.value, lang)
            line = f"{name}: {value} {unit}".rstrip() if unit else f"{name}: {value}"
            lines.append(line.replace("\n", " "))
            name_ends.append(len(name) + 1)
        self.blob = "\n".join(lines)
        self.starts = []
        position = 0
        for line in lines:
            self.starts.append(position)
            position += len(line) + 1
        self.codes = [_normal(line) for line in lines]
        self._line_words: dict[int, frozenset[str]] = {}
        blob = self.blob
        words = words_of(blob)

        #: number -> the first fact stating it.
        self.numbers: dict[float, Fact] = {}
        #: number -> the lines (facts) it appears in.
        self.number_lines: dict[float, list[int]] = {}
        #: dimension -> [(base value, value, unit, fact)].
        #: (a fact that is itself a bound, "less than 36 months", has its relation).
        self.quantities: dict[str, list[tuple[float, float, Unit, Fact, str]]] = {}
        #: [(value, fact, dimension the name implies or None)] for numbers without a unit.
        self.unitless: list[tuple[float, Fact, str | None]] = []
        #: word before a number -> [(number, fact)]: "bluetooth" -> [(5.3, Connectivity)].
        self.context: dict[str, list[tuple[float, Fact]]] = {}
        #: version strings ("10.2.1") in the facts.
        self.versions: dict[str, Fact] = {}
        first_atom_of_line: set[int] = set()
        line_shape: dict[int, tuple[bool, str | None]] = {}
        starts = self.starts
        not_context = lang.not_context
        for atom in scan(blob, lang, words):
            line = bisect.bisect_right(starts, atom.start) - 1
            fact = self.facts[line]
            key = _key(atom.value)
            self.numbers.setdefault(key, fact)
            self.number_lines.setdefault(key, []).append(line)
            if atom.version:
                self.versions.setdefault(atom.version, fact)
            unit = atom.unit
            if unit is not None and unit.dimension != "count":
                base = to_base(atom.value, unit)
                self.quantities.setdefault(unit.dimension, []).append(
                    (base, atom.value, unit, fact, atom.relation)
                )
            elif not atom.word:
                shape = line_shape.get(line)
                if shape is None:
                    shape = line_shape[line] = (
                        _is_number(fact),
                        _name_dimension(str(fact.name), lang),
                    )
                if shape[0] or atom.in_dims:
                    self.unitless.append((atom.value, fact, shape[1]))
            _start, word = word_before(blob, atom.start, starts[line], glued=True)
            if word:
                word = word.lower()
                if len(word) > 1 and word not in not_context:
                    self.context.setdefault(word, []).append((key, fact))
            if line not in first_atom_of_line and atom.start >= starts[line] + name_ends[line]:
                first_atom_of_line.add(line)
                if isinstance(fact.value, _NUMBERS) and not isinstance(fact.value, bool):
                    for name_word in WORD_RE.findall(str(fact.name).lower()):
                        if len(name_word) > 1 and name_word not in not_context:
                            self.context.setdefault(name_word, []).append((key, fact))
        # Numbers glued to letters: "usb3.0", "UPF50+", "Roku 3600R", "windows98".
        for match in _GLUED_RE.finditer(blob) if _HAS_GLUED_RE.search(blob) else ():
            fact = self.fact_at(match.start())
            value = float(match.group(2))
            key = _key(value)
            self.numbers.setdefault(key, fact)
            word = match.group(1).lower()
            if len(word) > 1 and word not in lang.not_context:
                self.context.setdefault(word, []).append((key, fact))
        for fact in self.facts:
            if isinstance(fact.value, _COLLECTIONS) and len(fact.value) > 1:
                self.numbers.setdefault(float(len(fact.value)), fact)

        #: concept -> a fact that mentions it (or something implying it).
        self.support: dict[str, Fact] = {}
        #: concept -> (fact, True/False) from boolean facts and negated mentions.
        self.booleans: dict[str, tuple[Fact, bool]] = {}
        #: kind -> [(fact, concept)] in order, for contradiction reasons.
        self.by_kind: dict[str, list[tuple[Fact, str]]] = {}
        for term in _special_terms(blob, vocab, None) + _find_terms(
            blob, words, vocab, None, facts=True
        ):
            fact = self.fact_at(term.start)
            if isinstance(fact.value, bool) or term.negated:
                # A boolean fact says yes or no by its value ("Waterproof: False"); a text
                # fact by a negation ("not waterproof").
                polarity = fact.value if isinstance(fact.value, bool) else False
                self.booleans.setdefault(term.key, (fact, polarity))
                if not polarity:
                    continue
            kind = _concept(vocab, term.key).kind
            self.by_kind.setdefault(kind, []).append((fact, term.key))
            for implied in vocab.closure.get(term.key, (term.key,)):
                self.support.setdefault(implied, fact)

        #: boolean facts by name, for the names the vocabulary does not know ("Wireless").
        self.named_booleans: list[tuple[re.Pattern[str], re.Pattern[str] | None, Fact]] = []
        for fact in self.facts:
            if isinstance(fact.value, bool):
                patterns = _boolean_patterns(str(fact.name))
                if patterns is not None:
                    self.named_booleans.append((*patterns, fact))

    def line_words(self, line: int) -> frozenset[str]:
        """The words of one fact's line, lower case."""
        words = self._line_words.get(line)
        if words is None:
            start = self.starts[line]
            end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.blob)
            words = self._line_words[line] = frozenset(
                WORD_RE.findall(self.blob[start:end].lower())
            )
        return words

    def _line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def fact_at(self, offset: int) -> Fact:
        return self.facts[self._line(offset)]

    def code_fact(self, code: str) -> Fact | None:
        """The first fact whose text contains ``code`` (normalised)."""
        if not code:
            return None
        for line, normalised in enumerate(self.codes):
            if code in normalised:
                return self.facts[line]
        return None


_GLUED_RE = re.compile(r"(?<![^\W\d_])([^\W\d_]+)[_-]?([0-9]+(?:\.[0-9]+)?)")
_HAS_GLUED_RE = re.compile(r"[^\W\d_][_-]?[0-9]")


def _is_number(fact: Fact) -> bool:
    """A fact whose value is one number ("11", 30): its numbers may stand for quantities."""
    value = fact.value
    if isinstance(value, bool):
        return False
    if isinstance(value, _NUMBERS):
        return True
    return isinstance(value, str) and _BARE_NUMBER_RE.fullmatch(value.strip()) is not None


_BARE_NUMBER_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)?|[0-9]+/[0-9]+|[0-9]+[ -][0-9]+/[0-9]+")


def _name_dimension(name: str, lang: Language) -> str | None:
    english = language_for("en").name_dimensions
    for word in WORD_RE.findall(name.lower()):
        dimension = lang.name_dimensions.get(word) or english.get(word)
        if dimension is not None:
            return dimension
    return None


_BOOLEAN_PREFIXES = ("is", "has", "with", "ist", "hat", "mit", "are", "can", "supports")


@lru_cache(maxsize=256)
def _boolean_patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str] | None] | None:
    words = WORD_RE.findall(name.lower())
    while words and words[0] in _BOOLEAN_PREFIXES and len(words) > 1:
        words = words[1:]
    if not words or (len(words) == 1 and len(words[0]) < 3):
        return None
    escaped = [re.escape(word) for word in words]
    exact = re.compile(r"\b" + r"[\s-]{1,3}".join(escaped) + r"\b", re.IGNORECASE)
    gapped = None
    if len(words) > 1:
        gapped = re.compile(rf"\b{escaped[0]}\b[^.!?;\n]{{1,30}}?\b{escaped[-1]}\b", re.IGNORECASE)
    return exact, gapped


# -- the checker ---------------------------------------------------------------------------


_CODE_RE = re.compile(
    r"(?<![A-Za-z0-9_.,\-])(?=[A-Za-z0-9.\-]*[0-9])(?=[A-Za-z0-9.\-]*[A-Za-z])"
    r"[A-Za-z0-9][A-Za-z0-9.\-]*"
)
_NUMBER_UNIT_RE = re.compile(r"([0-9][0-9.,]*)(-?)([A-Za-zµ]+)")
_DIMS_RE = re.compile(r"[0-9.]+[xX×][0-9.xX×]*[A-Za-z]*")
_RANGE_UNIT_RE = re.compile(r"[0-9.]+-[0-9.]+[A-Za-z]+")
_COUNTED_RE = re.compile(r"[0-9]+-[A-Za-z]{2,}")  # "4-port": a count, read with the numbers
_VERSION_RE = re.compile(r"[vV]([0-9][0-9.]*)")
_MULTIPLIER_RE = re.compile(r"[xX][0-9]+|[0-9]+[xX]")


class _Check:
    def __init__(self, text: str, index: _FactIndex, vocab: _Vocabulary):
        self.text = text
        self.index = index
        self.vocab = vocab
        self.lang = vocab.lang
        self.mask = bytearray(len(text))
        self.claims: list[Claim] = []
        self.words = words_of(text)

    def add(self, start: int, end: int, kind: str, supported: bool, reason: str, fact=None):
        self.claims.append(Claim(start, end, self.text[start:end], kind, supported, reason, fact))
        self.mask[start:end] = b"\x01" * (end - start)

    def run(self) -> ClaimsReport:
        for term in _special_terms(self.text, self.vocab, self.mask):
            if self.mask.find(1, term.start, term.end) == -1:
                self.term(term)
        for term in _find_terms(self.text, self.words, self.vocab, self.mask):
            if self.mask.find(1, term.start, term.end) == -1:
                self.term(term)
        self.booleans()
        extra = self.codes()
        atoms = scan(self.text, self.lang, self.words, self.mask, extra)
        for atom in atoms:
            if self.mask.find(1, atom.start, max(atom.start + 1, atom.end)) == -1:
                self.number(atom)
        self.claims.sort(key=lambda claim: claim.start)
        return ClaimsReport(self.claims)

    # -- terms ----------------------------------------------------------------------------
    def term(self, term: _Term) -> None:
        text = self.text[term.start : term.end]
        index = self.index
        concept = _concept(self.vocab, term.key)
        kind = concept.kind
        if term.free:
            wanted = _normal(text)
            fact = index.code_fact(wanted)
            if fact is not None:
                self.add(term.start, term.end, "absolute", True, _matches(text, fact), fact)
            else:
                reason = _("%(claim)s: an absolute claim no fact supports") % {"claim": text}
                self.add(term.start, term.end, "absolute", False, reason)
            return
        closure = self.vocab.closure.get(term.key, frozenset({term.key}))
        # A boolean fact (or a negated mention) about this concept or one it implies.
        for implied in [term.key, *sorted(closure - {term.key})]:
            said = index.booleans.get(implied)
            if said is None:
                continue
            fact, polarity = said
            if term.negated:
                if polarity and implied == term.key:
                    self.add(term.start, term.end, kind, False, _says(text, fact), fact)
                    return
                continue
            if not polarity:
                self.add(term.start, term.end, kind, False, _says(text, fact), fact)
                return
        if term.negated:
            if kind in ("absolute", "certification"):
                reason = _("%(claim)s: negated, so it promises nothing") % {"claim": text}
                self.add(term.start, term.end, kind, True, reason)
            else:
                self.mask[term.start : term.end] = b"\x01" * (term.end - term.start)
            return
        fact = index.support.get(term.key)
        if fact is None:
            for other in concept.supported_by:
                fact = index.support.get(other)
                if fact is not None:
                    break
        if fact is not None:
            self.add(term.start, term.end, kind, True, _matches(text, fact), fact)
            return
        if kind in ("material", "colour"):
            other = self.contradiction(kind, term.key)
            if other is not None:
                self.add(term.start, term.end, kind, False, _says(text, other), other)
            else:
                reason = _("%(claim)s: no fact mentions it") % {"claim": text}
                self.add(term.start, term.end, kind, False, reason)
        elif kind == "certification":
            other = None
            if term.key.startswith(("ip", "iso")):
                other = self.contradiction(kind, term.key, family=term.key[:2])
            if other is not None:
                self.add(term.start, term.end, kind, False, _says(text, other), other)
            else:
                reason = _("%(claim)s: a certification no fact states") % {"claim": text}
                self.add(term.start, term.end, kind, False, reason)
        else:
            reason = _("%(claim)s: an absolute claim no fact supports") % {"claim": text}
            self.add(term.start, term.end, kind, False, reason)

    def contradiction(self, kind: str, key: str, family: str = "") -> Fact | None:
        """A fact that names another term of the same kind (steel vs "Material: copper")."""
        candidates = self.index.by_kind.get(kind, ())
        materials = ("material", "fabric", "stoff")
        colours = ("colo", "farbe", "finish", "shade")
        prefer, avoid = (materials, colours) if kind == "material" else (colours, materials)
        best = None
        for fact, other in candidates:
            if other == key or not other.startswith(family):
                continue
            name = str(fact.name).lower()
            if any(word in name for word in prefer):
                return fact
            if any(word in name for word in avoid):
                continue  # "silver" in a colour fact says nothing about the material
            if best is None:
                best = fact
        return best

    # -- boolean facts by name ------------------------------------------------------------
    def booleans(self) -> None:
        text = self.text
        for exact, gapped, fact in self.index.named_booleans:
            for pattern in (exact, gapped):
                if pattern is None:
                    continue
                for match in pattern.finditer(text):
                    start, end = match.span()
                    if self.mask.find(1, start, end) != -1:
                        continue
                    negated = self._negated_at(start) or self._negation_inside(start, end)
                    answer = _ANSWER_RE.match(text, end)
                    if answer is not None:
                        negated = negated != (answer.group(1).lower() in _NO)
                        end = answer.end()
                    elif _LABEL_RE.match(text, end):
                        continue  # "Battery life: 30 hours" names another value
                    claim = text[start:end]
                    if negated != (not fact.value):
                        self.add(start, end, "attribute", False, _says(claim, fact), fact)
                    else:
                        self.add(start, end, "attribute", True, _matches(claim, fact), fact)

    def _word_index(self, offset: int) -> int:
        return bisect.bisect_left(self.words, (offset, -1, ""))

    def _negated_at(self, start: int) -> bool:
        position = self._word_index(start)
        if position >= len(self.words) or self.words[position][0] != start:
            return False
        return _negated(self.text, self.words, position, self.lang)

    def _negation_inside(self, start: int, end: int) -> bool:
        first = self._word_index(start)
        for position in range(first, len(self.words)):
            word_start, _end, word = self.words[position]
            if word_start >= end:
                break
            if word in self.lang.negations:
                return True
        return False

    # -- codes ----------------------------------------------------------------------------
    def codes(self) -> list[Atom]:
        """Tokens mixing letters and digits; version numbers ("v5.0") come back as numbers."""
        extra: list[Atom] = []
        text = self.text
        for match in _CODE_RE.finditer(text):
            token = match.group().rstrip(".-")
            start = match.start()
            end = start + len(token)
            if not token or self.mask.find(1, start, end) != -1:
                continue
            if not any(char.isdigit() for char in token) or not any(
                char.isalpha() for char in token
            ):
                continue
            if self._not_a_code(token):
                if token[:1].isdigit() and token.lower().endswith(("st", "nd", "rd", "th")):
                    glued = _NUMBER_UNIT_RE.fullmatch(token)
                    if glued and glued.group(3) in self.lang.ordinal_suffixes:
                        self.mask[start:end] = b"\x01" * (end - start)
                continue
            version = _VERSION_RE.fullmatch(token)
            if version is not None:
                digits = version.group(1)
                if digits.count(".") <= 1:
                    whole, _dot, frac = digits.partition(".")
                    value = float(f"{whole}.{frac or 0}")
                    half = 0.5 * 10.0 ** -len(frac) if frac else 0.5
                    if math.isfinite(value):
                        extra.append(Atom(start, end, value, half))
                    continue
            fact = self.index.code_fact(_normal(token))
            while fact is None and "-" in token:
                # "m4-sized", "RC260-compatible": the code without a word glued on by hyphen.
                head, _dash, tail = token.rpartition("-")
                if not tail.isalpha() or not head:
                    break
                token, end = head, start + len(head)
                fact = self.index.code_fact(_normal(token))
            if fact is not None:
                self.add(start, end, "number", True, _matches(token, fact), fact)
            else:
                reason = _("%(claim)s: not in the facts") % {"claim": token}
                self.add(start, end, "number", False, reason)
        return extra

    def _not_a_code(self, token: str) -> bool:
        """Numbers with a glued unit ("16GB", "30-hour"), sizes ("45x30"), ordinals, "2x"."""
        if _MULTIPLIER_RE.fullmatch(token) or _DIMS_RE.fullmatch(token):
            return True
        if _RANGE_UNIT_RE.fullmatch(token) or _COUNTED_RE.fullmatch(token):
            return True
        glued = _NUMBER_UNIT_RE.fullmatch(token)
        if glued is None:
            return False
        suffix = glued.group(3)
        if suffix in self.lang.ordinal_suffixes:
            return True
        unit = lookup_unit(suffix, self.lang)
        return unit is not None and not (suffix == "in" and glued.group(2))

    # -- numbers --------------------------------------------------------------------------
    def number(self, atom: Atom) -> None:
        text = self.text
        unit = atom.unit
        if atom.word and unit is None:
            if self.lang.number_words.get(text[atom.start : atom.end].lower()) is None:
                return
            if text[atom.start : atom.end].lower() in self.lang.weak_number_words:
                return
            end = self._count_end(atom.end)
            if end is None:
                return
            self.count(atom, end)
            return
        if unit is not None and unit.dimension != "count":
            self.quantity(atom)
            return
        if unit is not None:  # "3 pieces", "3-pack"
            self.count(atom, atom.unit_end)
            return
        # A list marker: "1. " or "2) " at the start of a line.
        if text[atom.end : atom.end + 1] in (".", ")") and not atom.version:
            line_start = text.rfind("\n", 0, atom.start) + 1
            if not text[line_start : atom.start].strip():
                return
        if atom.version:
            fact = self.index.versions.get(atom.version) or self.index.code_fact(
                _normal(atom.version)
            )
            claim = text[atom.start : atom.end]
            if fact is not None:
                self.add(atom.start, atom.end, "number", True, _matches(claim, fact), fact)
            else:
                reason = _("%(claim)s: no fact contains this number") % {"claim": claim}
                self.add(atom.start, atom.end, "number", False, reason)
            return
        if self.attribute(atom):
            return
        end = self._count_end(atom.end) if atom.value == int(atom.value) else None
        before = text[max(0, atom.start - 16) : atom.start].lower().rstrip()
        if end is not None or any(before.endswith(phrase) for phrase in self.lang.count_before):
            self.count(atom, end if end is not None else atom.end)
            return
        kind = "dimension" if atom.in_dims else "number"
        self.bare(atom, atom.end, kind)

    def _count_end(self, end: int) -> int | None:
        """Where a count's noun ends ("3 brush heads"), or None when no noun follows."""
        text = self.text
        position = self._word_index(end)
        last = None
        for offset in range(2):
            if position + offset >= len(self.words):
                break
            word_start, word_end, word = self.words[position + offset]
            if self.mask[word_start]:
                break  # a term of its own ("3 steel rods")
            gap = text[(last or end) : word_start]
            if gap not in (" ", "-", "\u00a0") or word in self.lang.not_count:
                break
            if len(word) < 2 or lookup_unit(word, self.lang) is not None:
                break
            last = word_end
        return last

    def attribute(self, atom: Atom) -> bool:
        """ "Bluetooth 5.0" when the facts put other numbers after "Bluetooth"."""
        text = self.text
        start, word = word_before(text, atom.start)
        if not word:
            return False
        word = word.lower()
        known = self.index.context.get(word)
        if not known or word in self.lang.not_context or len(word) < 2:
            return False
        key = _key(atom.value)
        if self.mask.find(1, start, atom.start) != -1:
            start = atom.start
        claim = text[start : atom.end]
        for number, fact in known:
            if number == key:
                self.add(start, atom.end, "attribute", True, _matches(claim, fact), fact)
                return True
        # The number in a fact that names the word too ("serving 3" and "Serving: 3 tablets").
        for line in self.index.number_lines.get(key, ()):
            if word in self.index.line_words(line):
                fact = self.index.facts[line]
                self.add(start, atom.end, "attribute", True, _matches(claim, fact), fact)
                return True
        fact = known[0][1]
        self.add(start, atom.end, "attribute", False, _says(claim, fact), fact)
        return True

    def count(self, atom: Atom, end: int) -> None:
        claim = self.text[atom.start : end]
        fact = self.index.numbers.get(_key(atom.value))
        if fact is not None:
            self.add(atom.start, end, "count", True, _matches(claim, fact), fact)
            return
        nouns = set(WORD_RE.findall(self.text[atom.end : end].lower()))
        for other in self.index.facts:
            name_words = set(WORD_RE.findall(str(other.name).lower()))
            if nouns and any(
                noun.rstrip("s") in {w.rstrip("s") for w in name_words} for noun in nouns
            ):
                self.add(atom.start, end, "count", False, _says(claim, other), other)
                return
        reason = _("%(claim)s: no fact gives this count") % {"claim": claim}
        self.add(atom.start, end, "count", False, reason)

    def bare(self, atom: Atom, end: int, kind: str) -> None:
        claim = self.text[atom.start : end]
        fact = self.index.numbers.get(_key(atom.value))
        if fact is not None:
            self.add(atom.start, end, kind, True, _matches(claim, fact), fact)
        else:
            reason = _("%(claim)s: no fact contains this number") % {"claim": claim}
            self.add(atom.start, end, kind, False, reason)

    def quantity(self, atom: Atom) -> None:
        unit = atom.unit
        assert unit is not None
        start, end = atom.start, atom.span_end
        claim = self.text[start:end]
        dimension = unit.dimension
        if dimension == "percent":
            kind = "percentage"
        elif atom.in_dims or dimension in ("length", "area"):
            kind = "dimension"
        else:
            kind = "number"
        value = atom.value
        base = to_base(value, unit)
        # Same unit: the text's precision; another unit: also the rounding of a conversion.
        exact = _tolerance(atom, converted=False)
        converted = _tolerance(atom, converted=True)

        def fits(candidate: float, allowed: float, target: float, bound: str = "=") -> bool:
            relation = atom.relation
            if relation == "=" or bound != "=":
                # A fact that is itself a bound is only restated, never loosened.
                return abs(candidate - target) <= allowed
            # Bounds include their end ("at least 30 hours" when the fact says 30 hours).
            if relation in (">", ">="):
                return candidate >= target - allowed
            return candidate <= target + allowed

        same = self.index.quantities.get(dimension, [])
        for fact_base, _value, fact_unit, fact, bound in same:
            allowed = (exact if fact_unit.symbol == unit.symbol else converted) * unit.factor
            if fits(fact_base, allowed, base, bound):
                self.add(start, end, kind, True, _matches(claim, fact), fact)
                return
        # Units that everyday writing confuses: compare the numbers as written.
        for other, symbols in _AMBIGUOUS.get(unit.symbol, ()):
            for _base, fact_value, fact_unit, fact, bound in self.index.quantities.get(other, []):
                if fact_unit.symbol in symbols and fits(fact_value, exact, value, bound):
                    self.add(start, end, kind, True, _matches(claim, fact), fact)
                    return
        # The same number in another unit of this dimension: a unit mistake ("34 cm" when a
        # fact says 34 in), even if a number without a unit elsewhere says 34.
        swapped = next(
            (item[3] for item in same if abs(item[1] - value) <= exact and value != 0), None
        )
        contradicting = swapped
        if swapped is None:
            for fact_value, fact, implied in self.index.unitless:
                if implied is not None and implied != dimension:
                    continue
                if fits(fact_value, exact, value):
                    self.add(start, end, kind, True, _matches(claim, fact), fact)
                    return
                if implied == dimension and contradicting is None:
                    contradicting = fact
        if contradicting is None and same:
            contradicting = min(same, key=lambda item: abs(item[0] - base))[3]
        if contradicting is not None:
            self.add(start, end, kind, False, _says(claim, contradicting), contradicting)
        else:
            reason = _("%(claim)s: no fact gives a %(dimension)s") % {
                "claim": claim,
                "dimension": _(_DIMENSION_NAMES.get(dimension, dimension)),
            }
            self.add(start, end, kind, False, reason)


_DIMENSION_NAMES = {"percent": "percentage", "count": "count"}

#: A bare degree sign may be a temperature; "ounces" may be fluid ounces ("a 12 ounce cup").
_AMBIGUOUS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    "°": (("temperature", frozenset({"°C", "°F"})),),
    "°C": (("angle", frozenset({"°"})),),
    "°F": (("angle", frozenset({"°"})),),
    "oz": (("volume", frozenset({"fl oz"})),),
    "fl oz": (("mass", frozenset({"oz"})),),
}


def _tolerance(atom: Atom, converted: bool) -> float:
    """How far a fact may be from the text's value, in the text's unit."""
    magnitude = abs(atom.value)
    if atom.approximate:
        allowed = HEDGE_TOLERANCE * magnitude
    else:
        # Half the last digit written, but exclusive: 20 does not round 20.5.
        allowed = min(atom.half_ulp * (1 - 1e-9), CAP_TOLERANCE * magnitude)
    floor = FLOOR_TOLERANCE * magnitude if converted else 0.0
    return max(allowed, floor, 1e-9 * magnitude, 1e-12)


def _matches(claim: str, fact: Fact) -> str:
    return _("%(claim)s: matches %(fact)s") % {"claim": claim, "fact": _described(fact)}


def _says(claim: str, fact: Fact) -> str:
    return _("%(claim)s: the facts say %(fact)s") % {"claim": claim, "fact": _described(fact)}


_DESCRIBED: dict[int, tuple[Fact, str]] = {}


def _described(fact: Fact) -> str:
    """:func:`describe`, remembered per fact object (the indexes keep their facts alive)."""
    found = _DESCRIBED.get(id(fact))
    if found is not None and found[0] is fact:
        return found[1]
    text = describe(fact)
    if len(_DESCRIBED) > 4096:
        _DESCRIBED.clear()
    _DESCRIBED[id(fact)] = (fact, text)
    return text


def check_claims(
    text: str,
    facts: Sequence[Fact],
    *,
    language: str = "en",
    extra_vocabulary: Mapping[str, Iterable[str]] | None = None,
) -> ClaimsReport:
    """Every claim in ``text``, each supported by ``facts`` or not (see the module doc).

    ``extra_vocabulary`` adds a shop's own terms by kind: ``{"material": ["tencel"],
    "colour": ["sage"], "absolute": ["military-grade"], "certification": ["EN 71"]}``.
    """
    extra = _freeze(extra_vocabulary)
    vocab = _vocabulary(language or "en", extra)
    facts = list(facts)
    try:
        key = (_facts_key(facts), vocab.lang.code, extra)
        index = _INDEXES.get(key)
    except TypeError:  # a value that cannot be a key (a dict): index the facts every time
        key, index = None, None
    if index is None:
        index = _FactIndex(facts, vocab)
        if key is not None:
            if len(_INDEXES) >= _INDEX_CACHE_SIZE:
                _INDEXES.clear()
            _INDEXES[key] = index
    return _Check(str(text), index, vocab).run()


#: One product's facts are checked again and again (drafts, answers): index them once.
_INDEXES: dict[tuple[Any, ...], _FactIndex] = {}
_INDEX_CACHE_SIZE = 256


def _frozen(value: Any) -> Any:
    # The type is part of the key: True == 1 and 1 == 1.0, but they read differently.
    if isinstance(value, _COLLECTIONS):
        return (type(value).__name__, tuple(_frozen(item) for item in value))
    return (type(value).__name__, value)


def _facts_key(facts: list[Fact]) -> tuple[Any, ...]:
    key = tuple((fact.name, _frozen(fact.value), fact.unit, fact.source) for fact in facts)
    hash(key)  # TypeError now rather than inside the dict
    return key
