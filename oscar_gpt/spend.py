"""What the model calls cost: totals, per day, per feature, a CSV export, and retention.

Every figure comes from :class:`oscar_gpt.models.LedgerEntry`. Date ranges are calendar days in
the current time zone, both ends included, so "1 to 31 May" means the shop's May, not UTC's.
The dashboard's spend page, its CSV download, the purge command and the periodic purge task
are thin callers of this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import LedgerEntry

#: Rows deleted per statement by :func:`purge_older_than`: short locks on a busy ledger.
PURGE_BATCH_SIZE = 5000

#: The retention when ``OSCAR_GPT["LEDGER_RETENTION_DAYS"]`` is not set.
DEFAULT_RETENTION_DAYS = 365

#: Columns of :func:`csv_rows`, in order.
CSV_HEADER = (
    "time",
    "feature",
    "backend",
    "model",
    "kind",
    "status",
    "error_class",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "user_id",
)

ZERO = Decimal("0")


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes ``[start 00:00, end + 1 day 00:00)`` in the current time zone."""
    tz = timezone.get_current_timezone()
    lower = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    upper = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return lower, upper


def entries(
    start: dt.date,
    end: dt.date,
    feature: str | None = None,
    backend: str | None = None,
    status: str | None = None,
) -> QuerySet:
    """The ledger rows of a range of days; an empty filter means "any"."""
    lower, upper = day_bounds(start, end)
    qs = LedgerEntry.objects.filter(created_at__gte=lower, created_at__lt=upper)
    if feature:
        qs = qs.filter(feature=feature)
    if backend:
        qs = qs.filter(backend=backend)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by()


def _figures() -> dict[str, Any]:
    """The aggregates every view of the ledger shows."""
    return {
        "cost": Sum("cost"),
        "prompt_tokens": Sum("prompt_tokens"),
        "completion_tokens": Sum("completion_tokens"),
        "calls": Count("id"),
        "errors": Count("id", filter=Q(status=LedgerEntry.Status.ERROR)),
        "refused": Count("id", filter=Q(status=LedgerEntry.Status.REFUSED)),
        "avg_latency_ms": Avg("latency_ms"),
    }


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Zero instead of NULL for an empty group, plus the sums a page wants."""
    row["cost"] = row["cost"] if row["cost"] is not None else ZERO
    row["prompt_tokens"] = row["prompt_tokens"] or 0
    row["completion_tokens"] = row["completion_tokens"] or 0
    row["tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    row["error_rate"] = row["errors"] / row["calls"] if row["calls"] else 0.0
    if row["avg_latency_ms"] is not None:
        row["avg_latency_ms"] = round(float(row["avg_latency_ms"]), 1)
    return row


def percentile(qs: QuerySet, field: str, fraction: float, count: int | None = None) -> int | None:
    """The nearest-rank percentile of ``field``: the value at rank ``ceil(fraction * n)``.

    The database sorts and returns one value, so a year of ledger is never loaded.
    """
    n = qs.count() if count is None else count
    if not n:
        return None
    rank = max(1, math.ceil(fraction * n))
    return qs.order_by(field).values_list(field, flat=True)[rank - 1]


def summary(
    start: dt.date,
    end: dt.date,
    feature: str | None = None,
    backend: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Totals of a range: cost, tokens in and out, calls, errors, error rate, latency p50/p95."""
    qs = entries(start, end, feature=feature, backend=backend, status=status)
    totals = _clean(qs.aggregate(**_figures()))
    totals["p50_latency_ms"] = percentile(qs, "latency_ms", 0.50, totals["calls"])
    totals["p95_latency_ms"] = percentile(qs, "latency_ms", 0.95, totals["calls"])
    return totals


def daily(
    start: dt.date,
    end: dt.date,
    feature: str | None = None,
    backend: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """One row per day and feature that had calls, oldest first; days in the current zone."""
    qs = entries(start, end, feature=feature, backend=backend, status=status)
    rows = (
        qs.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "feature")
        .annotate(**_figures())
        .order_by("day", "feature")
    )
    return [_clean(row) for row in rows]


def by_feature(
    start: dt.date,
    end: dt.date,
    feature: str | None = None,
    backend: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """One row per feature, the most expensive first."""
    qs = entries(start, end, feature=feature, backend=backend, status=status)
    rows = qs.values("feature").annotate(**_figures()).order_by("-cost", "feature")
    return [_clean(row) for row in rows]


def filter_choices() -> dict[str, list[str]]:
    """The features and backends the ledger has seen, for the filter form."""
    base = LedgerEntry.objects.order_by()
    return {
        "features": sorted(base.values_list("feature", flat=True).distinct()),
        "backends": sorted(base.values_list("backend", flat=True).distinct()),
    }


class _Echo:
    """A file-like object whose ``write`` hands the line back: csv.writer without a buffer."""

    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_rows(
    start: dt.date,
    end: dt.date,
    feature: str | None = None,
    backend: str | None = None,
    status: str | None = None,
) -> Iterator[str]:
    """The range's ledger as CSV lines, header first, oldest call first, read in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    qs = entries(start, end, feature=feature, backend=backend, status=status)
    tz = timezone.get_current_timezone()
    rows = qs.order_by("created_at", "id").values_list(
        "created_at",
        "feature",
        "backend",
        "model",
        "kind",
        "status",
        "error_class",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "latency_ms",
        "user_id",
    )
    for created_at, *text, prompt, completion, cost, latency, user_id in rows.iterator(
        chunk_size=2000
    ):
        yield writer.writerow(
            [
                created_at.astimezone(tz).isoformat(),
                *(_cell(value) for value in text),
                prompt,
                completion,
                cost,
                latency,
                "" if user_id is None else user_id,
            ]
        )


def purge_older_than(days: int, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete ledger rows older than ``days`` days, in batches; returns how many went."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = timezone.now() - dt.timedelta(days=days)
    old = LedgerEntry.objects.filter(created_at__lt=cutoff).order_by()
    deleted = 0
    while True:
        batch = list(old.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        deleted += (
            LedgerEntry.objects.filter(pk__in=batch).delete()[1].get(LedgerEntry._meta.label, 0)
        )


def retention_days() -> int | None:
    """``OSCAR_GPT["LEDGER_RETENTION_DAYS"]``; ``0`` or ``None`` keeps the ledger forever."""
    return getattr(settings, "OSCAR_GPT", {}).get("LEDGER_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def purge_expired() -> int:
    """Apply the retention setting: what the periodic task runs."""
    days = retention_days()
    if not days:
        return 0
    return purge_older_than(int(days))
