"""The app's tables. Foreign keys to Oscar go through ``AUTH_USER_MODEL`` and content types,
so forked Oscar apps keep working."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerEntry(models.Model):
    """One model call: what it was for, what it cost, how long it took, how it ended.

    Holds a hash of the prompt, never the prompt: shopper text stays out of the ledger.
    """

    class Status(models.TextChoices):
        OK = "ok", _("OK")
        ERROR = "error", _("Error")
        REFUSED = "refused", _("Refused")

    class Kind(models.TextChoices):
        COMPLETION = "completion", _("Completion")
        STREAM = "stream", _("Streamed completion")
        EMBEDDING = "embedding", _("Embedding")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    feature = models.CharField(_("feature"), max_length=64, db_index=True)
    backend = models.CharField(_("backend"), max_length=64)
    model = models.CharField(_("model"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPLETION)
    prompt_tokens = models.PositiveIntegerField(_("tokens in"), default=0)
    completion_tokens = models.PositiveIntegerField(_("tokens out"), default=0)
    cost = models.DecimalField(
        _("cost (USD)"), max_digits=14, decimal_places=8, default=Decimal("0")
    )
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, db_index=True)
    error_class = models.CharField(_("error"), max_length=128, blank=True)
    prompt_hash = models.CharField(_("prompt hash"), max_length=64, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    content_object = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["feature", "created_at"]),
            models.Index(fields=["content_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.feature} · {self.backend} · {self.status}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
