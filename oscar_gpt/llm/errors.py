"""The few errors callers need to tell apart: retry later, or give up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


class BackendError(Exception):
    """A model call failed. ``retryable`` says whether trying again may succeed."""

    #: Whether a retry (here, on the next backend of the chain or in a later task run)
    #: can succeed.
    retryable = False

    def __init__(self, message: str = "", *, backend: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.backend = backend
        self.retry_after = retry_after


class RateLimited(BackendError):
    """The backend asked us to slow down (HTTP 429); ``retry_after`` is in seconds."""

    retryable = True


class BackendTimeout(BackendError):
    """No answer within the configured timeout."""

    retryable = True


class BackendUnavailable(BackendError):
    """The backend can't be reached or failed on its side (connection refused, 5xx)."""

    retryable = True


class BadRequest(BackendError):
    """The backend rejected what we sent (prompt too long, unknown model): retrying won't help."""


class AuthenticationFailed(BackendError):
    """Missing, wrong or unauthorised credentials."""


class ConfigurationError(BackendError):
    """The backend is misconfigured: an unknown alias, a missing model file or package."""


class Refused(BackendError):
    """We refused to make the call (a budget or rate limit of our own)."""


class BudgetExceeded(Refused):
    """A call would take ``feature`` over its daily or monthly budget (``OSCAR_GPT["BUDGETS"]``).

    Not retryable, yet it does not end a fallback chain: the chain goes on to the next
    backend, and a backend whose calls cost nothing (a local model) always fits, so a chain
    ``["openai", "local"]`` degrades to the local model at the cap. When no backend fits, the
    error reaches the caller, which degrades (a shopper feature) or pauses until
    ``resets_at`` (a bulk job).
    """

    def __init__(self, feature: str, period: str, cap, resets_at, *, backend: str = ""):
        super().__init__(backend=backend)
        self.feature = feature
        #: ``"day"`` or ``"month"``.
        self.period = period
        #: The cap, in USD.
        self.cap = Decimal(str(cap))
        #: When the period ends (an aware datetime): from then on a call may fit again.
        self.resets_at = (
            dt.datetime.fromisoformat(resets_at) if isinstance(resets_at, str) else resets_at
        )
        # Plain constructor arguments: pickle and Celery's result backends rebuild the error.
        self.args = (feature, period, str(self.cap), self.resets_at.isoformat())

    def __str__(self) -> str:
        every = "daily" if self.period == "day" else "monthly"
        return (
            f"The {every} budget of {self.feature!r} (${self.cap}) is spent; "
            f"it resets at {self.resets_at.isoformat()}."
        )
