"""A shopper's wish as constraints the shop can check: "wireless" -> ``wireless is true``,
"long battery life" -> ``battery_life_hours high``, "under £100" -> ``price at most 100``.

Two sources, one rule: a constraint names a real attribute code (or the price, or a product
class) with a value of that attribute's kind, or it is dropped.

- :func:`from_text` reads the text itself against the shop's vocabulary: attribute names and
  option values, numbers with units and comparatives, "long"/"short" next to an attribute.
  Deterministic, and enough on its own.
- :func:`from_model` validates what a model proposed (:func:`parse_reply` reads its JSON,
  however ragged). A small model invents, so unless the backend is trusted a proposal must
  also be grounded in the text: the attribute's name, its value or the number is there.

:func:`merge` keeps the text's constraints and adds the model's for attributes the text
pass found nothing about. English comparatives only; names and values in any language.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from ..app_settings import app_settings
from .vocabulary import (
    BOOLEAN,
    CHOICE,
    NUMBER,
    Attribute,
    Vocabulary,
    stem,
    stems,
    word_set,
    words,
)

PRICE = "price"
PRODUCT_CLASS = "product_class"

IS = "is"
IN = "in"
NOT_IN = "not_in"
AT_LEAST = "at_least"
AT_MOST = "at_most"
HIGH = "high"
LOW = "low"
OPS = (IS, IN, NOT_IN, AT_LEAST, AT_MOST, HIGH, LOW)


@dataclass(frozen=True)
class Constraint:
    """One checkable wish."""

    #: An attribute code, :data:`PRICE` or :data:`PRODUCT_CLASS`.
    code: str
    #: How the shop names it: "Battery life".
    name: str
    #: One of :data:`OPS`.
    op: str
    #: ``bool`` for :data:`IS`, a tuple of the shop's values for :data:`IN` / :data:`NOT_IN`,
    #: a number for :data:`AT_LEAST` / :data:`AT_MOST`, ``None`` for :data:`HIGH` / :data:`LOW`.
    value: Any = None
    unit: str = ""
    #: The shopper's word for :data:`HIGH` / :data:`LOW`: "long", "light".
    word: str = ""
    #: "text" or "model".
    source: str = "text"

    @property
    def attribute(self) -> str:
        """The attribute code (or :data:`PRICE`) it is about; a range's floor is
        ``"<code>:min"`` so that it can sit beside the ceiling."""
        return self.code.split(":", 1)[0]

    @property
    def hard(self) -> bool:
        """A product that disagrees is left out; soft constraints only rank."""
        return self.op in (IS, IN, NOT_IN, AT_LEAST, AT_MOST) and self.code != PRODUCT_CLASS

    def describe(self, currency: str | None = None) -> str:
        """For the shopper: "Wireless: yes", "Battery life: long", "Price: up to £100.00"."""
        if self.op == IS:
            return f"{self.name}: {_('yes') if self.value else _('no')}"
        if self.op == IN:
            return f"{self.name}: {_(' or ').join(self.value)}"
        if self.op == NOT_IN:
            return f"{self.name}: {_('not')} {_(' or ').join(self.value)}"
        if self.op in (HIGH, LOW):
            word = self.word or (_("high") if self.op == HIGH else _("low"))
            return f"{self.name}: {word}"
        amount = format_amount(self, self.value, currency)
        if self.op == AT_MOST:
            return f"{self.name}: {_('up to')} {amount}"
        return f"{self.name}: {_('at least')} {amount}"

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Decimal):
            value = float(value)
        return {
            "attribute": self.code,
            "name": self.name,
            "op": self.op,
            "value": value,
            "unit": self.unit,
            "source": self.source,
        }


def format_amount(constraint: Constraint, value, currency: str | None = None) -> str:
    if constraint.attribute == PRICE:
        from oscar.templatetags.currency_filters import currency as format_currency

        return format_currency(value, currency)
    number = f"{float(value):g}"
    return f"{number} {constraint.unit}".strip()


# -- reading the text ------------------------------------------------------------------------

NEGATORS = word_set("no not without non never nor dont doesnt isnt arent wont")
HIGH_WORDS = word_set(
    "long longer longest lasting big bigger biggest large larger largest high higher highest "
    "great greater extended extra plenty lots more strong stronger powerful good decent huge "
    "max maximum"
)
LOW_WORDS = word_set(
    "short shorter shortest small smaller smallest low lower lowest little less minimal "
    "compact tiny slim min minimum"
)
#: Words that name both an attribute and a direction: "lightweight" -> weight, low.
IMPLIED = {
    "lightweight": ("weight", LOW),
    "lighter": ("weight", LOW),
    "lightest": ("weight", LOW),
    "featherweight": ("weight", LOW),
    "heavy": ("weight", HIGH),
    "heavier": ("weight", HIGH),
    "heaviest": ("weight", HIGH),
}
CHEAP_WORDS = word_set("cheap cheaper cheapest affordable inexpensive budget")
PRICE_WORDS = word_set("price priced cost costs costing budget spend pay paying")
CURRENCY_WORDS = word_set("pound pounds quid gbp euro euros eur dollar dollars usd bucks")
AT_LEAST_PHRASES = (
    "at least",
    "no less than",
    "not less than",
    "more than",
    "greater than",
    "longer than",
    "heavier than",
    "bigger than",
    "larger than",
    "over",
    "above",
    "minimum",
    "min",
    "from",
    ">=",
    ">",
)
AT_MOST_PHRASES = (
    "at most",
    "no more than",
    "not more than",
    "less than",
    "fewer than",
    "shorter than",
    "lighter than",
    "smaller than",
    "cheaper than",
    "under",
    "below",
    "up to",
    "upto",
    "maximum",
    "max",
    "within",
    "<=",
    "<",
)
AFTER_AT_LEAST = ("or more", "or over", "or above", "or longer", "plus", "+")
AFTER_AT_MOST = ("or less", "or under", "or below", "or cheaper", "or lighter", "max")

_CMP = "|".join(
    re.escape(p) for p in sorted(AT_LEAST_PHRASES + AT_MOST_PHRASES, key=len, reverse=True)
)
_AFTER = "|".join(
    re.escape(p) for p in sorted(AFTER_AT_LEAST + AFTER_AT_MOST, key=len, reverse=True)
)
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?"
_NUMBER = re.compile(
    rf"(?:(?<![\w<>=])(?P<cmp>{_CMP})\s*)?(?P<currency>[£$€])?\s*(?P<number>{_DIGITS})"
    rf"(?:\s*(?P<currency_after>[£$€]))?(?:\s*(?!(?:or|and|to|plus)\b)(?P<unit>[a-z\"]+)\b)?(?:\s*(?P<after>{_AFTER}))?",
    re.IGNORECASE,
)
_RANGE = re.compile(
    rf"\bbetween\s*(?P<currency>[£$€])?\s*(?P<low>{_DIGITS})\s*(?P<unit1>[a-z\"]+)?\s*"
    rf"(?:and|-|to)\s*(?P<currency2>[£$€])?\s*(?P<high>{_DIGITS})\s*(?P<unit>[a-z\"]+)?",
    re.IGNORECASE,
)
_WORD_SPAN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class _Token:
    word: str
    stem: str
    start: int


def _synonyms() -> dict[str, tuple[str, ...]]:
    return {
        " ".join(words(source)): tuple(words(target))
        for source, target in app_settings.FINDER_SYNONYMS.items()
    }


def tokens(text: str) -> list[_Token]:
    """The text's words with their stems and where they start; synonyms spelled out."""
    synonyms = _synonyms()
    found = []
    for match in _WORD_SPAN.finditer(text.lower()):
        word = match.group()
        for piece in synonyms.get(word, (word,)):
            found.append(_Token(piece, stem(piece), match.start()))
    return found


def _find(sequence: list[str], phrase: tuple[str, ...], gap: int = 1) -> list[int]:
    """Where ``phrase`` occurs in ``sequence`` in order, each word at most ``gap`` words
    after the one before; the position of its first word."""
    if not phrase:
        return []
    found = []
    for start, item in enumerate(sequence):
        if item != phrase[0]:
            continue
        position, ok = start, True
        for wanted in phrase[1:]:
            window = sequence[position + 1 : position + 2 + gap]
            if wanted not in window:
                ok = False
                break
            position = position + 1 + window.index(wanted)
        if ok:
            found.append(start)
    return found


def _negated(toks: list[_Token], position: int) -> bool:
    before = [t.word for t in toks[max(0, position - 3) : position]]
    if any(word in NEGATORS for word in before):
        return True
    joined = " ".join(before)
    return any(f"{w} t" in joined for w in ("don", "doesn", "isn", "aren", "won"))


def _decimal(text: str) -> Decimal | None:
    """ "1,299.50" and "12,5" alike."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def from_text(text: str, vocabulary: Vocabulary) -> list[Constraint]:
    """Every constraint the text states in the shop's own words, in the order stated."""
    toks = tokens(text)
    sequence = [t.stem for t in toks]
    found: dict[str, tuple[int, Constraint]] = {}

    def add(position: int, constraint: Constraint, *, replace: bool = False) -> None:
        if constraint.code not in found or replace:
            found[constraint.code] = (position, constraint)

    _numbers_in(text, toks, vocabulary, add)
    for attribute in vocabulary.attributes.values():
        if attribute.kind == BOOLEAN:
            for phrase in {attribute.name_stems, stems(attribute.code.replace("_", " "))}:
                for position in _find(sequence, phrase):
                    add(
                        position,
                        Constraint(
                            attribute.code, attribute.name, IS, not _negated(toks, position)
                        ),
                    )
        elif attribute.kind == CHOICE:
            wanted, unwanted, first = [], [], None
            for folded, value in attribute.values.items():
                phrase = stems(folded)
                if not phrase or not any(ch.isalpha() for ch in folded):
                    continue
                for position in _find(sequence, phrase, gap=0):
                    (unwanted if _negated(toks, position) else wanted).append(value)
                    first = position if first is None else min(first, position)
            if wanted:
                add(
                    first,
                    Constraint(attribute.code, attribute.name, IN, tuple(dict.fromkeys(wanted))),
                )
            elif unwanted:
                add(
                    first,
                    Constraint(
                        attribute.code, attribute.name, NOT_IN, tuple(dict.fromkeys(unwanted))
                    ),
                )
        elif attribute.kind == NUMBER and attribute.code not in found:
            hit = _direction(toks, sequence, attribute)
            if hit is not None:
                position, op, word = hit
                add(
                    position,
                    Constraint(attribute.code, attribute.name, op, None, attribute.unit, word),
                )
    if PRICE not in found:
        for position, token in enumerate(toks):
            if token.word in CHEAP_WORDS:
                add(position, Constraint(PRICE, str(_("Price")), LOW, None, "", token.word))
                break
    for folded, name in vocabulary.classes.items():
        phrase = stems(folded)
        positions = _find(sequence, phrase, gap=0)
        if positions:
            add(positions[0], Constraint(PRODUCT_CLASS, str(_("Product type")), IN, (name,)))
            break
    return [constraint for _, constraint in sorted(found.values(), key=lambda item: item[0])]


def _direction(toks, sequence, attribute: Attribute) -> tuple[int, str, str] | None:
    """ "long battery", "battery that lasts long", "lightweight" -> (position, op, word)."""
    for position, token in enumerate(toks):
        implied = IMPLIED.get(token.word)
        if implied and implied[0] in attribute.key_stems:
            return position, implied[1], token.word
    for key in attribute.key_stems:
        for position, item in enumerate(sequence):
            if item != key:
                continue
            nearby = toks[max(0, position - 3) : position] + toks[position + 1 : position + 4]
            for token in nearby:
                if token.word in HIGH_WORDS:
                    return position, HIGH, token.word
                if token.word in LOW_WORDS:
                    return position, LOW, token.word
    return None


def _token_at(toks: list[_Token], offset: int) -> int:
    """The index of the token at or after character ``offset``."""
    for index, token in enumerate(toks):
        if token.start >= offset:
            return index
    return len(toks)


def _direction_of(cmp: str | None, after: str | None) -> str | None:
    cmp = (cmp or "").lower()
    after = (after or "").lower()
    if cmp in AT_LEAST_PHRASES or after in AFTER_AT_LEAST:
        return AT_LEAST
    if cmp in AT_MOST_PHRASES or after in AFTER_AT_MOST:
        return AT_MOST
    return None


def _numbers_in(text: str, toks, vocabulary: Vocabulary, add) -> None:
    """Numbers with a comparative: a price ("under £100", "£80 or less", "between £50 and
    £100") or an attribute found by its unit or its name nearby ("over 20 hours")."""
    sequence = [t.stem for t in toks]
    lowered = text.lower()
    taken: list[tuple[int, int]] = []
    for match in _RANGE.finditer(lowered):
        low, high = _decimal(match["low"]), _decimal(match["high"])
        if low is None or high is None or low > high:
            continue
        unit = match["unit"] or match["unit1"] or ""
        position = _token_at(toks, match.start())
        is_price = bool(match["currency"] or match["currency2"]) or unit in CURRENCY_WORDS
        target = None if is_price else _attribute_for(unit, position, sequence, vocabulary)
        if is_price or (target is None and _price_context(toks, position)):
            code, name = PRICE, str(_("Price"))
            add(position, Constraint(code, name, AT_MOST, high), replace=True)
            add(position + 0.5, Constraint(f"{PRICE}:min", name, AT_LEAST, low))
        elif target is not None:
            add(position, Constraint(target.code, target.name, AT_MOST, high, target.unit))
            add(
                position + 0.5,
                Constraint(f"{target.code}:min", target.name, AT_LEAST, low, target.unit),
            )
        taken.append(match.span())
    for match in _NUMBER.finditer(lowered):
        if any(start <= match.start() < end for start, end in taken):
            continue
        number = _decimal(match["number"])
        if number is None:
            continue
        unit = (match["unit"] or "").strip()
        currency = match["currency"] or match["currency_after"]
        position = _token_at(toks, match.start("number"))
        op = _direction_of(match["cmp"], match["after"])
        is_price = bool(currency) or unit in CURRENCY_WORDS
        if not is_price and not unit and _price_context(toks, position):
            is_price = True
        if is_price:
            if op is None and _budget_context(toks, position):
                op = AT_MOST
            if op is not None:
                code = PRICE if op == AT_MOST else f"{PRICE}:min"
                add(position, Constraint(code, str(_("Price")), op, number))
            continue
        if op is None:
            continue
        target = _attribute_for(unit, position, sequence, vocabulary)
        if target is not None:
            add(position, Constraint(target.code, target.name, op, number, target.unit))


def _attribute_for(unit: str, position: int, sequence, vocabulary: Vocabulary) -> Attribute | None:
    """A number attribute by its unit (the one named nearby when several share it), else by
    its name just before the number: "battery life over 20"."""
    nearby = set(sequence[max(0, position - 5) : position + 6])
    candidates = vocabulary.with_unit(unit) if unit else []
    if candidates:
        if len(candidates) == 1:
            return candidates[0]
        named = [a for a in candidates if set(a.key_stems) & nearby]
        return named[0] if len(named) == 1 else None
    before = set(sequence[max(0, position - 5) : position])
    named = [
        a for a in vocabulary.attributes.values() if a.kind == NUMBER and set(a.key_stems) & before
    ]
    return named[0] if len(named) == 1 else None


def _price_context(toks, position: int) -> bool:
    return any(t.word in PRICE_WORDS for t in toks[max(0, position - 4) : position])


def _budget_context(toks, position: int) -> bool:
    return any(t.word in ("budget", "spend", "pay") for t in toks[max(0, position - 4) : position])


# -- reading the model's reply ---------------------------------------------------------------

SUMMARY_KEYS = frozenset({"summary", "explanation", "reason", "looking_for"})
PRICE_MAX_KEYS = frozenset(
    {"price", "max_price", "price_max", "budget", "maximum_price", "price_under"}
)
PRICE_MIN_KEYS = frozenset({"min_price", "price_min", "minimum_price", "price_over"})
NESTED_KEYS = frozenset({"filters", "attributes", "constraints", "filter"})
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "required", "must"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "none", "without"})

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_PAIR = re.compile(
    r"""["']?(?P<key>[A-Za-z][\w -]{0,40}?)["']?\s*[:=]\s*"""
    r"""(?P<value>"[^"]*"|'[^']*'|\{[^{}]*\}|\[[^\[\]]*\]|[^,\n{}]+)"""
)


def parse_reply(raw: str) -> dict[str, Any]:
    """The model's JSON object, repaired where a small model gets JSON wrong (single quotes,
    Python's True, trailing commas, prose around it, no braces at all). ``{}`` if none."""
    text = (raw or "").strip()
    text = re.sub(r"^```(?:json)?|```$", "", text, flags=re.MULTILINE).strip()
    match = _OBJECT.search(text)
    candidates = []
    if match:
        body = match.group()
        candidates.append(body)
        # The first complete object, when the model went on writing after it.
        depth = 0
        for index, char in enumerate(body):
            depth += char == "{"
            depth -= char == "}"
            if depth == 0:
                candidates.append(body[: index + 1])
                break
    elif "{" in text:
        candidates.append(text[text.index("{") :] + "}")
    for candidate in candidates:
        for attempt in (candidate, _repaired(candidate)):
            try:
                data = json.loads(attempt)
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    pairs = {}
    for pair in _PAIR.finditer(text):
        value = pair["value"].strip().strip("'\"").strip()
        if pair["value"].strip().startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                value = json.loads(_repaired(pair["value"]))
        pairs[pair["key"].strip()] = value
    return pairs


def _repaired(text: str) -> str:
    text = re.sub(r"(?<![\w\"])'([^'\n]*)'", r'"\1"', text)
    text = re.sub(r"\bTrue\b", "true", text)
    text = re.sub(r"\bFalse\b", "false", text)
    text = re.sub(r"\bNone\b", "null", text)
    text = re.sub(r",\s*([}\]])", r"\1", text)
    text = re.sub(r"([{,]\s*)([A-Za-z_][\w ]*?)\s*:", r'\1"\2":', text)
    return text


@dataclass
class ModelReading:
    constraints: list[Constraint] = field(default_factory=list)
    summary: str = ""
    #: What the model proposed that is not a real attribute or value, or not in the text.
    dropped: list[str] = field(default_factory=list)


def from_model(
    data: dict[str, Any], vocabulary: Vocabulary, text: str, *, trusted: bool = False
) -> ModelReading:
    """The model's proposals that validate against the vocabulary (and, unless ``trusted``,
    are grounded in ``text``)."""
    toks = tokens(text)
    text_stems = {t.stem for t in toks}
    text_numbers = {_decimal(n) for n in re.findall(r"\d+(?:[.,]\d+)?", text)}
    reading = ModelReading()
    items = list(data.items())
    for key, value in list(items):
        if str(key).lower() in NESTED_KEYS and isinstance(value, dict):
            items += list(value.items())
    seen: set[str] = set()
    for key, value in items:
        key = str(key).strip()
        folded = "_".join(words(key))
        if folded in NESTED_KEYS and isinstance(value, dict):
            continue
        if folded in SUMMARY_KEYS:
            if isinstance(value, str):
                reading.summary = value.strip()
            continue
        constraint = _model_constraint(
            folded, key, value, vocabulary, text_stems, text_numbers, trusted
        )
        if constraint is None or constraint.code in seen:
            reading.dropped.append(f"{key}={value!r}"[:80])
            continue
        seen.add(constraint.code)
        reading.constraints.append(constraint)
    return reading


def _number(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        match = re.search(r"\d+(?:[.,]\d+)?", value)
        return _decimal(match.group()) if match else None
    return None


def _model_constraint(folded, key, value, vocabulary, text_stems, text_numbers, trusted):
    if folded in PRICE_MAX_KEYS or folded in PRICE_MIN_KEYS:
        number = _number(value)
        if number is None or number <= 0 or (not trusted and number not in text_numbers):
            return None
        if folded in PRICE_MAX_KEYS:
            return Constraint(PRICE, str(_("Price")), AT_MOST, number, source="model")
        return Constraint(f"{PRICE}:min", str(_("Price")), AT_LEAST, number, source="model")
    attribute = vocabulary.by_name(key)
    if attribute is None:
        return None
    named = bool(set(attribute.key_stems) & text_stems)
    if attribute.kind == BOOLEAN:
        flag = _flag(value)
        if flag is None or not (trusted or named):
            return None
        return Constraint(attribute.code, attribute.name, IS, flag, source="model")
    if attribute.kind == CHOICE:
        raw = value if isinstance(value, list) else [value]
        values = [attribute.value_for(str(v)) for v in raw if isinstance(v, str | int | float)]
        if not values or None in values:
            return None
        if not trusted and not (named or all(set(stems(v)) <= text_stems for v in values)):
            return None
        return Constraint(
            attribute.code, attribute.name, IN, tuple(dict.fromkeys(values)), source="model"
        )
    if attribute.kind == NUMBER:
        if not (trusted or named):
            return None
        if isinstance(value, dict):
            lowered = {str(k).lower(): v for k, v in value.items()}
            for op, keys in (
                (AT_LEAST, ("min", "at_least", "minimum")),
                (AT_MOST, ("max", "at_most", "maximum")),
            ):
                for k in keys:
                    if k in lowered:
                        number = _number(lowered[k])
                        if number is not None and (trusted or number in text_numbers):
                            return Constraint(
                                attribute.code,
                                attribute.name,
                                op,
                                number,
                                attribute.unit,
                                source="model",
                            )
            return None
        word = str(value).strip().lower()
        if word in HIGH_WORDS or word in ("high", "higher"):
            return Constraint(
                attribute.code, attribute.name, HIGH, None, attribute.unit, word, "model"
            )
        if word in LOW_WORDS or word in ("low", "lower"):
            return Constraint(
                attribute.code, attribute.name, LOW, None, attribute.unit, word, "model"
            )
    return None


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def merge(from_text: list[Constraint], from_model: list[Constraint]) -> list[Constraint]:
    """The text's constraints, then the model's about anything the text pass did not find."""
    codes = {c.code for c in from_text}
    return list(from_text) + [c for c in from_model if c.code not in codes]
