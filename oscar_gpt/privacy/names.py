"""The shopper's own name: the names the shop knows, and the ones shoppers introduce.

Names in general are not looked for: "Jack Wolfskin", "Marshall" and "Philips" are brands, and
no list of first names tells them apart from people. What is found is the name of the person
asking (passed by the caller, who knows the account) and a name the text introduces itself
("my name is Jane Doe", "ich heiße Jana", "je m'appelle Jeanne", "mijn naam is Jan").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from .base import Finding
from .numbers import NOT_PERSONAL_LABELS

#: Parts of a name too common as words to be matched in lower case: "mark", "will", "rose",
#: "brown" are only the shopper's name when written "Mark", "Will", "Rose", "Brown".
COMMON_WORD_NAMES = frozenset(
    " ".join(
        (
            "will mark may rose bill grant hope joy faith summer autumn winter april june august",
            "black white brown green gray grey gold silver stone wood hill king bell ball long",
            "young rich sky river star page case price ray dawn sunny honey pat sue max bob ash",
            "amber ruby pearl jade crystal iris lily daisy ivy holly heather frank earl chase",
            "miles rush penny sandy don art mo lee ben van dan kit rock gray cook baker smith",
            "taylor carter turner walker wood mason porter hunter fisher day moon sun",
        )
    ).split()
)
#: Joined to a name, not a name by themselves ("Anna van der Berg").
# fmt: off
PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "du", "da", "di", "del", "della", "la", "le", "les", "dos",
    "das", "ten", "ter", "zu", "y", "bin", "al", "el",
})
# fmt: on
#: Capitalised words after "I'm" / "I am" that are no name.
_NOT_NAMES = frozenset(
    " ".join(
        (
            "i a an the not no so very really just also still only quite too here there back",
            "from in on at with for by to of and or but if as into over under about after",
            "english british scottish welsh irish american canadian australian german french",
            "dutch belgian swiss austrian spanish italian polish indian chinese japanese",
            "european new happy glad sorry sure unsure looking interested thinking wondering",
            "trying hoping planning going buying using having getting keen confused unhappy",
            "disappointed impressed pleased delighted satisfied dissatisfied tired curious",
            "asking writing calling emailing contacting returning ordering based living",
            "available unable able afraid aware allergic vegan vegetarian pregnant retired",
            "left right ok okay fine good great bad well done ready",
            "customer customers buyer shopper member owner user fan student teacher nurse",
            "doctor engineer mum mom dad parent",
            "please thanks thank hello hi dear yes",
            # how people are, rather than who
            "hungry thirsty angry busy lucky ready worried excited upset annoyed furious sad",
            "cold hot warm late early old young single married divorced sick ill unwell",
            "new old allergic deaf blind disabled short tall big small left right handed",
            "done over after still currently now all totally absolutely completely quite",
        )
    ).split()
)
#: Endings of words that describe, not name: "Looking", "Grateful", "Curious", "Unable".
_NOT_NAME_ENDINGS = ("ing", "ful", "ous", "ive", "able", "ible", "less", "ish", "ied")
_NAME_WORD = r"[^\W\d_][\w'’\-]{0,40}"
#: What comes before a name a shopper gives: the name is the capitalised words after it.
_INTRO_RE = re.compile(
    r"(?<![^\W\d_])(?:my\s+name\s+is|my\s+name['’]s|i['’]m|i\s+am"
    r"|ich\s+hei(?:ß|ss)e|mein\s+name\s+ist|mein\s+name\s+lautet"
    r"|je\s+m['’]appelle|mon\s+nom\s+est|je\s+me\s+nomme"
    r"|ik\s+heet|mijn\s+naam\s+is)(?=[\s\u00a0])",
    re.IGNORECASE,
)
_WORD_AFTER_RE = re.compile(r"[ \t\u00a0]+(" + _NAME_WORD + ")")
_LETTERS_RE = re.compile(r"[^\W\d_]")


def _capitalised(word: str) -> bool:
    """Jane, O'Neil, McDonald, Jean-Luc, Ólafur: an upper case first letter, then not all
    capitals (an "ACME" or an "I" is no name)."""
    letters = _LETTERS_RE.findall(word)
    return bool(letters) and letters[0].isupper() and any(ch.islower() for ch in letters[1:])


#: "I'm", "I've", "Don't": contractions, not O'Neil or D'Angelo.
_CONTRACTION_RE = re.compile(r"['’](?:m|s|d|t|ll|ve|re)\Z", re.IGNORECASE)


def _may_be_name(word: str) -> bool:
    """Whether a capitalised word right after "I'm" may be a name ("Sarah", not "Happy")."""
    lower = word.lower()
    return (
        lower not in _NOT_NAMES
        and lower not in NOT_PERSONAL_LABELS  # "I'm Order 4711's owner"
        and not lower.endswith(_NOT_NAME_ENDINGS)
        and not lower.endswith(("nr", "nummer"))  # "Artikelnr"
    )


def introduced_names(text: str) -> Iterator[Finding]:
    """Names after "my name is", "I'm", "ich heiße", "je m'appelle", "ik heet"."""
    for intro in _INTRO_RE.finditer(text):
        words: list[tuple[int, int]] = []
        pending: list[tuple[int, int]] = []  # particles, kept only when a name follows them
        position = intro.end()
        while len(words) < 4:
            match = _WORD_AFTER_RE.match(text, position)
            if not match:
                break
            word = match.group(1).rstrip("'’-")
            span = (match.start(1), match.start(1) + len(word))
            if words and word.lower() in PARTICLES:
                pending.append(span)
            elif (
                _capitalised(word)
                and not _CONTRACTION_RE.search(word)
                and (words or _may_be_name(word))
            ):
                words.extend(pending)
                pending.clear()
                words.append(span)
            else:
                break
            position = span[1]
            if position < len(text) and text[position] in "'’-":
                break  # "Jane's", possessive: the name ends here
        if words:
            start, end = words[0][0], words[-1][1]
            yield Finding("name", start, end, text[start:end])


def _name_patterns(names: Iterable[str]) -> list[re.Pattern[str]]:
    """Whole-word patterns: each full name, then its parts of three letters or more."""
    full: set[tuple[str, ...]] = set()
    parts: set[str] = set()
    for name in names:
        tokens = tuple(token for token in re.split(r"[\s\u00a0,]+", name.strip()) if token)
        if not tokens:
            continue
        full.add(tokens)
        for token in tokens:
            if len(_LETTERS_RE.findall(token)) >= 3 and token.lower() not in PARTICLES:
                parts.add(token)
    patterns = []
    for tokens in sorted(full, key=lambda t: (-len(t), t)):
        if len(tokens) > 1:
            body = r"[\s\u00a0]+".join(re.escape(token) for token in tokens)
            patterns.append(re.compile(r"(?<!\w)" + body + r"(?!\w)", re.IGNORECASE))
    insensitive = sorted(p for p in parts if p.lower() not in COMMON_WORD_NAMES)
    sensitive = sorted(p for p in parts if p.lower() in COMMON_WORD_NAMES)
    if insensitive:
        body = "|".join(re.escape(p) for p in sorted(insensitive, key=len, reverse=True))
        patterns.append(re.compile(r"(?<!\w)(?:" + body + r")(?!\w)", re.IGNORECASE))
    if sensitive:
        body = "|".join(re.escape(p[:1].upper() + p[1:]) for p in sorted(sensitive, key=len))
        patterns.append(re.compile(r"(?<!\w)(?:" + body + r")(?!\w)"))
    return patterns


def find_names(text: str, names: Sequence[str] = ()) -> Iterator[Finding]:
    """The given names and the introduced ones, and every later mention of either."""
    introduced = list(introduced_names(text))
    yield from introduced
    known = [*names, *(finding.text for finding in introduced)]
    for pattern in _name_patterns(known):
        for match in pattern.finditer(text):
            yield Finding("name", match.start(), match.end(), match.group())
