"""Personal data out of shopper text before it reaches an external model, a table or a log.

Pure Python, no database and no network: the Q&A, reviews and fine-tuning features pass the
shopper's text (and the shopper's own name, which the account knows) and keep the scrubbed
text; the placeholders keep it readable for a model::

    result = scrub("I'm Jane Doe, call me on 020 7946 0958", names=["Jane Doe"])
    result.text      # "I'm [name], call me on [phone]"
    result.counts()  # {"name": 1, "phone": 1}: log this, never ``result.findings``

Kinds (:data:`KINDS`): ``url_credentials``, ``email``, ``iban``, ``card``, ``phone``,
``address`` and ``name``; see each module for what is found and what is left alone on
purpose (order numbers, SKUs, barcodes, prices, sizes, dates, model numbers).
"""

from .base import KINDS, PLACEHOLDERS, Finding
from .scrubber import ScrubResult, find_personal_data, scrub

__all__ = ["KINDS", "PLACEHOLDERS", "Finding", "ScrubResult", "find_personal_data", "scrub"]
