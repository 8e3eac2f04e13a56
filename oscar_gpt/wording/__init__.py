"""Wording check: superlatives, health claims, gendered wording and a shop's banned words.

Pure Python, no model calls and no database. Generated product descriptions, shopper Q&A
answers and finder explanations go through it before a person or a shopper reads them; the
reviewer sees ``highlight()``, nothing is blocked::

    report = check_wording("The best headphones for men.", language="en-gb")
    report.ok       # False
    report.flags    # [WordingFlag(4, 8, "best", "superlative", ...),
                    #  WordingFlag(20, 27, "for men", "gendered", ...)]

Doors that know the product call :func:`check_product_copy`, which adds the shop's settings
(``OSCAR_GPT["WORDING"]``, see :func:`wording_settings`).
"""

from .checker import EXTRA_KINDS, KINDS, WordingFlag, WordingReport, check_wording, fold
from .phrases import LANGUAGES, base_language
from .service import DEFAULTS, check_product_copy, is_sold_by_gender, wording_settings

__all__ = [
    "DEFAULTS",
    "EXTRA_KINDS",
    "KINDS",
    "LANGUAGES",
    "WordingFlag",
    "WordingReport",
    "base_language",
    "check_product_copy",
    "check_wording",
    "fold",
    "is_sold_by_gender",
    "wording_settings",
]
