"""Flag wording a shop should not publish unread: superlatives, health claims, gendered copy.

The claims check (:mod:`oscar_gpt.grounding`) asks whether the facts back the text; this
check asks whether the text says things no fact could back, or that the shop does not want
said at all, whatever the facts. The rules:

1. Every phrase of :mod:`.phrases` for the text's language, and the shop's extra phrases,
   found as whole words or phrases, case, accents and apostrophes ignored.
2. A flag inside an allowed phrase is dropped: the language's built-in ones ("best before")
   drop the built-in kinds, the shop's own ``allowed`` drop every kind, banned words included.
3. A superlative after a negation in the same clause ("not the best") is dropped; health
   claims and gendered wording stay whatever comes before them.
4. Gendered wording is only flagged when the product is not sold by gender.
5. Flags never overlap: overlapping flags of one kind become one ("100% safe for babies");
   then a banned word wins over a health claim, which wins over a superlative, which wins
   over gendered wording.

No model calls, no database: the shop's settings arrive as arguments
(:func:`oscar_gpt.wording.service.check_product_copy` reads them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..translation import gettext_if_configured as _
from .phrases import Wording, base_language, wording_for

#: Flag kinds, most important first (an overlap keeps the earlier kind).
KINDS = (
    "banned",  # on the shop's own list
    "health",  # "cures", "clinically proven", "non-toxic", "safe for babies"
    "superlative",  # "best", "#1", "unbeatable", "guaranteed", "the most comfortable"
    "gendered",  # "for men", "ladies'", "für Damen", "pour femme"
)
#: What a shop may add per language in ``EXTRA``: the kinds, and phrases to allow.
EXTRA_KINDS = (*KINDS, "allowed")

_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}

#: Up to two words, then maybe an elided article: "treats stubborn acne", "soigne l'acné".
_GAP = r"(?:\w+\s+){0,2}?(?:\w{1,2}')?"
_WORD_RE = re.compile(r"\w+(?:'\w+)*")
#: Where a clause ends, for the negation look-back.
_CLAUSE_END_RE = re.compile(r"[.,;:!?()\[\]\n\"]")
#: How far back a negation may stand before a superlative.
_LOOKBACK_CHARS = 60
_LOOKBACK_WORDS = 3



@dataclass(frozen=True)
class WordingFlag:
    """A piece of the text a reviewer should look at twice."""

    start: int
    end: int
    text: str
    #: One of :data:`KINDS`.
    kind: str
    #: Human-readable, e.g. '"clinically proven": a health or safety claim; ...'.
    reason: str


@dataclass
class WordingReport:
    """Every flag in one text; store it with ``as_dict()`` or show ``highlight()``."""

    flags: list[WordingFlag] = field(default_factory=list)
    #: The base language the text was checked in ("en", "de", "fr").
    language: str = "en"

    @property
    def ok(self) -> bool:
        """Nothing to flag."""
        return not self.flags

    def of_kind(self, kind: str) -> list[WordingFlag]:
        return [flag for flag in self.flags if flag.kind == kind]

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``{"ok": bool, "language": str, "flags": [{start, end, ...}]}``."""
        return {
            "ok": self.ok,
            "language": self.language,
            "flags": [
                {
                    "start": flag.start,
                    "end": flag.end,
                    "text": flag.text,
                    "kind": flag.kind,
                    "reason": flag.reason,
                }
                for flag in self.flags
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WordingReport:
        """The report back from ``as_dict()``; an empty dict is an empty report."""
        flags = [
            WordingFlag(
                start=item["start"],
                end=item["end"],
                text=item["text"],
                kind=item["kind"],
                reason=item["reason"],
            )
            for item in data.get("flags", ())
        ]
        return cls(flags, language=data.get("language", "en"))

    def highlight(self, text: str) -> SafeString:
        """``text`` as HTML: escaped, flags in ``<mark class="oscar-gpt-wording" title=...>``.

        A flag that no longer fits the text (a stored report of an edited text) is skipped.
        """
        parts: list[str] = []
        position = 0
        for flag in sorted(self.flags, key=lambda f: f.start):
            if flag.start < position or flag.end > len(text) or flag.start >= flag.end:
                continue
            parts.append(escape(text[position : flag.start]))
            parts.append(
                f'<mark class="oscar-gpt-wording" title="{escape(flag.reason)}">'
                f"{escape(text[flag.start : flag.end])}</mark>"
            )
            position = flag.end
        parts.append(escape(text[position:]))
        return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above


def check_wording(
    text: str,
    *,
    language: str = "en",
    product_gendered: bool = False,
    banned: Iterable[str] = (),
    allowed: Iterable[str] = (),
    extra: Mapping[str, Iterable[str]] | None = None,
) -> WordingReport:
    """Flag superlatives, health claims, gendered wording and the shop's banned words.

    ``language`` may be a full code ("en-gb", "de_AT"); an unknown one is checked as English.
    ``banned`` and ``allowed`` are the shop's own phrases, matched literally as whole words;
    ``extra`` adds phrases per kind (:data:`EXTRA_KINDS`) for this language.
    """
    code = base_language(language)
    report = WordingReport(language=code)
    if not text:
        return report
    folded = fold(text)
    extra = extra or {}
    unknown = set(extra) - set(EXTRA_KINDS)
    if unknown:
        raise ValueError(f"wording extra: unknown kind(s) {sorted(unknown)}; use {EXTRA_KINDS}")
    wording = wording_for(code)
    builtin = _builtin(code)

    # (start, end, kind, banned term or "")
    found: list[tuple[int, int, str, str]] = []
    for kind, pattern in builtin.patterns:
        if kind == "gendered" and product_gendered:
            continue
        found.extend((m.start(), m.end(), kind, "") for m in pattern.finditer(folded))
    shop_terms = [(term, "banned") for term in banned]
    for kind in ("banned", "superlative", "health", "gendered"):
        shop_terms.extend((term, kind) for term in extra.get(kind, ()))
    for term, kind in shop_terms:
        if kind == "gendered" and product_gendered:
            continue
        pattern = _literal(term)
        if pattern is not None:
            label = term.strip() if kind == "banned" else ""
            found.extend((m.start(), m.end(), kind, label) for m in pattern.finditer(folded))
    if not found:
        return report

    builtin_allowed = _spans(builtin.allowed, folded)
    shop_allowed = _spans(
        [p for p in map(_literal, [*allowed, *extra.get("allowed", ())]) if p is not None],
        folded,
    )
    kept: list[tuple[int, int, str, str]] = []
    for start, end, kind, term in found:
        if _inside(start, end, shop_allowed):
            continue
        if kind != "banned" and _inside(start, end, builtin_allowed):
            continue
        if kind == "superlative" and _negated(folded, start, wording):
            continue
        kept.append((start, end, kind, term))

    chosen: list[tuple[int, int, str, str]] = []
    for candidate in sorted(_merged(kept), key=lambda c: (_PRIORITY[c[2]], c[0] - c[1], c[0])):
        start, end = candidate[0], candidate[1]
        if all(end <= other[0] or start >= other[1] for other in chosen):
            chosen.append(candidate)
    report.flags = [
        WordingFlag(start, end, text[start:end], kind, _reason(kind, text[start:end], term))
        for start, end, kind, term in sorted(chosen)
    ]
    return report


def _reason(kind: str, text: str, term: str) -> str:
    if kind == "banned":
        return _("“%(term)s” is on the shop's list of banned words.") % {"term": term}
    if kind == "health":
        message = _(
            "“%(text)s” is a health or safety claim: it needs evidence and may be regulated."
        )
    elif kind == "superlative":
        message = _(
            "“%(text)s” is a superlative or promise nobody can check: say what makes it good."
        )
    else:
        message = _("“%(text)s” is gendered wording, and this product is not sold by gender.")
    return message % {"text": " ".join(text.split())}


# -- folding and patterns --------------------------------------------------------------------

_FOLD_EXTRA = {
    "\u2019": "'",  # right single quotation mark, the usual typographic apostrophe
    "\u2018": "'",
    "\u02bc": "'",  # modifier letter apostrophe
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
}


def _fold_table() -> dict[int, str]:
    table = {ord(char): replacement for char, replacement in _FOLD_EXTRA.items()}
    for point in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFD", chr(point))
        if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
            table[point] = decomposed[0]
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Accents, curly apostrophes and Unicode hyphens away; the same length as ``text``.

    One character in, one character out, so a match in the folded text is a span of the
    original one. "Révolutionnaire" -> "Revolutionnaire", "world’s" -> "world's".
    """
    return text.translate(_FOLD)


def _rewrite(source: str) -> str:
    """An entry of :mod:`.phrases` as a regular expression (see there for the rewrites)."""
    return fold(source).replace("-", r"[-\s]?").replace(" ", r"\s+")


def _bounded(body: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class _Builtin:
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    allowed: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=8)
def _builtin(code: str) -> _Builtin:
    wording = wording_for(code)
    conditions = "|".join(_rewrite(condition) for condition in wording.conditions)

    def compile_entry(entry: str) -> re.Pattern[str]:
        body = _rewrite(entry).replace("@gap", _GAP).replace("@cond", f"(?:{conditions})")
        return _bounded(body)

    patterns = tuple(
        (kind, compile_entry(entry))
        for kind in ("health", "superlative", "gendered")
        for entry in getattr(wording, kind)
    )
    return _Builtin(patterns, tuple(compile_entry(entry) for entry in wording.allowed))


@lru_cache(maxsize=512)
def _literal(phrase: str) -> re.Pattern[str] | None:
    """A shop's phrase, matched as written but for case, accents, spacing and hyphens."""
    pieces = [piece for piece in re.split(r"(\s+|-)", fold(str(phrase)).strip()) if piece]
    if not pieces:
        return None
    # A space in the phrase reads as spaces or a hyphen, a hyphen as a hyphen, a space or nothing.
    body = "".join(
        r"[-\s]+" if piece.isspace() else r"[-\s]?" if piece == "-" else re.escape(piece)
        for piece in pieces
    )
    return _bounded(body)


def _spans(patterns: Iterable[re.Pattern[str]], folded: str) -> list[tuple[int, int]]:
    return [match.span() for pattern in patterns for match in pattern.finditer(folded)]


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(left <= start and end <= right for left, right in spans)


def _merged(found: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Overlapping flags of one kind as one: "100% safe" and "safe for babies" read together.

    Banned words stay apart, so that each flag names its own term.
    """
    merged: list[tuple[int, int, str, str]] = []
    for start, end, kind, term in sorted(found, key=lambda c: (c[2], c[0], -c[1])):
        if merged and kind != "banned" and merged[-1][2] == kind and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), kind, term)
        else:
            merged.append((start, end, kind, term))
    return merged


def _negated(folded: str, start: int, wording: Wording) -> bool:
    """Is there a "not" (but no "not only") in the few words before ``start``, same clause?"""
    before = folded[max(0, start - _LOOKBACK_CHARS) : start]
    clause = _CLAUSE_END_RE.split(before)[-1]
    words = [word.lower() for word in _WORD_RE.findall(clause)][-_LOOKBACK_WORDS:]
    for index, word in enumerate(words):
        if word in wording.negations or word.endswith("n't"):
            following = words[index + 1] if index + 1 < len(words) else ""
            if following not in wording.not_negations:
                return True
    return False
