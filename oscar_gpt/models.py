"""The app's tables. Foreign keys to Oscar go through ``AUTH_USER_MODEL`` and content types,
so forked Oscar apps keep working."""

from __future__ import annotations

import uuid
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
        MODERATION = "moderation", _("Moderation")

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


class DescriptionField(models.TextChoices):
    """The product fields the app writes: Oscar's own."""

    DESCRIPTION = "description", _("Description")
    META_TITLE = "meta_title", _("Meta title")
    META_DESCRIPTION = "meta_description", _("Meta description")


class PromptTemplate(models.Model):
    """A shop's own prompt for one field, for one product class or the whole shop.

    Blank text means the shipped default (``oscar_gpt/prompts/<field>.txt``) is used.
    """

    product_class = models.ForeignKey(
        "catalogue.ProductClass",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product class"),
        help_text=_("Leave empty for the whole shop."),
    )
    field = models.CharField(_("field"), max_length=32, choices=DescriptionField.choices)
    text = models.TextField(
        _("prompt"),
        blank=True,
        help_text=_("A Django template; blank uses the shipped default."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("prompt template")
        verbose_name_plural = _("prompt templates")
        constraints = [
            models.UniqueConstraint(
                fields=["product_class", "field"], name="oscar_gpt_prompt_per_class_field"
            ),
            models.UniqueConstraint(
                fields=["field"],
                condition=models.Q(product_class__isnull=True),
                name="oscar_gpt_shop_prompt_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()} · {self.product_class or _('all products')}"


class GenerationJob(models.Model):
    """A request to generate copy for one or many products, run by Celery tasks."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    params = models.JSONField(_("parameters"), default=dict)
    params_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    #: While paused: the budget period (``"day"`` or ``"month"``) that ran out.
    paused_for = models.CharField(_("paused by the budget of the"), max_length=8, blank=True)
    #: While paused: when the budget resets and the job's pending products are taken up again.
    resumes_at = models.DateTimeField(_("resumes"), null=True, blank=True)

    class Meta:
        verbose_name = _("generation job")
        verbose_name_plural = _("generation jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_status_display()}"


class GenerationJobItem(models.Model):
    """One product of a job: exactly one row per job and product, so a redelivered task
    never counts a product twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "catalogue.Product", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_title = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "product"], name="oscar_gpt_one_item_per_product"
            )
        ]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"{self.product_title} · {self.status}"


class Draft(models.Model):
    """Generated text for one product field, waiting for a person to approve or reject it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, related_name="gpt_drafts"
    )
    field = models.CharField(_("field"), max_length=32, choices=DescriptionField.choices)
    variant = models.PositiveSmallIntegerField(_("variant"), default=0)
    text = models.TextField(_("text"))
    generated_text = models.TextField(_("generated text"), blank=True)
    language = models.CharField(_("language"), max_length=16)
    params = models.JSONField(_("parameters"), default=dict)
    params_hash = models.CharField(max_length=64, db_index=True)
    backend = models.CharField(_("backend"), max_length=64)
    model = models.CharField(_("model"), max_length=255)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    ledger_entries = models.ManyToManyField(LedgerEntry, blank=True, related_name="drafts")
    claims = models.JSONField(_("claims check"), default=dict)
    unsupported_claims = models.PositiveIntegerField(_("unsupported claims"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    job = models.ForeignKey(
        GenerationJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    edited = models.BooleanField(_("edited by a person"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reject_reason = models.TextField(_("reason for rejecting"), blank=True)
    override_reason = models.TextField(
        _("reason for approving despite unsupported claims"), blank=True
    )

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("generate_descriptions", _("Can generate product descriptions")),
            ("approve_descriptions", _("Can approve or reject product descriptions")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "field", "variant"],
                condition=models.Q(status="pending"),
                name="oscar_gpt_one_pending_draft",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()} · {self.product_id} · {self.get_status_display()}"

    @property
    def flagged(self) -> bool:
        return self.unsupported_claims > 0


class Revision(models.Model):
    """Every change the app made to a product field; any revision can be restored."""

    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, related_name="gpt_revisions"
    )
    field = models.CharField(_("field"), max_length=32, choices=DescriptionField.choices)
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    draft = models.ForeignKey(
        Draft, null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} · {self.product_id} · {self.created_at:%Y-%m-%d %H:%M}"


class EvidenceSet(models.Model):
    """One product's evidence units and their embeddings, as the Q&A last built them.

    ``fingerprint`` is a hash of the units' texts and the embedding model: when the product,
    its attributes, approved reviews or FAQ change, the next build sees a new fingerprint and
    embeds only the texts it has not embedded before.
    """

    product = models.OneToOneField(
        "catalogue.Product", on_delete=models.CASCADE, related_name="gpt_evidence"
    )
    fingerprint = models.CharField(max_length=64)
    embedding_model = models.CharField(max_length=255)
    #: ``[{"id", "kind", "text", "label"}]`` in the order of ``vectors``.
    units = models.JSONField(default=list)
    #: float32, row-major, ``len(units)`` x dimension.
    vectors = models.BinaryField(default=b"")
    dimension = models.PositiveSmallIntegerField(default=0)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("evidence set")
        verbose_name_plural = _("evidence sets")

    def __str__(self) -> str:
        return f"{self.product_id} · {len(self.units)} units"


class Question(models.Model):
    """A shopper's question about a product, its answer and where the answer came from.

    The question is stored scrubbed of personal data; the shopper's e-mail address is kept
    only when they asked to be told of the answer, and is removed once they have been.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Being answered")
        ANSWERED = "answered", _("Answered")
        NEEDS_STAFF = "needs_staff", _("Waiting for staff")
        REJECTED = "rejected", _("Rejected")

    class Source(models.TextChoices):
        MODEL = "model", _("Answered from the product's facts")
        QUOTE = "quote", _("The product's facts, quoted")
        STORED = "stored", _("An earlier answer")
        STAFF = "staff", _("Staff")

    class RejectReason(models.TextChoices):
        SPAM = "spam", _("Spam")
        OFF_TOPIC = "off_topic", _("Off-topic")
        DUPLICATE = "duplicate", _("Duplicate")
        OTHER = "other", _("Other")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by Meta.indexes, which begin with the product (as do the lookups): no index of
    # its own, nor for ``normalised`` and ``status``, to keep each question's INSERT cheap.
    product = models.ForeignKey(
        "catalogue.Product",
        on_delete=models.CASCADE,
        related_name="gpt_questions",
        db_index=False,
    )
    text = models.TextField(_("question"))
    #: A hash of the question in lower case, without punctuation and extra spaces: finds the
    #: same question asked again (:func:`oscar_gpt.qa.service.normalise`).
    normalised = models.CharField(max_length=64)
    #: The question's embedding (float32), to find near-identical questions.
    vector = models.BinaryField(default=b"")
    language = models.CharField(_("language"), max_length=16)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    answer = models.TextField(_("answer"), blank=True)
    source = models.CharField(_("answered by"), max_length=16, choices=Source.choices, blank=True)
    #: The evidence shown with the answer: ``[{"id", "kind", "text", "label"}]``.
    evidence = models.JSONField(_("evidence"), default=list)
    #: Why the model did or did not answer: gate decision, scores, claims check, cited ids.
    trace = models.JSONField(default=dict)
    #: The evidence fingerprint the answer was made from; a stored answer is reused only
    #: while the product's facts are the same (staff answers always).
    fingerprint = models.CharField(max_length=64, blank=True)
    #: While a worker generates the answer: until when the question is its own (a worker
    #: that dies lets it go when this passes). See ``qa.service.answer``.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    #: A model-drafted answer staff may edit; never shown to shoppers as it is.
    suggestion = models.TextField(_("suggested answer"), blank=True)
    answered_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published = models.BooleanField(_("in the product's FAQ"), default=False, db_index=True)
    reports = models.PositiveIntegerField(_("reports"), default=0)
    report_reason = models.TextField(_("last report"), blank=True)
    reject_reason = models.CharField(
        _("reason for rejecting"), max_length=16, choices=RejectReason.choices, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gpt_questions",
    )
    session_key = models.CharField(max_length=64, blank=True)
    email = models.EmailField(_("e-mail for the answer"), blank=True)
    notify = models.BooleanField(_("tell me when answered"), default=False)
    notified_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-created_at", "-id"]
        permissions = [("answer_questions", _("Can answer and publish shoppers' questions"))]
        indexes = [
            # The stored-answer lookup (qa.service.reusable_answers): read in its order, so
            # it stops at the first reusable row however often the question was asked.
            models.Index(fields=["product", "normalised", "-published", "-answered_at", "-id"]),
            models.Index(fields=["product", "published"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def done(self) -> bool:
        return self.status != self.Status.QUEUED


class BudgetPeriod(models.Model):
    """What one feature spent in one day or month, and what calls in flight have reserved.

    A worker locks the feature's rows, checks ``spent + reserved + estimate`` against the
    cap and reserves the estimate before a model call; afterwards the estimate leaves
    ``reserved`` and the call's real cost joins ``spent`` (:mod:`oscar_gpt.budgets`).
    """

    class Period(models.TextChoices):
        DAY = "day", _("Day")
        MONTH = "month", _("Month")

    feature = models.CharField(_("feature"), max_length=64)
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    #: The first day of the period, in the shop's time zone.
    starts = models.DateField(_("starts"))
    spent = models.DecimalField(
        _("spent (USD)"), max_digits=14, decimal_places=8, default=Decimal("0")
    )
    reserved = models.DecimalField(
        _("reserved by calls in flight (USD)"),
        max_digits=14,
        decimal_places=8,
        default=Decimal("0"),
    )
    #: When staff were told that the period's spending passed the warning share.
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)

    class Meta:
        verbose_name = _("budget period")
        verbose_name_plural = _("budget periods")
        ordering = ["-starts", "feature", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "period", "starts"], name="oscar_gpt_one_budget_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.feature} · {self.get_period_display()} of {self.starts:%Y-%m-%d}"


class AuditEntry(models.Model):
    """Who did what to which object, when, with the text before and after: approvals,
    rejections, edits, restores, overrides, answers, and settings changed in the dashboard."""

    class Action(models.TextChoices):
        DRAFT_EDITED = "draft_edited", _("Draft edited")
        DRAFT_APPROVED = "draft_approved", _("Draft approved")
        DRAFT_OVERRIDDEN = "draft_overridden", _("Draft approved despite unsupported claims")
        DRAFT_REJECTED = "draft_rejected", _("Draft rejected")
        REVISION_RESTORED = "revision_restored", _("Revision restored")
        QUESTION_ANSWERED = "question_answered", _("Question answered by staff")
        QUESTION_PUBLISHED = "question_published", _("Answer published to the FAQ")
        QUESTION_UNPUBLISHED = "question_unpublished", _("Answer removed from the FAQ")
        QUESTION_REJECTED = "question_rejected", _("Question rejected")
        PROMPT_CHANGED = "prompt_changed", _("Prompt changed")
        SETTING_CHANGED = "setting_changed", _("Setting changed")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    #: Who it was, kept when the account is deleted.
    user_repr = models.CharField(_("by"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    content_object = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_repr} · {self.user_repr}"


class ProductVector(models.Model):
    """One product's embedding, for semantic search (the finder) and similar products.

    ``fingerprint`` is a hash of the text embedded and the embedding model: a product whose
    title, class, categories, attributes and description are unchanged is not embedded again.
    """

    product = models.OneToOneField(
        "catalogue.Product", on_delete=models.CASCADE, related_name="gpt_vector"
    )
    #: float32, unit length, ``dimension`` values.
    vector = models.BinaryField(default=b"")
    dimension = models.PositiveSmallIntegerField(default=0)
    embedding_model = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("product vector")
        verbose_name_plural = _("product vectors")

    def __str__(self) -> str:
        return f"{self.product_id} · {self.embedding_model}"


class RecommendationRule(models.Model):
    """A merchant's say over recommendations: pin, boost or exclude a product, on one
    product's page or (no product) everywhere, shoppers' own lists included.

    Applied when the lists are built (:mod:`oscar_gpt.recommendations.service`); saving a
    rule refreshes the lists it touches.
    """

    class Kind(models.TextChoices):
        PIN = "pin", _("Pin (always shown first)")
        BOOST = "boost", _("Boost (ranked higher)")
        EXCLUDE = "exclude", _("Exclude (never shown)")

    product = models.ForeignKey(
        "catalogue.Product",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("on the page of"),
        help_text=_("Leave empty for every product page and every shopper's list."),
    )
    target = models.ForeignKey(
        "catalogue.Product",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("recommended product"),
    )
    kind = models.CharField(_("rule"), max_length=8, choices=Kind.choices)
    #: Boosts: the share added to the product's score (1.0 doubles it). Pins: the order
    #: among pins, highest first.
    weight = models.FloatField(
        _("weight"),
        default=1.0,
        help_text=_("Boosts: how much to add to the score (1 doubles it). Pins: highest first."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recommendation rule")
        verbose_name_plural = _("recommendation rules")
        ordering = ["product_id", "kind", "-weight", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "target"], name="oscar_gpt_one_rule_per_pair"
            ),
            models.UniqueConstraint(
                fields=["target"],
                condition=models.Q(product__isnull=True),
                name="oscar_gpt_one_shop_rule_per_target",
            ),
        ]

    def __str__(self) -> str:
        where = self.product_id or _("everywhere")
        return f"{self.get_kind_display()} · {self.target_id} · {where}"


class RecommendationList(models.Model):
    """Recommendations computed ahead of time, read by the storefront with one query.

    One row per product (its neighbours: hand-picked, pinned, then the hybrid's ranking,
    filled with what is popular in its category), per shopper (their own list) and one for
    the whole shop (what is popular). ``items`` holds ``[product_id, score, reason, via
    product id or null, label]`` lists, best first; the reason and what it came from are the
    model's (:data:`oscar_gpt.recommendations.reasons.REASONS`).
    """

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SHOPPER = "shopper", _("Shopper")
        POPULAR = "popular", _("Popular")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    product = models.OneToOneField(
        "catalogue.Product",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    items = models.JSONField(default=list)
    #: Shopper rows: products never to show this shopper (what they bought), on any page.
    excluded = models.JSONField(default=list, blank=True)
    built_at = models.DateTimeField()

    class Meta:
        verbose_name = _("recommendation list")
        verbose_name_plural = _("recommendation lists")
        indexes = [models.Index(fields=["kind"], name="oscar_gpt_reclist_kind")]

    def __str__(self) -> str:
        return f"{self.kind} · {self.product_id or self.user_id or ''}"


class RecommendationBuild(models.Model):
    """One full rebuild of the recommendations and the incremental updates since.

    ``watermarks`` are the last view, basket line and order line already in the lists: an
    update reads only what came after. ``artefact`` keeps what an update reuses (the matrix
    factorisation's and the content model's neighbours, popularity), as a NumPy archive.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last update"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    watermarks = models.JSONField(default=dict)
    stats = models.JSONField(default=dict)
    updates = models.PositiveIntegerField(_("incremental updates"), default=0)
    artefact = models.BinaryField(default=b"")

    class Meta:
        verbose_name = _("recommendation build")
        verbose_name_plural = _("recommendation builds")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_status_display()}"


# -- fine-tuning (oscar_gpt.finetune) ---------------------------------------------------------


class TrainingExport(models.Model):
    """One export of training data: reviewed copy and answers as JSONL files on disk.

    ``summary`` holds what the export counted: examples per split and kind, what was left
    out and why, personal data scrubbed, tokens and the hosted fine-tune's estimated cost.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    #: What to export: ``{"kinds": [...], "fields": [...], "validation_share": 0.2, ...}``.
    options = models.JSONField(_("options"), default=dict)
    #: The folder holding the JSONL files and ``summary.json``.
    directory = models.CharField(_("folder"), max_length=500, blank=True)
    summary = models.JSONField(_("summary"), default=dict)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("training data export")
        verbose_name_plural = _("training data exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_status_display()}"


class FineTuneJob(models.Model):
    """A fine-tune of a local model (transformers' Trainer in a worker) or of a hosted one
    (OpenAI's fine-tuning API, followed by a periodic task)."""

    class Provider(models.TextChoices):
        LOCAL = "local", _("Local (transformers)")
        OPENAI = "openai", _("OpenAI")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING_FILES = "validating_files", _("Validating files")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    #: Statuses after which nothing changes any more.
    FINAL = ("succeeded", "failed", "cancelled")

    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    export = models.ForeignKey(
        TrainingExport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
        verbose_name=_("training data"),
    )
    #: The backend alias fine-tuned (local), or whose API and key are used (hosted).
    backend = models.CharField(_("backend"), max_length=64)
    #: The model fine-tuned: a folder, a GGUF file or a hosted model name.
    base_model = models.CharField(_("base model"), max_length=255, blank=True)
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    #: ``{"step", "max_steps", "epoch", "loss", "elapsed_s", "eta_s", "percent"}``.
    progress = models.JSONField(_("progress"), default=dict)
    #: Validation loss and generated-copy checks, before and after; token counts, cost.
    metrics = models.JSONField(_("results"), default=dict)
    #: Local: the saved model folder.
    output_dir = models.CharField(_("model folder"), max_length=500, blank=True)
    #: Hosted: the uploaded files and the provider's job.
    training_file_id = models.CharField(max_length=128, blank=True)
    validation_file_id = models.CharField(max_length=128, blank=True)
    job_id = models.CharField(_("provider's job id"), max_length=128, blank=True, db_index=True)
    fine_tuned_model = models.CharField(_("fine-tuned model"), max_length=255, blank=True)
    trained_tokens = models.PositiveBigIntegerField(_("trained tokens"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("fine-tuning job")
        verbose_name_plural = _("fine-tuning jobs")
        ordering = ["-created_at", "-id"]
        permissions = [("manage_finetuning", _("Can export training data and fine-tune models"))]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_provider_display()} · {self.get_status_display()}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINAL


class FineTunedModel(models.Model):
    """A fine-tuned model as a backend alias: the registry builds it like one configured in
    ``OSCAR_GPT["BACKENDS"]`` (the base alias's class and config, this model), and the
    features chosen here in the dashboard try it first."""

    #: Every fine-tuned alias starts with this: the registry looks up no other in the table.
    ALIAS_PREFIX = "ft-"

    alias = models.SlugField(_("backend alias"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    provider = models.CharField(_("provider"), max_length=16, choices=FineTuneJob.Provider.choices)
    #: The alias whose CLASS and CONFIG the fine-tuned backend starts from.
    base_backend = models.CharField(_("based on backend"), max_length=64)
    #: Local: the model folder. Hosted: the provider's model id ("ft:gpt-4o-mini-...").
    model = models.CharField(_("model"), max_length=500)
    job = models.OneToOneField(
        FineTuneJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fine_tuned_model_row",
    )
    #: The features that try this model first, before their configured chain.
    features = models.JSONField(_("used by"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("fine-tuned model")
        verbose_name_plural = _("fine-tuned models")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or self.alias
