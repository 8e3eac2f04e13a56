"""Translation for code that also runs without Django's settings (the checkers, in scripts
and benchmarks)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext

_configured = False


def gettext_if_configured(message: str) -> str:
    """``gettext(message)`` once settings are configured; ``message`` itself before."""
    global _configured
    if not _configured:
        if not settings.configured:
            return message
        _configured = True  # settings, once configured, stay configured
    return gettext(message)
