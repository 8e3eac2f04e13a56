from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oscar.core.loading import get_model

from .models import (
    AuditEntry,
    BudgetPeriod,
    Draft,
    GenerationJob,
    LedgerEntry,
    PromptTemplate,
    Question,
    Revision,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the app alone: visible, never edited by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """The ledger is written by the model layer alone."""

    list_display = (
        "created_at",
        "feature",
        "backend",
        "model",
        "status",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "latency_ms",
    )
    list_filter = ("status", "feature", "backend", "kind")
    search_fields = ("model", "error_class", "object_id", "prompt_hash")
    date_hierarchy = "created_at"


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = (
        "product",
        "field",
        "variant",
        "status",
        "unsupported_claims",
        "backend",
        "created_at",
    )
    list_filter = ("status", "field", "backend")
    search_fields = ("product__title", "text")
    raw_id_fields = ("product", "job")
    readonly_fields = [f.name for f in Draft._meta.fields if f.name != "text"]
    actions = ["approve_unflagged", "reject_drafts"]

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=_("Approve selected drafts without unsupported claims"), permissions=["approve"]
    )
    def approve_unflagged(self, request, queryset):
        from .descriptions import service

        approved = 0
        for draft in queryset.filter(status=Draft.Status.PENDING, unsupported_claims=0):
            try:
                service.approve(draft, user=request.user)
            except service.DescriptionError:
                continue
            approved += 1
        self.message_user(
            request, ngettext("%d draft approved.", "%d drafts approved.", approved) % approved
        )

    @admin.action(description=_("Reject selected drafts"), permissions=["approve"])
    def reject_drafts(self, request, queryset):
        from .descriptions import service

        rejected = 0
        for draft in queryset.filter(status=Draft.Status.PENDING):
            service.reject(draft, user=request.user, reason=str(_("Rejected in the admin.")))
            rejected += 1
        self.message_user(
            request, ngettext("%d draft rejected.", "%d drafts rejected.", rejected) % rejected
        )

    def has_approve_permission(self, request):
        return request.user.has_perm("oscar_gpt.approve_descriptions")


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ("product", "field", "user", "draft", "restored_from", "created_at")
    list_filter = ("field",)
    search_fields = ("product__title",)
    actions = ["restore"]

    @admin.action(
        description=_("Restore the text from before these revisions"), permissions=["approve"]
    )
    def restore(self, request, queryset):
        from .descriptions import service

        for revision in queryset.order_by("created_at"):
            service.restore(revision, user=request.user)
        self.message_user(request, _("Restored %d revision(s).") % queryset.count())

    def has_approve_permission(self, request):
        return request.user.has_perm("oscar_gpt.approve_descriptions")


@admin.register(GenerationJob)
class GenerationJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "status", "created_by", "created_at", "finished_at")
    list_filter = ("status",)


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ("field", "product_class", "updated_at")
    list_filter = ("field",)


@admin.action(description=_("Generate descriptions (drafts for review)"))
def generate_descriptions(modeladmin, request, queryset):
    """Queue a job with the default settings; drafts wait for review."""
    from .descriptions import service
    from .descriptions.prompts import GenerationParams

    if not request.user.has_perm("oscar_gpt.generate_descriptions"):
        modeladmin.message_user(request, _("You may not generate descriptions."), messages.ERROR)
        return
    try:
        job = service.start_job(
            list(queryset.values_list("pk", flat=True)), GenerationParams(), user=request.user
        )
    except (service.DescriptionError, ValidationError) as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return
    url = reverse("admin:oscar_gpt_generationjob_change", args=[job.pk])
    modeladmin.message_user(
        request,
        format_html(
            _("Job {} queued for {} product(s): drafts will wait for review."),
            format_html('<a href="{}">#{}</a>', url, job.pk),
            queryset.count(),
        ),
    )


def _add_product_action():
    Product = get_model("catalogue", "Product")
    product_admin = admin.site._registry.get(Product)
    if product_admin is not None and generate_descriptions not in (product_admin.actions or ()):
        product_admin.actions = [*(product_admin.actions or ()), generate_descriptions]


_add_product_action()


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Written by the services as people act; nobody edits history."""

    list_display = ("created_at", "action", "object_repr", "user_repr")
    list_filter = ("action",)
    search_fields = ("object_repr", "user_repr", "reason", "object_id")
    date_hierarchy = "created_at"


@admin.register(BudgetPeriod)
class BudgetPeriodAdmin(ReadOnlyAdmin):
    list_display = ("feature", "period", "starts", "spent", "reserved", "warned_at")
    list_filter = ("feature", "period")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    """Shoppers' questions; staff answer them in the dashboard's queue."""

    list_display = ("text", "product", "status", "source", "published", "reports", "created_at")
    list_filter = ("status", "source", "published")
    search_fields = ("text", "answer")
    raw_id_fields = ("product", "answered_from")
    readonly_fields = ("public_id", "normalised", "trace", "evidence", "user", "session_key")
    exclude = ("vector",)


@admin.register(get_model("oscar_gpt", "RecommendationRule"))
class RecommendationRuleAdmin(admin.ModelAdmin):
    """Merchants pin, boost or exclude recommendations; saving refreshes the lists."""

    list_display = ("target", "kind", "product", "weight", "updated_at")
    list_filter = ("kind",)
    search_fields = ("target__title", "product__title", "target__upc", "product__upc")
    raw_id_fields = ("product", "target")


@admin.register(get_model("oscar_gpt", "RecommendationBuild"))
class RecommendationBuildAdmin(ReadOnlyAdmin):
    list_display = ("pk", "status", "started_at", "finished_at", "updated_at", "updates")
    list_filter = ("status",)
    exclude = ("artefact",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "artefact"]
