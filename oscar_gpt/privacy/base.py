"""What a finding is, the kinds there are, and the placeholders that replace them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: What :func:`~oscar_gpt.privacy.find_personal_data` looks for, strongest first: where two
#: findings overlap, the kind listed first wins ("jane@example.com" is an email even when
#: the shopper is called Jane).
KINDS = (
    "url_credentials",  # "user:secret" in "https://user:secret@host/": a password in a link
    "email",  # "jane.doe+shop@mail.example.com", "jane at example dot com"
    "iban",  # "GB82 WEST 1234 5698 7654 32", mod-97 checked
    "card",  # "4111 1111 1111 1111", Luhn and issuer checked
    "phone",  # "+44 20 7946 0958", "(212) 555-0100 ext. 12"
    "address",  # "221B Baker Street, London NW1 6XE", "Hauptstraße 5, 10115 Berlin"
    "name",  # the shopper's own name, and "my name is Jane Doe"
)

#: What a finding of each kind becomes. Fixed English words on purpose: they are read by a
#: model, never shown to a shopper, and scrubbing twice must leave them as they are.
PLACEHOLDERS = {
    "url_credentials": "[credentials]",
    "email": "[email]",
    "iban": "[IBAN]",
    "card": "[card number]",
    "phone": "[phone]",
    "address": "[address]",
    "name": "[name]",
}

#: The placeholders in a text: nothing inside one is ever personal data.
PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()))))

PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data in a text.

    ``text`` is the personal data itself: log ``kind`` and the span, never ``text`` (it is
    left out of ``repr()`` so that a finding printed by mistake does not leak it).
    """

    #: One of :data:`KINDS`.
    kind: str
    start: int
    end: int
    text: str = field(repr=False)
