"""Reading a shopper's wish into constraints against a shop's vocabulary, and validating
what a model proposes. Pure functions: the vocabulary is built by hand, as the catalogue
would give it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oscar_gpt.finder import constraints as c
from oscar_gpt.finder.vocabulary import BOOLEAN, CHOICE, NUMBER, Attribute, Vocabulary, stems

SEED = "I am looking for a wireless headphone with noise cancellation and a long battery life."


def attribute(code, name, kind, unit="", values=(), numbers=(), type_=None):
    name_stems = stems(name)
    key = tuple(s for s in name_stems if s not in {"life", "time"}) or name_stems
    return Attribute(
        code=code,
        name=name,
        unit=unit,
        kind=kind,
        type=type_ or {BOOLEAN: "boolean", NUMBER: "integer", CHOICE: "option"}[kind],
        key_stems=key,
        name_stems=name_stems,
        values={v.lower(): v for v in values},
        numbers=sorted(numbers),
    )


@pytest.fixture
def vocab() -> Vocabulary:
    attributes = [
        attribute("wireless", "Wireless", BOOLEAN),
        attribute("noise_cancelling", "Noise cancelling", BOOLEAN),
        attribute("battery_life_hours", "Battery life", NUMBER, "hours", numbers=[8, 20, 30, 40]),
        attribute("weight_g", "Weight", NUMBER, "g", numbers=[180, 250, 320]),
        attribute("capacity_l", "Capacity", NUMBER, "l", numbers=[1.0, 1.7]),
        attribute("colour", "Colour", CHOICE, values=["Black", "Silver", "Midnight blue"]),
        attribute("material", "Material", CHOICE, values=["aluminium", "plastic"], type_="text"),
    ]
    return Vocabulary(
        {a.code: a for a in attributes},
        {"headphones": "Headphones", "kettles": "Kettles"},
        "test",
    )


def described(constraints, currency="GBP"):
    return [constraint.describe(currency) for constraint in constraints]


def by_code(constraints):
    return {constraint.code: constraint for constraint in constraints}


def test_the_seed_sentence(vocab):
    found = by_code(c.from_text(SEED, vocab))
    assert found["wireless"].op == c.IS and found["wireless"].value is True
    assert found["noise_cancelling"].value is True  # "cancellation" reads as "cancelling"
    assert found["battery_life_hours"].op == c.HIGH
    assert found["battery_life_hours"].word == "long"
    assert found[c.PRODUCT_CLASS].value == ("Headphones",)
    assert set(found) == {"wireless", "noise_cancelling", "battery_life_hours", c.PRODUCT_CLASS}
    assert described([found["battery_life_hours"]]) == ["Battery life: long"]


@pytest.mark.parametrize(
    ("text", "op", "amount"),
    [
        ("headphones under £100", c.AT_MOST, "100"),
        ("something below 99.50 pounds", c.AT_MOST, "99.50"),
        ("£80 or less please", c.AT_MOST, "80"),
        ("my budget is 120", c.AT_MOST, "120"),
        ("no more than €1,299.00", c.AT_MOST, "1299.00"),
        ("price over $50", c.AT_LEAST, "50"),
    ],
)
def test_prices(vocab, text, op, amount):
    prices = [k for k in c.from_text(text, vocab) if k.attribute == c.PRICE]
    assert len(prices) == 1
    assert prices[0].op == op and prices[0].value == Decimal(amount)


def test_a_price_range_is_a_floor_and_a_ceiling(vocab):
    found = by_code(c.from_text("kettles between £20 and £45", vocab))
    assert found[c.PRICE].op == c.AT_MOST and found[c.PRICE].value == 45
    assert found["price:min"].op == c.AT_LEAST and found["price:min"].value == 20
    assert described([found[c.PRICE]]) == ["Price: up to £45.00"]


def test_a_number_without_a_currency_or_price_word_is_no_price(vocab):
    assert not [k for k in c.from_text("a kettle of 1.7 l", vocab) if k.attribute == c.PRICE]
    assert not [k for k in c.from_text("I'd hover 20 feet", vocab) if k.attribute == c.PRICE]


@pytest.mark.parametrize(
    ("text", "code", "op", "value"),
    [
        ("battery over 20 hours", "battery_life_hours", c.AT_LEAST, 20),
        ("at least 30h of battery", "battery_life_hours", c.AT_LEAST, 30),
        ("lighter than 300 g", "weight_g", c.AT_MOST, 300),
        ("weighs under 0.3 kg", None, None, None),  # no attribute in kg: nothing invented
        ("battery life over 25", "battery_life_hours", c.AT_LEAST, 25),
        ("40 hours or more", "battery_life_hours", c.AT_LEAST, 40),
    ],
)
def test_numbers_with_units_and_comparatives(vocab, text, code, op, value):
    found = [k for k in c.from_text(text, vocab) if k.op in (c.AT_LEAST, c.AT_MOST)]
    if code is None:
        assert found == []
        return
    assert len(found) == 1
    assert (found[0].code, found[0].op, found[0].value) == (code, op, Decimal(value))


@pytest.mark.parametrize(
    ("text", "code", "op"),
    [
        ("long battery life", "battery_life_hours", c.HIGH),
        ("a battery that lasts long", "battery_life_hours", c.HIGH),
        ("short battery is fine", "battery_life_hours", c.LOW),
        ("lightweight headphones", "weight_g", c.LOW),
        ("a big capacity kettle", "capacity_l", c.HIGH),
    ],
)
def test_words_of_direction(vocab, text, code, op):
    assert by_code(c.from_text(text, vocab))[code].op == op


def test_negation_and_choices(vocab):
    found = by_code(
        c.from_text("black or midnight blue, not wireless, without noise cancelling", vocab)
    )
    assert found["colour"].op == c.IN and found["colour"].value == ("Black", "Midnight blue")
    assert found["wireless"].value is False
    assert found["noise_cancelling"].value is False
    assert by_code(c.from_text("anything but not silver", vocab))["colour"].op == c.NOT_IN
    assert by_code(c.from_text("an aluminium one", vocab))["material"].value == ("aluminium",)


def test_synonyms_and_cheap(vocab):
    found = by_code(c.from_text("cheap cordless headphones", vocab))
    assert found["wireless"].value is True
    assert found[c.PRICE].op == c.LOW and found[c.PRICE].word == "cheap"


@pytest.mark.parametrize(
    "text",
    [
        "asdkj qwpoe zzxv",
        "a purple unicorn saddle that sings opera",
        "something with telepathic pairing and a holographic display",
    ],
)
def test_words_the_shop_does_not_have_make_no_constraints(vocab, text):
    assert c.from_text(text, vocab) == []


# -- the model's reply -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"wireless": true, "price": 100}', {"wireless": True, "price": 100}),
        ('```json\n{"wireless": true}\n```', {"wireless": True}),
        (
            "Sure! Here it is: {'wireless': True, 'noise_cancelling': True,} Hope it helps.",
            {"wireless": True, "noise_cancelling": True},
        ),
        ('{"wireless": true} {"extra": 1}', {"wireless": True}),
        ('{wireless: true, colour: "Black"}', {"wireless": True, "colour": "Black"}),
        (
            '{"battery_life_hours": {"min": 20}, "summary": "long',
            {"battery_life_hours": '{"min": 20}', "summary": "long"},
        ),
        ("wireless: yes\ncolour: Black", {"wireless": "yes", "colour": "Black"}),
        ("I cannot help with that.", {}),
        ("", {}),
    ],
)
def test_replies_are_read_however_ragged(raw, expected):
    data = c.parse_reply(raw)
    if "battery_life_hours" in expected:  # a truncated reply: the pairs that survived
        assert "battery_life_hours" in data and data.get("summary", "").startswith("long")
        return
    assert data == expected


def test_model_proposals_are_validated_against_the_vocabulary(vocab):
    data = {
        "wireless": "yes",
        "noise_cancelling": True,
        "teleportation": True,  # no such attribute
        "colour": "Purple",  # no such value
        "battery_life_hours": {"min": 20},
        "price": 100,
        "summary": "wireless headphones",
    }
    text = "wireless noise cancelling headphones, battery at least 20 hours, under £100"
    reading = c.from_model(data, vocab, text)
    found = by_code(reading.constraints)
    assert found["wireless"].value is True and found["wireless"].source == "model"
    assert found["noise_cancelling"].value is True
    assert found["battery_life_hours"].op == c.AT_LEAST and found["battery_life_hours"].value == 20
    assert found[c.PRICE].value == 100
    assert "teleportation" not in found and "colour" not in found
    assert any(d.startswith("teleportation") for d in reading.dropped)
    assert reading.summary == "wireless headphones"


def test_a_small_model_cannot_add_what_the_text_does_not_say(vocab):
    data = {"wireless": True, "colour": "Black", "price": 50, "battery_life_hours": {"min": 99}}
    text = "noise cancelling headphones with a long battery"
    reading = c.from_model(data, vocab, text)
    assert {k.code for k in reading.constraints} == set()  # none of these is in the text
    trusted = c.from_model(data, vocab, text, trusted=True)
    assert {k.code for k in trusted.constraints} == {
        "wireless",
        "colour",
        c.PRICE,
        "battery_life_hours",
    }


def test_the_text_wins_over_the_model(vocab):
    text_pass = c.from_text("not wireless, black", vocab)
    model = c.from_model(
        {"wireless": True, "material": "plastic"}, vocab, "not wireless, black plastic"
    ).constraints
    merged = by_code(c.merge(text_pass, model))
    assert merged["wireless"].value is False and merged["wireless"].source == "text"
    assert merged["material"].source == "model"
