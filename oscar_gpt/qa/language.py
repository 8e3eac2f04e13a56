"""Which language to answer in: the question's, where the shop has it, else the shop's."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import get_supported_language_variant

# fmt: off
#: Short, frequent words that tell the languages of shopper questions apart.
MARKERS = {
    "en": {"the", "is", "are", "does", "do", "it", "this", "what", "how", "can", "with", "of",
           "and", "for", "will", "have", "has", "there", "they", "much", "long", "many"},
    "de": {"der", "die", "das", "ist", "sind", "hat", "haben", "wie", "was", "kann", "mit",
           "und", "für", "ein", "eine", "es", "auch", "lange", "viel", "nicht", "gibt", "wird"},
    "fr": {"le", "la", "les", "est", "sont", "quel", "quelle", "combien", "avec", "et",
           "pour", "une", "un", "il", "elle", "des", "du", "ce", "cette", "peut", "pas", "y"},
    "nl": {"de", "het", "is", "zijn", "hoe", "wat", "kan", "met", "en", "voor", "een",
           "heeft", "hebben", "lang", "veel", "niet", "ook", "er", "deze", "dit"},
    "es": {"el", "la", "los", "las", "es", "son", "cuánto", "cuál", "qué", "con", "y", "para",
           "una", "un", "tiene", "puede", "del", "este", "esta", "no"},
    "it": {"il", "lo", "la", "gli", "le", "è", "sono", "quanto", "quale", "che", "con", "e",
           "per", "una", "un", "ha", "può", "del", "della", "questo", "non"},
}
# fmt: on
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect(text: str) -> str | None:
    """The base language code of ``text`` when its words say it clearly, else None."""
    words = [word.lower() for word in _WORDS.findall(text)]
    if not words:
        return None
    scores = {code: sum(word in markers for word in words) for code, markers in MARKERS.items()}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 2 and top > second or top >= 1 and second == 0 and len(words) <= 4:
        return best
    return None


def answer_language(text: str, preferred: str | None = None) -> str:
    """The shop's language code to answer ``text`` in.

    The question's own language when the shop lists it in ``LANGUAGES``; otherwise the
    language the shopper browses in (``preferred``), when listed; otherwise
    ``LANGUAGE_CODE``.
    """
    for candidate in (detect(text), preferred):
        if not candidate:
            continue
        if preferred and candidate == preferred.split("-")[0]:
            candidate = preferred  # keep the shopper's variant: "en-gb", not "en"
        try:
            return get_supported_language_variant(candidate)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def language_name(code: str) -> str:
    """ "German" for "de": the name the prompt gives the model."""
    from django.utils.translation import get_language_info

    try:
        return get_language_info(code)["name"]
    except KeyError:
        try:
            return get_language_info(code.split("-")[0])["name"]
        except KeyError:
            return code
