"""The model layer: the only code in the app that talks to a model."""

from .base import Backend, Completion, StreamChunk
from .errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadRequest,
    ConfigurationError,
    RateLimited,
    Refused,
)
from .registry import get_backend, get_chain
from .service import chat, chat_batch, chat_stream, embed

__all__ = [
    "AuthenticationFailed",
    "Backend",
    "BackendError",
    "BackendTimeout",
    "BackendUnavailable",
    "BadRequest",
    "Completion",
    "ConfigurationError",
    "RateLimited",
    "Refused",
    "StreamChunk",
    "chat",
    "chat_batch",
    "chat_stream",
    "embed",
    "get_backend",
    "get_chain",
]
