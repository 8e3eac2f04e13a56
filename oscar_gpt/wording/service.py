"""The wording check with the shop's settings: what every door into generated copy calls.

Settings live in ``OSCAR_GPT["WORDING"]``, read on each call so ``override_settings`` and
pytest-django's ``settings`` fixture work::

    OSCAR_GPT = {
        "WORDING": {
            "ENABLED": True,
            "BANNED": ["cheap", "bargain"],              # any language, whole words
            "ALLOWED": ["best-selling"],                 # the shop can back these
            "EXTRA": {"de": {"superlative": ["sensationell"], "allowed": ["Bestseller"]}},
            "GENDERED_CLASSES": ["perfume", "Lingerie"],  # product class slugs or names
        },
    }
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

from .checker import WordingReport, check_wording
from .phrases import base_language

#: Every key of ``OSCAR_GPT["WORDING"]`` and its default.
DEFAULTS: dict[str, Any] = {
    #: False: :func:`check_product_copy` flags nothing.
    "ENABLED": True,
    #: Phrases the shop never publishes, in any language; a flag names the phrase.
    "BANNED": [],
    #: Phrases the shop allows, in any language; flags inside them are dropped.
    "ALLOWED": [],
    #: Per language ("de"; "de-at" reads as "de"), per kind: more phrases to flag or allow.
    "EXTRA": {},
    #: Product classes sold by gender, by slug or name: gendered wording is fine there.
    "GENDERED_CLASSES": [],
}


def wording_settings() -> dict[str, Any]:
    """:data:`DEFAULTS` updated with ``OSCAR_GPT["WORDING"]``."""
    configured = getattr(settings, "OSCAR_GPT", {}).get("WORDING") or {}
    return copy.deepcopy(DEFAULTS) | dict(configured)


def is_sold_by_gender(product: Any, gendered_classes: Any = None) -> bool:
    """Is the product's class (its parent's, for a variant) one of ``GENDERED_CLASSES``?"""
    if gendered_classes is None:
        gendered_classes = wording_settings()["GENDERED_CLASSES"]
    names = {str(name).strip().casefold() for name in gendered_classes or ()}
    if product is None or not names:
        return False
    if hasattr(product, "get_product_class"):
        product_class = product.get_product_class()
    else:
        product_class = getattr(product, "product_class", None)
    if product_class is None:
        return False
    return any(
        str(value).strip().casefold() in names
        for value in (getattr(product_class, "slug", ""), getattr(product_class, "name", ""))
        if value
    )


def check_product_copy(text: str, product: Any = None, language: str = "en") -> WordingReport:
    """Check generated copy about ``product`` (or about none) with the shop's settings."""
    options = wording_settings()
    code = base_language(language)
    if not options["ENABLED"]:
        return WordingReport(language=code)
    extra = {base_language(key): value for key, value in (options["EXTRA"] or {}).items()}
    return check_wording(
        text,
        language=code,
        product_gendered=is_sold_by_gender(product, options["GENDERED_CLASSES"]),
        banned=tuple(options["BANNED"] or ()),
        allowed=tuple(options["ALLOWED"] or ()),
        extra=extra.get(code),
    )
