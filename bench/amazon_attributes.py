"""Read Amazon's structured product attributes (the semiPQA data-to-text files) into Facts.

One attribute per row, in Amazon's JSON-like notation: unquoted keys, bare or quoted values,
objects separated by ``;``::

    brand: { value:"CHANEL" }
    component_type: { value:"Memory" }; { value:"Display" }
    item_weight: { unit:grams, normalized_value:{ unit:pounds, value:0.11 }, value:50.0 }
    battery: { cell_composition:[ { value:lithium } ], capacity:[ { unit:milliampere_hour,
               value:3000.0 } ] }

The parser is tolerant: what it cannot read becomes a text fact rather than an error.
"""

from __future__ import annotations

import re
from typing import Any

from oscar_gpt.grounding import Fact

#: Bookkeeping keys that say nothing about the product.
METADATA = frozenset(
    {
        "approved",
        "notTombstoned",
        "approvedNoValue",
        "brand_seq_id",
        "language_tag",
        "marketplace_id",
    }
)
_NUMBER_RE = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char in ('"', "'"):
            return self.string(char)
        return self.bare()

    def object(self) -> dict[str, Any]:
        self.pos += 1  # {
        result: dict[str, Any] = {}
        while True:
            char = self.peek()
            if not char:
                return result
            if char == "}":
                self.pos += 1
                return result
            if char == ",":
                self.pos += 1
                continue
            colon = self.text.find(":", self.pos)
            if colon == -1:
                self.pos = len(self.text)
                return result
            key = self.text[self.pos : colon].strip()
            self.pos = colon + 1
            result[key] = self.value()

    def array(self) -> list[Any]:
        self.pos += 1  # [
        items: list[Any] = []
        while True:
            char = self.peek()
            if not char:
                return items
            if char == "]":
                self.pos += 1
                return items
            if char == ",":
                self.pos += 1
                continue
            items.append(self.value())

    def string(self, quote: str) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                break
            out.append(char)
            self.pos += 1
        return "".join(out)

    def bare(self) -> Any:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",}];":
            self.pos += 1
        token = self.text[start : self.pos].strip()
        if token in ("true", "false"):
            return token == "true"
        if token.startswith("null"):
            return None
        if _NUMBER_RE.fullmatch(token):
            return float(token)
        return token


def parse(data: str) -> tuple[str, list[Any]]:
    """The attribute's name and its objects (one per ``;``-separated part)."""
    name, _colon, rest = data.partition(":")
    reader = _Reader(rest)
    objects = []
    while reader.pos < len(reader.text):
        char = reader.peek()
        if not char:
            break
        if char == ";":
            reader.pos += 1
            continue
        before = reader.pos
        objects.append(reader.value())
        if reader.pos == before:  # nothing readable: keep the rest as text
            objects.append(reader.text[reader.pos :].strip())
            break
    return name.strip(), objects


def _label(path: list[str]) -> str:
    words = " ".join(part.replace("_", " ") for part in path if part)
    return words[:1].upper() + words[1:]


def _flatten(path: list[str], node: Any, out: list[Fact]) -> None:
    if node is None:
        return
    if isinstance(node, list):
        for item in node:
            _flatten(path, item, out)
        return
    if not isinstance(node, dict):
        out.append(Fact(_label(path), node))
        return
    unit = node.get("unit")
    if isinstance(unit, str):
        for key, value in node.items():
            if key in METADATA or key == "unit":
                continue
            if key == "normalized_value":
                _flatten(path, value, out)
            elif isinstance(value, float):
                name = path if key in ("value", "decimal_value", "content") else [*path, key]
                out.append(Fact(_label(name), value, unit))
            elif isinstance(value, str) and key.endswith("value") and _NUMBER_RE.fullmatch(value):
                out.append(Fact(_label(path), float(value), unit))
            elif isinstance(value, str):
                out.append(Fact(_label(path if key.endswith("value") else [*path, key]), value))
            else:
                _flatten([*path, key], value, out)
        return
    for key, value in node.items():
        if key in METADATA:
            continue
        if key.endswith("_unit") and isinstance(value, str):
            quantity = node.get(key[: -len("_unit")] + "_quantity")
            if isinstance(quantity, float):
                out.append(Fact(_label([*path, key[: -len("_unit")]]), quantity, value))
            continue
        if key.endswith("_quantity") and isinstance(
            node.get(key[: -len("_quantity")] + "_unit"), str
        ):
            continue
        _flatten(path if key == "value" else [*path, key], value, out)


def facts_from(data: str) -> list[Fact]:
    """Facts for one row's ``data``: a multi-option attribute becomes one list-valued fact."""
    name, objects = parse(data)
    values = [
        obj.get("value")
        for obj in objects
        if isinstance(obj, dict) and set(obj) - METADATA == {"value"}
    ]
    if (
        len(objects) > 1
        and len(values) == len(objects)
        and all(isinstance(value, str) for value in values)
    ):
        return [Fact(_label([name]), values)]
    facts: list[Fact] = []
    for obj in objects:
        _flatten([name], obj, facts)
    return facts
