"""Which language a shopper's question is answered in (``oscar_gpt.qa.language``).

The sandbox lists English (en-gb), German and French in ``LANGUAGES``; a question in one of
them is answered in it, any other in the language the shopper browses in, where the shop
has it, or else in ``LANGUAGE_CODE``.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from oscar_gpt.qa.language import answer_language, detect, language_name

ENGLISH = [
    "What is the battery life?",
    "How long does the battery last?",
    "Is it wireless?",
    "Does it fold?",
    "Can I use it with a cable?",
    "How many colours are there?",
    "Does the battery die quickly?",  # "die" is German too
]
GERMAN = [
    "Wie lange hält der Akku?",
    "Ist das Kabel abnehmbar?",
    "Hat es Bluetooth?",
    "Gibt es eine Tasche?",
    "Wie schwer sind die Kopfhörer?",
    "Ist der Akku austauschbar?",
]
FRENCH = [
    "Quelle est la durée de la batterie?",
    "Combien pèse le casque?",
    "Est-il étanche?",
    "Y a-t-il un étui?",
    "Le son est-il bon?",
    "Est-ce que la batterie dure longtemps?",
]
SPANISH = ["¿Cuánto dura la batería?", "¿Es la batería recargable?"]


def test_the_sandbox_lists_english_german_and_french():
    assert [code for code, _ in settings.LANGUAGES] == ["en-gb", "de", "fr"]
    assert settings.LANGUAGE_CODE == "en-gb"


@pytest.mark.parametrize(
    "text, code",
    [(t, "en") for t in ENGLISH]
    + [(t, "de") for t in GERMAN]
    + [(t, "fr") for t in FRENCH]
    + [(t, "es") for t in SPANISH],
)
def test_detect_reads_the_questions_language(text, code):
    assert detect(text) == code


@pytest.mark.parametrize(
    "text",
    ["", "   ", "?!", "30", "USB-C", "Battery?", "ok", "LDAC", "la", "250 g?"],
)
def test_detect_says_nothing_when_the_words_dont_tell(text):
    assert detect(text) is None


@pytest.mark.parametrize("preferred", ["en-gb", "de", "fr", None])
def test_a_question_in_a_listed_language_is_answered_in_it(preferred):
    """Whatever the shopper browses in: a German question gets a German answer."""
    for text in ENGLISH:
        assert answer_language(text, preferred) == "en-gb", text
    for text in GERMAN:
        assert answer_language(text, preferred) == "de", text
    for text in FRENCH:
        assert answer_language(text, preferred) == "fr", text


def test_the_shoppers_variant_of_a_language_is_kept_where_listed(settings):
    settings.LANGUAGES = [("en-gb", "British English"), ("en-us", "American English")]
    assert answer_language("Is it wireless?", "en-us") == "en-us"
    assert answer_language("Is it wireless?", "en-gb") == "en-gb"


def test_an_unlisted_variant_falls_back_to_the_listed_one():
    assert answer_language("Is it wireless?", "en-us") == "en-gb"
    assert answer_language("Wie lange hält der Akku?", "de-at") == "de"


@pytest.mark.parametrize("text", SPANISH)
def test_a_question_in_an_unlisted_language_is_answered_in_the_browsing_language(text):
    assert answer_language(text, "fr") == "fr"
    assert answer_language(text, "de") == "de"
    assert answer_language(text, "en-gb") == "en-gb"


@pytest.mark.parametrize("text", SPANISH)
def test_else_in_the_shops_language(text):
    assert answer_language(text, None) == "en-gb"
    assert answer_language(text, "es") == "en-gb"  # browsing in a language the shop lacks
    assert answer_language(text, "") == "en-gb"


def test_the_shops_language_is_language_code(settings):
    settings.LANGUAGE_CODE = "de"
    assert answer_language("¿Cuánto dura la batería?", None) == "de"
    assert answer_language("Battery?", None) == "de"


def test_spanish_is_answered_in_spanish_where_the_shop_lists_it(settings):
    settings.LANGUAGES = [*settings.LANGUAGES, ("es", "Spanish")]
    assert answer_language("¿Cuánto dura la batería?", "en-gb") == "es"


@pytest.mark.parametrize("text", ["Battery?", "USB-C", "30", "LDAC", "ok"])
def test_short_or_ambiguous_questions_take_the_browsing_language(text):
    assert answer_language(text, "fr") == "fr"
    assert answer_language(text, "de") == "de"
    assert answer_language(text, None) == "en-gb"


def test_language_names_for_the_prompt():
    assert language_name("en-gb") == "British English"
    assert language_name("de") == "German"
    assert language_name("fr") == "French"
    assert language_name("de-at") == "German"  # unknown variant: its base language
    assert language_name("xx") == "xx"
