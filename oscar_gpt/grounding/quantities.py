"""Numbers and quantities in text: "250 g", "1-9/16\"", "45 x 30 cm", "between 2 and 4 kg".

The scanner is a handful of regular expressions without nested repetition, each anchored
where the previous one left off, plus plain Python over the (few) numbers they find: its cost
grows linearly with the text, whatever the text is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .units import SYMBOLS, WORDS, Unit, to_base
from .vocabulary import Language, language_for


@dataclass(frozen=True)
class Quantity:
    """A number in a text, with its unit when it has one."""

    #: The value in ``unit`` (a fraction such as 9/16 is 0.5625).
    value: float
    #: The canonical symbol of the unit ("h" for "hours" and "30-hour"); "" when none.
    unit: str
    #: "length", "mass", "time", "volume", "data", "power", "pressure", "energy",
    #: "temperature", "frequency", "percent", "count", ... or None for a bare number.
    dimension: str | None
    start: int
    end: int
    #: Half the step of the last digit written ("30" -> 0.5, "0.25" -> 0.005, "9/16" -> 1/32).
    precision: float = 0.5
    #: "=" or, after "more than", "at least", "under" ..., ">", ">=", "<", "<=".
    relation: str = "="
    #: Hedged: "about 30 hours", "approx. 2 kg".
    approximate: bool = False

    @property
    def base_value(self) -> float:
        """The value in the base unit of its dimension (m, kg, s, l, B, W, Pa, J, °C, ...)."""
        unit = unit_for_symbol(self.unit)
        return to_base(self.value, unit) if unit else self.value


# The first alternative a number can take wins: mixed number, fraction, vulgar fraction, run.
# A run ("1,200.50", "2,5", "10.2.1") is split or read by the language's separators later.
# The look-behind keeps numbers glued to letters out ("XM5"), except after "x" ("8x5").
NUMBER_RE = re.compile(
    r"(?<![0-9A-WYZa-wyz.])(?<![0-9],)(?:"
    r"(?P<whole>[0-9]+)[ \u00a0_-](?P<mnum>[0-9]+)/(?P<mden>[0-9]+)(?![0-9/])"
    r"|(?P<num>[0-9]+)/(?P<den>[0-9]+)(?![0-9/])"
    r"|(?:(?P<vwhole>[0-9]+)[ \u00a0-]?)?(?P<vulgar>[½¼¾⅓⅔⅛⅜⅝⅞⅕⅖⅗⅘⅙⅚])"
    r"|(?P<run>[0-9][0-9.,]*[0-9]|[0-9]|\.[0-9]+)(?![0-9])"
    r")"
)
# fmt: off
VULGAR = {
    "½": (1, 2), "¼": (1, 4), "¾": (3, 4), "⅓": (1, 3), "⅔": (2, 3), "⅛": (1, 8), "⅜": (3, 8),
    "⅝": (5, 8), "⅞": (7, 8), "⅕": (1, 5), "⅖": (2, 5), "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6),
    "⅚": (5, 6),
}
# fmt: on

# Up to three words after a number: "30 hours", "30-hour", "2 fl. oz", "40 degrees Celsius".
# Words are bounded (no unit is longer): a 100 kB word costs 3 x 24 characters, not 100 kB.
UNIT_WORDS_RE = re.compile(
    r"[ \u00a0]?(?:-[ \u00a0]?)?"
    r"(?P<w1>[^\W\d_]{1,24})(?P<per>/[^\W\d_]{1,8})?"
    r"(?:(?:\.?[ \u00a0_-]|\.)(?P<w2>[^\W\d_]{1,24}))?"
    r"(?:[ \u00a0_-](?P<w3>[^\W\d_]{1,24}))?"
)
WORD_RE = re.compile(r"[^\W\d_]+")
# The word just before a position ("Bluetooth 5.0", "Size: 10"), read backwards.
_REVERSED_WORD_RE = re.compile(r"[ \t\u00a0:=]{0,3}([^\W\d_]{1,30})")
_REVERSED_GLUED_RE = re.compile(r"[ \t\u00a0:=_-]{0,3}([^\W\d_]{1,30})")
# "and a half" after a whole number: "4 and a half inches".
HALF_RE = re.compile(r"[ \u00a0](?:and|und)[ \u00a0](?:a[ \u00a0])?(?:half|halb)(?![^\W\d_])")

#: "12 in" is not twelve inches when "in" starts a phrase: "2 in the box", "3 in black".
NOT_INCH_FOLLOWERS = frozenset(
    " ".join(
        (
            "a an the one two three four five six seven eight nine ten our your their its his",
            "her my this that these those which any all each every stock store total case order",
            "fact general addition size sizes colour colours color colors shades packs pack sets",
            "use hand mind person stores particular",
        )
    ).split()
)
_QUOTES = {'"': "“", "”": "“", "″": "", "'": "‘", "’": "‘", "′": ""}
_SYMBOL_BY_NAME = {unit.symbol: unit for unit in SYMBOLS.values()}


def unit_for_symbol(symbol: str) -> Unit | None:
    """The :class:`Unit` whose canonical symbol this is."""
    return _SYMBOL_BY_NAME.get(symbol)


@dataclass(slots=True)
class Atom:
    """One number found by the scanner, before it becomes a claim or a fact's number."""

    start: int
    end: int
    value: float
    half_ulp: float
    #: Version numbers ("10.2.1") are compared as text, not as values.
    version: str = ""
    #: Spelled out ("three").
    word: bool = False
    unit: Unit | None = None
    unit_end: int = -1
    #: The unit comes from a neighbour in a range or a size ("45 x 30 cm": 45 gets cm).
    inherited: bool = False
    #: Part of a size "45 x 30" (True) or of a range "39-46" (False), or neither (None).
    in_dims: bool | None = None
    relation: str = "="
    approximate: bool = False
    #: Numbers of one range or size share the start of the first as their group.
    group: int = -1

    @property
    def span_end(self) -> int:
        return self.unit_end if self.unit and not self.inherited else self.end


def _decimals(digits: str) -> float:
    return 0.5 * 10.0 ** -len(digits)


def _grouped(integer: str, separator: str) -> bool:
    groups = integer.split(separator)
    return (
        1 <= len(groups[0]) <= 3
        and groups[0].isdigit()
        and all(len(g) == 3 and g.isdigit() for g in groups[1:])
    )


def _read_run(raw: str, start: int, lang: Language) -> list[Atom]:
    """Read "1,200.5" (en), "1.200,5" / "2,5" (de), split "1,2,3" into three numbers."""
    dec, thou = lang.decimal, lang.thousands
    if thou not in raw and raw.count(dec) <= 1:
        whole, _, frac = raw.partition(dec)
        value = float(f"{whole or 0}.{frac or 0}")
        return [Atom(start, start + len(raw), value, _decimals(frac) if frac else 0.5)]
    if thou not in raw and dec == ".":  # "10.2.1" in English: a version
        return [Atom(start, start + len(raw), float(raw.split(dec)[0] or 0), 0.5, version=raw)]
    whole, _, frac = raw.partition(dec)
    if thou in whole and _grouped(whole, thou) and dec not in frac and thou not in frac:
        value = float(whole.replace(thou, "") + "." + (frac or "0"))
        return [Atom(start, start + len(raw), value, _decimals(frac) if frac else 0.5)]
    if dec not in raw and raw.count(thou) == 1 and lang.code != "en":
        # "2.5" in German text: written the English way (a version, a copied spec).
        whole, _, frac = raw.partition(thou)
        return [Atom(start, start + len(raw), float(f"{whole}.{frac}"), _decimals(frac))]
    if thou == "." and dec not in raw:  # "1.2.3" in German text
        return [Atom(start, start + len(raw), float(raw.split(thou)[0] or 0), 0.5, version=raw)]
    # A list: "1,2,3", "39,5,6"; read each piece on its own.
    atoms: list[Atom] = []
    offset = start
    for piece in raw.split("," if "," in raw else thou):
        if (
            piece
            and piece.replace(".", "").isdigit()
            and piece[0] != "."
            and piece.count(".") <= 1
            and not piece.endswith(".")
        ):
            whole, _, frac = piece.partition(".")
            value = float(f"{whole}.{frac or 0}")
            atoms.append(Atom(offset, offset + len(piece), value, _decimals(frac) if frac else 0.5))
        offset += len(piece) + 1
    return atoms


#: Longer digit runs are no quantities (and Python refuses int() past 4300 digits).
MAX_NUMBER_LENGTH = 40


def _read_number(match: re.Match[str], lang: Language) -> list[Atom]:
    start = match.start()
    end = match.end()
    if end - start > MAX_NUMBER_LENGTH:
        return []
    run = match.group("run")
    if run is not None:
        return _read_run(run, start, lang)
    if match.group("mden") is not None:
        den = int(match.group("mden"))
        if den == 0:
            return []
        value = int(match.group("whole")) + int(match.group("mnum")) / den
        return [Atom(start, end, value, 0.5 / den)]
    if match.group("den") is not None:
        den = int(match.group("den"))
        if den == 0:
            return []
        return [Atom(start, end, int(match.group("num")) / den, 0.5 / den)]
    if match.group("vulgar") is not None:
        num, den = VULGAR[match.group("vulgar")]
        whole = int(match.group("vwhole") or 0)
        return [Atom(start, end, whole + num / den, 0.5 / den)]
    return []


def lookup_unit(candidate: str, lang: Language) -> Unit | None:
    """A unit from a symbol (case kept) or a word (case ignored), in the language or English."""
    unit = SYMBOLS.get(candidate)
    if unit is not None:
        return unit
    lowered = candidate.lower()
    words = WORDS.get(lang.code)
    if words is not None and lowered in words:
        return words[lowered]
    return WORDS["en"].get(lowered) if lang.code != "en" else None


def _symbol_unit(text: str, pos: int, atom_start: int) -> tuple[Unit, int] | None:
    """Units written with signs: 12", 5', 50 %, 40 °C, 40°."""
    char = text[pos : pos + 1]
    if not char:
        return None
    if char in _QUOTES:
        if char == "'" and text[pos + 1 : pos + 2] == "'":
            return SYMBOLS["''"], pos + 2
        after = text[pos + 1 : pos + 2]
        if after.isalpha() and not (
            after in "xX×" or after.isupper() and not text[pos + 2 : pos + 3].isalpha()
        ):
            return None  # "80's"; but 32"x20", 60"L
        opening = _QUOTES[char]
        before = text[atom_start - 1 : atom_start] if atom_start else ""
        if before and before in (char, opening):
            return None  # a quoted number: "5"
        return SYMBOLS[char], pos + 1
    spaced = pos
    if char in " \u00a0":
        spaced = pos + 1
        char = text[spaced : spaced + 1]
        if not char:
            return None
    if char == "%":
        return SYMBOLS["%"], spaced + 1
    if char in "℃℉":
        return SYMBOLS[char], spaced + 1
    if char in "°º":
        after = spaced + 1
        if text[after : after + 1] == " ":
            after += 1
        scale = text[after : after + 1]
        if scale in ("C", "F") and not text[after + 1 : after + 2].isalnum():
            return SYMBOLS["°" + scale], after + 1
        if scale in ("c", "f") and not text[after + 1 : after + 2].isalpha():
            return SYMBOLS["°" + scale.upper()], after + 1
        return SYMBOLS["°"], spaced + 1
    return None


def unit_after(text: str, pos: int, atom_start: int, lang: Language) -> tuple[Unit, int] | None:
    """The unit written right after a number ending at ``pos``, and where it ends."""
    found = _symbol_unit(text, pos, atom_start)
    if found is not None:
        return found
    match = UNIT_WORDS_RE.match(text, pos)
    if match is None:
        return None
    w1, w2, w3 = match.group("w1", "w2", "w3")
    per = match.group("per")
    candidates: list[tuple[str, int]] = []
    if w3 and w2 and not per:
        candidates.append((f"{w1} {w2} {w3}", match.end("w3")))
    if w2 and not per:
        candidates.append((f"{w1} {w2}", match.end("w2")))
    if per:
        candidates.append((w1 + per, match.end("per")))
    candidates.append((w1, match.end("w1")))
    for candidate, end in candidates:
        unit = lookup_unit(candidate, lang)
        if unit is None:
            continue
        if text[end : end + 1].isdigit():
            return None  # "3 A4 sheets"
        if candidate == "in" and not _inch_in(text, end, lang):
            return None
        if candidate in ("w", "W") and text[end : end + 1] == "/":
            return None  # "w/" is "with"
        return unit, end
    return None


def _inch_in(text: str, end: int, lang: Language) -> bool:
    """Whether "in" after a number is the inch: "12 in", "1 9/16 in bolt", not "2 in 1"."""
    rest = text[end : end + 24]
    if not rest or rest[0] in ".,;:!?)\n":
        return True
    if rest[0] == "-":
        return False
    stripped = rest.lstrip(" \u00a0")
    match = WORD_RE.match(stripped)
    if match is None:
        return not stripped[:1].isdigit()
    word = match.group()
    lowered = word.lower()
    if lowered in ("x", "by"):
        return True
    return not (
        lowered in NOT_INCH_FOLLOWERS
        or lookup_unit(word, lang) is not None  # "2 in grams"
        or lowered in lang.terms
        or lowered in lang.number_words
        or word[:1].isupper()
    )


def _ends_with_phrase(tail: str, phrases: tuple[str, ...] | list[str]) -> str | None:
    for phrase in phrases:
        if tail.endswith(phrase):
            cut = len(tail) - len(phrase)
            if cut == 0 or not tail[cut - 1].isalnum():
                return phrase
    return None


def scan(
    text: str,
    lang: Language,
    words: list[tuple[int, int, str]] | None = None,
    mask: bytearray | None = None,
    extra: list[Atom] | None = None,
) -> list[Atom]:
    """Every number in ``text`` outside ``mask``, with its unit, grouped into ranges and sizes."""
    atoms: list[Atom] = list(extra or ())
    for match in NUMBER_RE.finditer(text):
        if mask is not None and mask.find(1, match.start(), match.end()) != -1:
            continue
        atoms.extend(_read_number(match, lang))
    if words is None:
        words = words_of(text)
    number_words = lang.number_words
    for start, end, word in words:
        value = number_words.get(word)
        if value is not None and (mask is None or not mask[start]):
            atoms.append(Atom(start, end, float(value), 0.5, word=True))
    if extra or len(atoms) > 1:
        atoms.sort(key=lambda atom: atom.start)
    for atom in atoms:
        if not atom.version and atom.value == int(atom.value):
            half = HALF_RE.match(text, atom.end)
            if half is not None:
                atom.value += 0.5
                atom.half_ulp = 0.25
                atom.end = half.end()
        position = atom.end
        if text[position : position + 1] == "+":
            atom.relation = ">="
            position += 1
        found = unit_after(text, position, atom.start, lang)
        if found is not None and not (atom.word and found[0].dimension == "count"):
            atom.unit, atom.unit_end = found
        elif atom.word and atom.version == "":
            atom.unit_end = atom.end
    _group(text, atoms, lang)
    _qualify(text, atoms, lang)
    return atoms


def _group(text: str, atoms: list[Atom], lang: Language) -> None:
    """Join ranges ("39-46", "2 to 4 kg") and sizes ("45 x 30 cm"); share their unit."""
    groups: list[list[Atom]] = []
    current: list[Atom] = []
    for atom in atoms:
        if current:
            previous = current[-1]
            gap = text[previous.span_end : atom.start]
            joint = _joint(text, gap, current[0], lang)
            if joint is not None and not previous.version and not atom.version:
                previous.in_dims = joint
                atom.in_dims = joint
                atom.group = previous.group
                current.append(atom)
                continue
            if len(current) > 1:
                groups.append(current)
        current = [atom]
        atom.group = atom.start
        # A minus sign that joins nothing: "-5 °C" (a range's "-" was taken just above).
        if (
            atom.start >= 1
            and text[atom.start - 1] in "-−"
            and not atom.word
            and (atom.start == 1 or text[atom.start - 2] in " \t\n(")
        ):
            atom.value = -atom.value
            atom.start -= 1
    if len(current) > 1:
        groups.append(current)
    for group in groups:
        # The unit of the nearest number after (else before) that has one, in one pass each way.
        following: list[Unit | None] = [None] * len(group)
        unit: Unit | None = None
        for position in range(len(group) - 1, -1, -1):
            following[position] = unit
            if group[position].unit is not None:
                unit = group[position].unit
        unit = None
        for position, atom in enumerate(group):
            if atom.unit is not None:
                unit = atom.unit
            elif not atom.word:
                inherited = following[position] or unit
                if inherited is not None:
                    atom.unit = inherited
                    atom.unit_end = atom.end
                    atom.inherited = True


def _joint(text: str, gap: str, first: Atom, lang: Language) -> bool | None:
    """True for a size joint ("x", "by"), False for a range joint ("-", "to"), else None."""
    if len(gap) > 12:
        return None
    joint = gap.strip(" \u00a0")
    if joint in ("x", "X", "×", "*"):
        return True
    if joint in ("-", "–", "—", "~"):
        return False
    lowered = joint.lower()
    if lowered in lang.by_words:
        return True
    if lowered in lang.range_words:
        if lowered in ("and", "und"):
            tail = text[max(0, first.start - 12) : first.start].lower().rstrip()
            return False if _ends_with_phrase(tail, tuple(lang.range_openers)) else None
        return False
    return None


def _qualify(text: str, atoms: list[Atom], lang: Language) -> None:
    """Hedges ("about 30 h") and bounds ("more than 20 hours") just before a number."""
    hedges, comparators = _qualifiers(lang)
    first: Atom | None = None
    for atom in atoms:
        if first is not None and atom.group == first.group:
            atom.approximate = first.approximate
            atom.relation = first.relation
            continue
        first = atom
        if atom.relation != "=":
            continue  # "6+ months"
        tail = text[max(0, atom.start - 24) : atom.start].lower().split()
        if tail and tail[-1] in lang.range_openers:
            tail.pop()
        if not tail:
            continue
        if tail[-1].endswith("~") and tail[-1] != "~":
            tail.append("~")
        for size in (3, 2, 1):
            phrase = " ".join(tail[-size:])
            if phrase in hedges:
                atom.approximate = True
                break
            relation = comparators.get(phrase)
            if relation is not None:
                atom.relation = relation
                break


_QUALIFIERS: dict[str, tuple[frozenset[str], dict[str, str]]] = {}


def _qualifiers(lang: Language) -> tuple[frozenset[str], dict[str, str]]:
    found = _QUALIFIERS.get(lang.code)
    if found is None:
        found = _QUALIFIERS[lang.code] = (frozenset(lang.hedges), dict(lang.comparators))
    return found


def word_before(text: str, position: int, floor: int = 0, glued: bool = False) -> tuple[int, str]:
    """The word right before ``position`` (spaces, ":" and "=" between) and its start, or
    ``(-1, "")``. With ``glued``, "_" and "-" may join them too ("windows_7", "WH-1000")."""
    window = text[max(floor, position - 34) : position][::-1]
    match = (_REVERSED_GLUED_RE if glued else _REVERSED_WORD_RE).match(window)
    if match is None:
        return -1, ""
    return position - match.end(1), match.group(1)[::-1]


def words_of(text: str) -> list[tuple[int, int, str]]:
    """The words of ``text`` (letters only) as (start, end, lower-case word)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return [(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(lowered)]
    return [(m.start(), m.end(), m.group().lower()) for m in WORD_RE.finditer(text)]


def parse_quantities(text: str, *, language: str = "en") -> list[Quantity]:
    """Every number in ``text``, with its unit when it has one (unit-aware, see module doc).

    ``"9/16\\""`` is 0.5625 in, ``"1-9/16\\""`` 1.5625 in; in ``"45 x 30 cm"`` both numbers
    are centimetres; ``"between 2 and 4 kg"`` gives 2 kg and 4 kg. Spelled-out numbers count
    only with a unit ("three inches"). ``language="de"`` reads "2,5 kg" as 2.5 kg.
    """
    lang = language_for(language)
    quantities = []
    for atom in scan(text, lang):
        if atom.word and atom.unit is None:
            continue
        glued = text[atom.end : atom.end + 1]
        if atom.unit is None and glued.isalpha() and glued not in "xX×":
            continue  # "5G", "4K": part of a name, not a number
        unit = atom.unit
        quantities.append(
            Quantity(
                value=atom.value,
                unit=unit.symbol if unit else "",
                dimension=unit.dimension if unit else None,
                start=atom.start,
                end=atom.span_end,
                precision=atom.half_ulp,
                relation=atom.relation,
                approximate=atom.approximate,
            )
        )
    return quantities
