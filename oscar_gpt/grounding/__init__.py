"""Claims checking: is every number, material, colour and promise in a text in the facts?

Pure Python, no model calls and no database: the descriptions feature and the shopper Q&A
feature pass the product's facts as :class:`Fact` values and store the report's
``as_dict()`` on their draft, or show ``highlight()`` to the reviewer::

    report = check_claims(text, [Fact("Battery life", 30, "hours"), Fact("Material", "copper")])
    report.ok            # False for "50 hours of steel"
    report.unsupported   # [Claim(text="50 hours", reason="50 hours: the facts say ...")]
"""

from .checker import KINDS, Claim, ClaimsReport, Fact, check_claims, describe
from .quantities import Quantity, parse_quantities

__all__ = [
    "KINDS",
    "Claim",
    "ClaimsReport",
    "Fact",
    "Quantity",
    "check_claims",
    "describe",
    "parse_quantities",
]
