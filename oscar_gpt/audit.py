"""The audit log: one row per decision a person made in the app (see ``AuditEntry``).

Services call :func:`record` inside the transaction that makes the change, so the log and
the change are saved together or not at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from .models import AuditEntry

Action = AuditEntry.Action


def _user_repr(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return str(user.get_username())[:255]


def record(
    action: str,
    obj: Any = None,
    *,
    user=None,
    before: Any = "",
    after: Any = "",
    reason: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        user_repr=_user_repr(user),
        before="" if before is None else str(before),
        after="" if after is None else str(after),
        reason=reason or "",
    )
    if obj is not None and getattr(obj, "pk", None) is not None:
        entry.content_type = ContentType.objects.get_for_model(obj)
        entry.object_id = str(obj.pk)
        entry.object_repr = str(obj)[:255]
    entry.save()
    return entry


def history(obj) -> list[AuditEntry]:
    """Everything the log holds about ``obj``, newest first."""
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )
    )
