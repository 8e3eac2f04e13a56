"""The one interface every model backend implements."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.checks import CheckMessage

#: A conversation: ``[{"role": "system" | "user" | "assistant", "content": "..."}]``.
Messages = Sequence[dict[str, str]]


@dataclass
class Completion:
    """The text a model produced for one conversation and what it cost in tokens."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    finish_reason: str = ""
    #: Backend-specific details (device, request id) that are useful in a ledger or a log.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class StreamChunk:
    """A piece of a streamed answer; the last chunk carries the token counts."""

    delta: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = ""


@dataclass
class Moderation:
    """A moderation service's verdict on a text."""

    flagged: bool
    #: The categories it was flagged for ("harassment", "violence" ...).
    categories: list[str] = field(default_factory=list)
    model: str = ""


class Backend(abc.ABC):
    """A configured model: local (transformers) or remote (an OpenAI-compatible API).

    Backends are built once per process by :mod:`oscar_gpt.llm.registry` and shared between
    threads, so implementations must be thread-safe.
    """

    #: Defaults merged under the ``CONFIG`` dict of the settings.
    default_config: dict[str, Any] = {}

    def __init__(self, alias: str, config: dict[str, Any] | None = None):
        self.alias = alias
        self.config = {**self.default_config, **(config or {})}

    # -- identity -------------------------------------------------------------------------
    @property
    def external(self) -> bool:
        """Whether calls leave the shop (personal data must be scrubbed first)."""
        return bool(self.config.get("EXTERNAL", True))

    @property
    @abc.abstractmethod
    def model_name(self) -> str:
        """The model's name as it appears in the ledger and the price table."""

    def describe(self) -> dict[str, Any]:
        """What ``oscar_gpt_check`` prints about this backend."""
        return {"backend": self.alias, "class": type(self).__name__, "model": self.model_name}

    # -- calls ----------------------------------------------------------------------------
    @abc.abstractmethod
    def complete(self, messages: Messages, **params: Any) -> Completion:
        """Answer one conversation. ``params``: max_tokens, temperature, seed, stop, and
        ``stop_when`` (a function of the text so far: True ends the completion early where
        the backend can; the caller cuts the text itself)."""

    def complete_batch(self, conversations: Sequence[Messages], **params: Any) -> list[Completion]:
        """Answer many conversations; one completion per conversation, in order.
        ``stop_when`` may also be a list: one function (or None) per conversation."""
        whens = stop_whens(params.get("stop_when"), len(conversations))
        return [
            self.complete(messages, **(params | {"stop_when": when}))
            for messages, when in zip(conversations, whens, strict=True)
        ]

    @abc.abstractmethod
    def stream(self, messages: Messages, **params: Any) -> Iterator[StreamChunk]:
        """Answer one conversation as text deltas; the last chunk has the token counts."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts``. Backends without an embedding model use the local one."""
        from .embeddings import get_embedder

        return get_embedder().embed(texts).tolist()

    @property
    def moderates(self) -> bool:
        """Whether :meth:`moderate` calls a moderation service."""
        return False

    def moderate(self, text: str) -> Moderation:
        """Whether ``text`` breaks the provider's content rules; backends without a
        moderation service flag nothing."""
        return Moderation(flagged=False)

    # -- configuration --------------------------------------------------------------------
    def check(self) -> list[CheckMessage]:
        """System-check messages about this backend's configuration (no model call)."""
        return []

    def cost(self, prompt_tokens: int, completion_tokens: int):
        """What the call cost in USD, from the price table; unknown models cost 0."""
        from decimal import Decimal

        from ..app_settings import app_settings

        prices = self.config.get("PRICE") or app_settings.PRICES.get(self.model_name)
        if not prices:
            return Decimal("0")
        price_in, price_out = (Decimal(str(p)) for p in prices)
        return (price_in * prompt_tokens + price_out * completion_tokens) / Decimal(1_000_000)


def stop_whens(stop_when: Any, count: int) -> list[Any]:
    """``stop_when`` of :meth:`Backend.complete_batch` as one function (or None) for each of
    ``count`` conversations: a single function is everyone's, a list is one each."""
    if stop_when is None or callable(stop_when):
        return [stop_when] * count
    whens = list(stop_when)
    if len(whens) != count:
        raise ValueError(f"stop_when: {len(whens)} functions for {count} conversations")
    return whens
