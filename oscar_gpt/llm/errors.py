"""The few errors callers need to tell apart: retry later, or give up."""

from __future__ import annotations


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
