"""Find personal data in a text and replace it with placeholders a model can still read."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .addresses import ADDRESS_JOINER_RE, find_addresses
from .base import PLACEHOLDER_RE, PLACEHOLDERS, PRIORITY, Finding
from .contacts import find_emails, find_url_credentials
from .names import find_names
from .numbers import find_cards, find_ibans, find_phones, phone_regions

#: What a placeholder looks like to the detectors: CYRILLIC LETTER MULTIOCULAR O, a word
#: character (as the letters and digits it replaced were) that no pattern reads as a name,
#: a digit, a context word or a separator.
_OPAQUE = "\ua66e"
#: Detection rounds at most (see :func:`find_personal_data`); two are the rule.
MAX_ROUNDS = 4


@dataclass
class ScrubResult:
    """The scrubbed text and what was taken out of it.

    Store and log ``text`` and ``counts()``; ``findings`` hold the personal data itself.
    """

    text: str
    #: In the order they occur; ``start`` and ``end`` index the text before scrubbing.
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.findings)

    def counts(self) -> dict[str, int]:
        """How many of each kind were scrubbed: ``{"email": 1, "phone": 2}``."""
        return dict(Counter(finding.kind for finding in self.findings))


def _resolve(candidates: Iterable[Finding], taken: Iterable[tuple[int, int]]) -> list[Finding]:
    """Keep the strongest of overlapping findings: the kind first in ``KINDS``, then the
    longest. ``taken`` spans (placeholders already in the text) overlap everything."""
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Finding] = []

    def free(start: int, end: int) -> int | None:
        index = bisect_right(starts, start)
        if index and ends[index - 1] > start:
            return None
        if index < len(starts) and starts[index] < end:
            return None
        return index

    for start, end in taken:
        index = free(start, end)
        if index is not None:
            starts.insert(index, start)
            ends.insert(index, end)
    ordered = sorted(
        (c for c in candidates if c.end > c.start),
        key=lambda c: (PRIORITY[c.kind], c.start - c.end, c.start),
    )
    for candidate in ordered:
        index = free(candidate.start, candidate.end)
        if index is not None:
            starts.insert(index, candidate.start)
            ends.insert(index, candidate.end)
            kept.append(candidate)
    return sorted(kept, key=lambda c: c.start)


def _join_addresses(findings: list[Finding], text: str) -> list[Finding]:
    """One address from neighbouring pieces: "Hauptstraße 5" ", " "10115 Berlin"."""
    joined: list[Finding] = []
    for finding in findings:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.kind == finding.kind == "address"
            and ADDRESS_JOINER_RE.fullmatch(text, last.end, finding.start)
        ):
            joined[-1] = Finding("address", last.start, finding.end, text[last.start : finding.end])
        else:
            joined.append(finding)
    return joined


def _find_once(text: str, names: Sequence[str], region: str, language: str) -> list[Finding]:
    # A placeholder is opaque: neither data nor context ("[phone]" says nothing about the
    # number next to it), so the detectors see a run of a letter no pattern uses instead.
    placeholders = [match.span() for match in PLACEHOLDER_RE.finditer(text)]
    masked = PLACEHOLDER_RE.sub(lambda match: _OPAQUE * len(match.group()), text)
    candidates = [
        *find_url_credentials(masked),
        *find_emails(masked),
        *find_ibans(masked),
        *find_cards(masked),
        *find_phones(masked, phone_regions(region, language)),
        *find_addresses(masked),
        *find_names(masked, names),
    ]
    return [
        Finding(finding.kind, finding.start, finding.end, text[finding.start : finding.end])
        for finding in _resolve(candidates, placeholders)
    ]


def _replace(text: str, findings: list[Finding]) -> str:
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def _map_back(findings: list[Finding], extra: list[Finding], text: str) -> list[Finding]:
    """``extra`` found in the scrubbed text, as spans of the original ``text``."""
    scrubbed_ends: list[int] = []
    shifts: list[int] = []
    shift = 0
    for finding in findings:
        placeholder = len(PLACEHOLDERS[finding.kind])
        scrubbed_ends.append(finding.start - shift + placeholder)
        shift += finding.end - finding.start - placeholder
        shifts.append(shift)
    mapped = []
    for finding in extra:
        index = bisect_right(scrubbed_ends, finding.start)
        offset = shifts[index - 1] if index else 0
        start, end = finding.start + offset, finding.end + offset
        mapped.append(Finding(finding.kind, start, end, text[start:end]))
    return mapped


def find_personal_data(
    text: str, *, names: Sequence[str] = (), region: str = "GB", language: str = "en"
) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, none overlapping another.

    ``names``: the asking shopper's own name(s), e.g. ``["Jane Doe"]``. ``region``: the
    country whose national phone formats shoppers use (ISO 3166 code); ``language``: the
    text's language, whose country's formats are read too ("de": German numbers).

    The text is read again with what was found replaced, until nothing new turns up: a
    finding can take away the words that kept a neighbour from counting ("Auftrag" read as
    a town in "80331 Auftrag 0301234567"), and scrubbing twice must change nothing.
    """
    if not text:
        return []
    findings = _join_addresses(_find_once(text, names, region, language), text)
    for _ in range(MAX_ROUNDS - 1):
        if not findings:
            break
        extra = _find_once(_replace(text, findings), names, region, language)
        if not extra:
            break
        merged = sorted([*findings, *_map_back(findings, extra, text)], key=lambda f: f.start)
        findings = _join_addresses(merged, text)
    return findings


def scrub(
    text: str, *, names: Sequence[str] = (), region: str = "GB", language: str = "en"
) -> ScrubResult:
    """``text`` with its personal data replaced: "Call me on [phone]", "[email]".

    Scrubbing a scrubbed text changes nothing. Arguments as :func:`find_personal_data`.
    """
    findings = find_personal_data(text, names=names, region=region, language=language)
    return ScrubResult(_replace(text, findings) if findings else text, findings)
