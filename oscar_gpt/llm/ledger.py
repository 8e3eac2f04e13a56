"""Writes one ledger row per model call."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType

from .base import Backend, Messages


def prompt_hash(messages: Messages | Sequence[str]) -> str:
    """A stable fingerprint of what was sent: lets calls be grouped without storing text."""
    payload = json.dumps(list(messages), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    *,
    feature: str,
    backend: Backend,
    status: str,
    latency_s: float,
    messages: Messages | Sequence[str] = (),
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    error: BaseException | None = None,
    obj: Any = None,
    user: Any = None,
    kind: str = "completion",
    model: str | None = None,
):
    from ..models import LedgerEntry

    entry = LedgerEntry(
        feature=feature,
        backend=backend.alias,
        model=(model or backend.model_name)[:255],
        kind=kind,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=backend.cost(prompt_tokens, completion_tokens),
        latency_ms=int(round(latency_s * 1000)),
        status=status,
        error_class=type(error).__name__ if error is not None else "",
        prompt_hash=prompt_hash(messages) if messages else "",
    )
    if obj is not None and getattr(obj, "pk", None) is not None:
        entry.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        entry.object_id = str(obj.pk)
    if user is not None and getattr(user, "is_authenticated", False):
        entry.user = user
    entry.save()
    return entry
