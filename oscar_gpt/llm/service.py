"""Model calls for features: the backend chain, fallbacks and the ledger in one place.

Features call these functions, never a backend directly::

    from oscar_gpt import llm

    completion = llm.chat("descriptions", messages, obj=product, user=request.user)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from . import ledger
from .base import Completion, Messages, StreamChunk
from .errors import BackendError, ConfigurationError
from .registry import get_backend, get_chain

logger = logging.getLogger(__name__)


def _for_backend(conversations, candidate, shopper_text: bool, names: Sequence[str]):
    """What ``candidate`` may see: shopper text is scrubbed of personal data before it goes
    to an external backend (and to local ones unless ``ALLOW_RAW_TEXT_LOCAL``)."""
    from ..app_settings import app_settings

    if not shopper_text or (not candidate.external and app_settings.ALLOW_RAW_TEXT_LOCAL):
        return conversations
    from ..privacy import scrub

    return [
        [
            m | {"content": scrub(m["content"], names=names).text} if m["role"] == "user" else m
            for m in messages
        ]
        for messages in conversations
    ]


def _backends(feature: str, backend: str | None):
    if backend:
        return [get_backend(backend)]
    chain = get_chain(feature)
    if not chain:
        raise ConfigurationError(f"No backend is configured for feature {feature!r}.")
    return chain


def chat(
    feature: str,
    messages: Messages,
    *,
    obj: Any = None,
    user: Any = None,
    backend: str | None = None,
    shopper_text: bool = False,
    names: Sequence[str] = (),
    **params: Any,
) -> Completion:
    """Complete one conversation with the first backend of ``feature``'s chain that works.

    A retryable failure (timeout, rate limit, server down) moves to the next backend; a
    final one (bad request, auth) is raised at once. Every attempt is a ledger row. When the
    whole chain fails retryably the last error is raised, so a Celery task can retry later.
    """
    return chat_batch(
        feature,
        [messages],
        objs=[obj],
        user=user,
        backend=backend,
        shopper_text=shopper_text,
        names=names,
        **params,
    )[0]


def chat_batch(
    feature: str,
    conversations: Sequence[Messages],
    *,
    objs: Sequence[Any] | None = None,
    user: Any = None,
    backend: str | None = None,
    shopper_text: bool = False,
    names: Sequence[str] = (),
    **params: Any,
) -> list[Completion]:
    """Complete many conversations at once (batched locally, concurrent remotely).

    One ledger row per conversation; ``objs[i]`` is what conversation ``i`` was for.
    ``shopper_text=True``: the user messages hold a shopper's words, scrubbed of personal
    data (and of ``names``, the shopper's own) before an external backend sees them.
    """
    if not conversations:
        return []
    objs = list(objs) if objs is not None else [None] * len(conversations)
    last_error: BackendError | None = None
    original = conversations
    for candidate in _backends(feature, backend):
        conversations = _for_backend(original, candidate, shopper_text, names)
        started = time.perf_counter()
        try:
            completions = candidate.complete_batch(conversations, **params)
        except Exception as exc:
            elapsed = time.perf_counter() - started
            # Concurrent remote calls may have finished before one failed: they cost tokens.
            done = getattr(exc, "completed", {}) or {}
            for index, (messages, obj) in enumerate(zip(conversations, objs, strict=True)):
                completion = done.get(index)
                ledger.record(
                    feature=feature,
                    backend=candidate,
                    status="ok" if completion else "error",
                    latency_s=elapsed,
                    messages=messages,
                    error=None if completion else exc,
                    obj=obj,
                    user=user,
                    prompt_tokens=completion.prompt_tokens if completion else 0,
                    completion_tokens=completion.completion_tokens if completion else 0,
                )
            if not isinstance(exc, BackendError) or not exc.retryable:
                raise
            logger.warning(
                "%s failed for %s (%s); trying the next backend", candidate.alias, feature, exc
            )
            last_error = exc
            continue
        elapsed = time.perf_counter() - started
        for messages, obj, completion in zip(conversations, objs, completions, strict=True):
            entry = ledger.record(
                feature=feature,
                backend=candidate,
                status="ok",
                latency_s=elapsed,
                messages=messages,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                obj=obj,
                user=user,
                model=completion.model,
            )
            completion.extra.update(backend=candidate.alias, ledger_id=entry.pk)
        return completions
    assert last_error is not None
    raise last_error


def chat_stream(
    feature: str,
    messages: Messages,
    *,
    obj: Any = None,
    user: Any = None,
    backend: str | None = None,
    shopper_text: bool = False,
    names: Sequence[str] = (),
    **params: Any,
) -> Iterator[StreamChunk]:
    """Stream one conversation. Falls back to the next backend only before the first delta:
    once text has reached the shopper, a failure ends the stream with the error."""
    last_error: BackendError | None = None
    original = messages
    for candidate in _backends(feature, backend):
        messages = _for_backend([original], candidate, shopper_text, names)[0]
        started = time.perf_counter()
        sent_any = False
        try:
            final = StreamChunk(delta="")
            for chunk in candidate.stream(messages, **params):
                if chunk.delta:
                    sent_any = True
                    yield chunk
                else:
                    final = chunk
            ledger.record(
                feature=feature,
                backend=candidate,
                status="ok",
                kind="stream",
                latency_s=time.perf_counter() - started,
                messages=messages,
                prompt_tokens=final.prompt_tokens or 0,
                completion_tokens=final.completion_tokens or 0,
                obj=obj,
                user=user,
            )
            final.finish_reason = final.finish_reason or "stop"
            yield final
            return
        except (GeneratorExit, Exception) as exc:
            # GeneratorExit: the reader went away (a shopper closed the page); the call
            # still cost tokens, so it is recorded like any failure.
            ledger.record(
                feature=feature,
                backend=candidate,
                status="error",
                kind="stream",
                latency_s=time.perf_counter() - started,
                messages=messages,
                error=exc,
                obj=obj,
                user=user,
            )
            if isinstance(exc, GeneratorExit):
                raise
            if sent_any or not isinstance(exc, BackendError) or not exc.retryable:
                raise
            last_error = exc
    assert last_error is not None
    raise last_error


def embed(feature: str, texts: Sequence[str], *, backend: str | None = None) -> list[list[float]]:
    """Vectors for ``texts`` from the feature's first backend (local MiniLM by default)."""
    return _backends(feature, backend)[0].embed(texts)
