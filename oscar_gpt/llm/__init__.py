"""The model layer: the only code in the app that talks to a model."""

from .base import Backend, Completion, Moderation, StreamChunk
from .errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadRequest,
    BudgetExceeded,
    ConfigurationError,
    RateLimited,
    Refused,
)
from .registry import get_backend, get_chain
from .service import chat, chat_batch, chat_stream, embed, moderate

__all__ = [
    "AuthenticationFailed",
    "Backend",
    "BackendError",
    "BackendTimeout",
    "BackendUnavailable",
    "BadRequest",
    "BudgetExceeded",
    "Completion",
    "Moderation",
    "ConfigurationError",
    "RateLimited",
    "Refused",
    "StreamChunk",
    "chat",
    "chat_batch",
    "chat_stream",
    "embed",
    "moderate",
    "get_backend",
    "get_chain",
]
