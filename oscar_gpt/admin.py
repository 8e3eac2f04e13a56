from django.contrib import admin

from .models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is written by the model layer alone."""

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

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
