"""The shop's own words for what its products are: attribute names and codes, their units,
option and text values, the range of each number, product class names.

A shopper's wish can only become a filter the shop can check when it names one of these;
:mod:`oscar_gpt.finder.constraints` matches text against them and validates what the model
proposes. Built from the catalogue in a few queries and cached briefly
(``OSCAR_GPT["FINDER_CACHE_SECONDS"]``).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from django.core.cache import cache
from oscar.core.loading import get_model

from ..app_settings import app_settings
from ..descriptions.facts import split_unit
from ..qa.retrieval import light_stem

Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductClass = get_model("catalogue", "ProductClass")

BOOLEAN = "boolean"
NUMBER = "number"
CHOICE = "choice"

#: Oscar's attribute types, as the finder treats them.
KINDS = {
    ProductAttribute.BOOLEAN: BOOLEAN,
    ProductAttribute.INTEGER: NUMBER,
    ProductAttribute.FLOAT: NUMBER,
    ProductAttribute.OPTION: CHOICE,
    ProductAttribute.MULTI_OPTION: CHOICE,
    ProductAttribute.TEXT: CHOICE,
}


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Distinct values of a text attribute that still count as a vocabulary, not free text.
MAX_TEXT_VALUES = 60
#: Longest value (characters) matched in a shopper's text.
MAX_VALUE_LENGTH = 40

#: Words that say little about which attribute is meant: "Battery life" is found by
#: "battery", "Charging time" by "charging".
WEAK_WORDS = word_set(
    "life time size level capacity rating number count type amount total max min maximum "
    "minimum overall"
)
#: Words never matched as values or names on their own.
STOP_WORDS = word_set(
    "a an and are as at be by for from has have i in is it its me my of on or our that the "
    "this to was we with you your yes no other none standard"
)

#: Units as shops write them in attribute names, folded: "Battery life (hours)" -> "h".
UNIT_FORMS = {
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "min": ("min", "mins", "minute", "minutes"),
    "g": ("g", "gram", "grams", "gr"),
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"),
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
    "m": ("m", "metre", "metres", "meter", "meters"),
    "in": ("in", "inch", "inches", '"'),
    "w": ("w", "watt", "watts"),
    "l": ("l", "litre", "litres", "liter", "liters"),
    "ml": ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    "mah": ("mah",),
    "gb": ("gb", "gigabyte", "gigabytes"),
    "tb": ("tb", "terabyte", "terabytes"),
    "hz": ("hz", "hertz"),
    "db": ("db", "decibel", "decibels"),
    "v": ("v", "volt", "volts"),
}
UNIT_OF = {form: unit for unit, forms in UNIT_FORMS.items() for form in forms}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def stem(word: str) -> str:
    """A word's matching key: light stemming (plurals, -ing, -ed) plus -ation and doubled
    consonants, so "noise cancellation", "noise cancelling" and "noise canceling" agree."""
    word = light_stem(word.lower())
    if len(word) > 7 and word.endswith("ation"):
        word = word[:-5]
    elif len(word) > 6 and word.endswith("ion") and word[-4] in "ct":
        word = word[:-3]
    if len(word) > 4 and word[-1] == word[-2] and word[-1].isalpha() and word[-1] not in "s":
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(str(text).lower())


def stems(text: str, *, keep_stop_words: bool = False) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(text) if keep_stop_words or w not in STOP_WORDS)


def unit_key(unit: str) -> str:
    """``"hours"`` -> ``"h"``; an unknown unit is itself, folded."""
    folded = unit.strip().lower().rstrip(".")
    return UNIT_OF.get(folded, folded)


@dataclass
class Attribute:
    """One attribute code of the shop, across the product classes that have it."""

    code: str
    #: Its name without the unit: "Battery life".
    name: str
    #: The unit from the name, as written: "hours".
    unit: str
    #: :data:`BOOLEAN`, :data:`NUMBER` or :data:`CHOICE`.
    kind: str
    #: Oscar's attribute type.
    type: str
    #: Stems of the name that identify it ("battery" for "Battery life").
    key_stems: tuple[str, ...] = ()
    #: Every stem of the name.
    name_stems: tuple[str, ...] = ()
    #: For choices: folded value -> the value as the shop writes it.
    values: dict[str, str] = field(default_factory=dict)
    #: For numbers: every value in the shop, ascending.
    numbers: list[float] = field(default_factory=list)

    @property
    def unit_key(self) -> str:
        return unit_key(self.unit) if self.unit else ""

    def percentile(self, value: float) -> float:
        """The share of the shop's values at or below ``value`` (ties count half), 0..1."""
        if not self.numbers:
            return 0.5
        below = bisect_left(self.numbers, value)
        at_or_below = bisect_right(self.numbers, value)
        return (below + at_or_below) / 2 / len(self.numbers)

    def value_for(self, text: str) -> str | None:
        """The shop's spelling of a choice, given any spelling of it."""
        return self.values.get(" ".join(words(text)))

    def describe(self) -> str:
        """For the model: what the attribute takes."""
        if self.kind == BOOLEAN:
            return "true or false"
        if self.kind == NUMBER:
            unit = f" {self.unit}" if self.unit else ""
            return f'a number{unit} as {{"min": n}} or {{"max": n}}, or "high" or "low"'
        values = sorted(self.values.values())[:12]
        return "one of " + ", ".join(values)


@dataclass
class Vocabulary:
    attributes: dict[str, Attribute]
    #: Folded product class names -> the name as the shop writes it.
    classes: dict[str, str]
    #: Changes when any name, unit or value changes: part of the model reply's cache key.
    fingerprint: str = ""

    def by_name(self, text: str) -> Attribute | None:
        """An attribute given by code or name, as a model may write it."""
        folded = "_".join(words(text))
        if folded in self.attributes:
            return self.attributes[folded]
        wanted = stems(text.replace("_", " "))
        for attribute in self.attributes.values():
            if wanted and wanted == attribute.name_stems:
                return attribute
        return None

    def with_unit(self, unit: str) -> list[Attribute]:
        key = unit_key(unit)
        return [a for a in self.attributes.values() if a.kind == NUMBER and a.unit_key == key]


def _numbers() -> dict[str, list[float]]:
    public = Product.objects.filter(is_public=True)
    rows = ProductAttributeValue.objects.filter(
        product__in=public,
        attribute__type__in=[ProductAttribute.INTEGER, ProductAttribute.FLOAT],
    ).values_list("attribute__code", "value_integer", "value_float")
    numbers: dict[str, list[float]] = {}
    for code, integer, floating in rows.iterator(chunk_size=5000):
        value = integer if integer is not None else floating
        if value is not None:
            numbers.setdefault(code, []).append(float(value))
    return {code: sorted(values) for code, values in numbers.items()}


def _text_values() -> dict[str, set[str]]:
    public = Product.objects.filter(is_public=True)
    rows = (
        ProductAttributeValue.objects.filter(
            product__in=public, attribute__type=ProductAttribute.TEXT
        )
        .exclude(value_text="")
        .values_list("attribute__code", "value_text")
        .distinct()
    )
    values: dict[str, set[str]] = {}
    for code, text in rows[:20_000]:
        if text and len(text) <= MAX_VALUE_LENGTH:
            values.setdefault(code, set()).add(text.strip())
    return {code: found for code, found in values.items() if len(found) <= MAX_TEXT_VALUES}


def build() -> Vocabulary:
    """Read the catalogue's vocabulary (not cached: see :func:`vocabulary`)."""
    attributes: dict[str, Attribute] = {}
    rows = (
        ProductAttribute.objects.filter(type__in=list(KINDS))
        .select_related("option_group")
        .prefetch_related("option_group__options")
        .order_by("code", "pk")
    )
    numbers = _numbers()
    text_values = _text_values()
    for row in rows:
        if row.code in attributes:
            attribute = attributes[row.code]
            if attribute.type != row.type:
                continue  # the same code with another type in another class: the first wins
        else:
            name, unit = split_unit(row.name)
            name_stems = stems(name)
            key_stems = tuple(s for s in name_stems if s not in WEAK_WORDS) or name_stems
            attribute = Attribute(
                code=row.code,
                name=name,
                unit=unit,
                kind=KINDS[row.type],
                type=row.type,
                key_stems=key_stems,
                name_stems=name_stems,
                numbers=numbers.get(row.code, []),
            )
            attributes[row.code] = attribute
        if row.type in (ProductAttribute.OPTION, ProductAttribute.MULTI_OPTION):
            if row.option_group is not None:
                for option in row.option_group.options.all():
                    attribute.values.setdefault(" ".join(words(option.option)), option.option)
        elif row.type == ProductAttribute.TEXT:
            for value in text_values.get(row.code, ()):
                attribute.values.setdefault(" ".join(words(value)), value)
    # A text attribute without a small set of values is free text: nothing to match on.
    attributes = {
        code: a for code, a in attributes.items() if a.kind != CHOICE or a.values or a.numbers
    }
    classes = {
        " ".join(words(name)): name
        for name in ProductClass.objects.values_list("name", flat=True)
        if name
    }
    vocabulary = Vocabulary(attributes, classes)
    digest = hashlib.sha256()
    for code in sorted(attributes):
        a = attributes[code]
        digest.update(f"{code}\0{a.name}\0{a.unit}\0{a.kind}\0{sorted(a.values)}\n".encode())
    digest.update(repr(sorted(classes)).encode())
    vocabulary.fingerprint = digest.hexdigest()
    return vocabulary


CACHE_KEY = "oscar_gpt:finder:vocabulary"


def vocabulary() -> Vocabulary:
    """The shop's vocabulary, cached for ``FINDER_CACHE_SECONDS``."""
    seconds = app_settings.FINDER_CACHE_SECONDS
    if seconds:
        cached = cache.get(CACHE_KEY)
        if cached is not None:
            return cached
    built = build()
    if seconds:
        cache.set(CACHE_KEY, built, seconds)
    return built


def clear_cache() -> None:
    cache.delete(CACHE_KEY)
