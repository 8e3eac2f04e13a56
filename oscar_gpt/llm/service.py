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
from .base import Completion, Messages, Moderation, StreamChunk
from .errors import BackendError, BudgetExceeded, ConfigurationError
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


def _reserve(feature, candidate, conversations, objs, user, params):
    """Set aside the call's estimated cost on the feature's budget (``OSCAR_GPT["BUDGETS"]``).

    A refusal is a ledger row per conversation (status "refused"), then the caller moves on
    to the next backend: a free one (a local model) always fits.
    """
    from .. import budgets

    try:
        return budgets.reserve(feature, candidate, conversations, params.get("max_tokens"))
    except BudgetExceeded as exc:
        for messages, obj in zip(conversations, objs, strict=True):
            ledger.record(
                feature=feature,
                backend=candidate,
                status="refused",
                latency_s=0,
                messages=messages,
                error=exc,
                obj=obj,
                user=user,
            )
        logger.info("%s refused for %s: %s", candidate.alias, feature, exc)
        raise


def _keep_retryable(last_error, refusal: BudgetExceeded):
    """The error to raise if the chain ends here: a backend that may work again soon (a
    timeout) beats a budget that resets at midnight, so a task retries in minutes."""
    if last_error is not None and last_error.retryable:
        return last_error
    return refusal


def _settle(reservation, candidate, completions) -> None:
    """Charge the budget what the finished calls really cost (the ledger's figure)."""
    from .. import budgets

    budgets.settle(
        reservation,
        sum(
            (candidate.cost(c.prompt_tokens, c.completion_tokens) for c in completions if c),
            start=budgets.ZERO,
        ),
    )


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

    Each backend's estimated cost is reserved on the feature's budget first; a backend that
    would go over it is skipped (:class:`~oscar_gpt.llm.errors.BudgetExceeded`, which is
    raised when it was the last one tried).
    """
    if not conversations:
        return []
    objs = list(objs) if objs is not None else [None] * len(conversations)
    last_error: BackendError | None = None
    original = conversations
    for candidate in _backends(feature, backend):
        conversations = _for_backend(original, candidate, shopper_text, names)
        try:
            reservation = _reserve(feature, candidate, conversations, objs, user, params)
        except BudgetExceeded as exc:
            last_error = _keep_retryable(last_error, exc)
            continue
        started = time.perf_counter()
        try:
            completions = candidate.complete_batch(conversations, **params)
        except Exception as exc:
            elapsed = time.perf_counter() - started
            # Concurrent remote calls may have finished before one failed: they cost tokens.
            done = getattr(exc, "completed", {}) or {}
            _settle(reservation, candidate, done.values())
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
        except BaseException:  # the worker is going away: give the estimate back
            _settle(reservation, candidate, ())
            raise
        _settle(reservation, candidate, completions)
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
    once text has reached the shopper, a failure ends the stream with the error.

    Budgets as in :func:`chat_batch`. A stream cut short after text was sent is charged its
    whole estimate: the provider billed tokens that nobody counted."""
    from .. import budgets

    last_error: BackendError | None = None
    original = messages
    for candidate in _backends(feature, backend):
        messages = _for_backend([original], candidate, shopper_text, names)[0]
        try:
            reservation = _reserve(feature, candidate, [messages], [obj], user, params)
        except BudgetExceeded as exc:
            last_error = _keep_retryable(last_error, exc)
            continue
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
            budgets.settle(
                reservation,
                candidate.cost(final.prompt_tokens or 0, final.completion_tokens or 0),
            )
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
            budgets.settle(reservation, reservation.amount if sent_any else 0)
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
    """Vectors for ``texts`` from the feature's first backend (local MiniLM by default).

    A priced ``EMBEDDING_MODEL`` is checked against the feature's budget first."""
    from .. import budgets

    candidate = _backends(feature, backend)[0]
    reservation = budgets.reserve_embedding(feature, candidate, texts)
    try:
        vectors = candidate.embed(texts)
    except BaseException:
        budgets.release(reservation)
        raise
    budgets.settle(reservation, reservation.amount)
    return vectors


def moderate(
    feature: str, text: str, *, obj: Any = None, user: Any = None, names: Sequence[str] = ()
) -> Moderation:
    """Shopper text through the moderation service of each backend in ``feature``'s chain
    that has one (OpenAI's own API); flagged by any is flagged. The text is scrubbed of
    personal data first; each call is a ledger row (moderation is free, it costs 0).
    A moderation service that fails does not block the shopper: its error is logged."""
    from ..privacy import scrub

    result = Moderation(flagged=False)
    for candidate in _backends(feature, None):
        if not candidate.moderates:
            continue
        clean = scrub(text, names=names).text if candidate.external else text
        started = time.perf_counter()
        try:
            verdict = candidate.moderate(clean)
        except BackendError as exc:
            ledger.record(
                feature=feature,
                backend=candidate,
                status="error",
                kind="moderation",
                latency_s=time.perf_counter() - started,
                messages=[clean],
                error=exc,
                obj=obj,
                user=user,
            )
            logger.warning("Moderation by %s failed: %s", candidate.alias, exc)
            continue
        ledger.record(
            feature=feature,
            backend=candidate,
            status="ok",
            kind="moderation",
            latency_s=time.perf_counter() - started,
            messages=[clean],
            obj=obj,
            user=user,
            model=verdict.model or None,
        )
        if verdict.flagged:
            result.flagged = True
            result.categories = sorted({*result.categories, *verdict.categories})
    return result
