"""The "Generate descriptions" bulk action on Oscar's dashboard product list."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_class

from ..permissions import visible_products
from .forms import GenerationControlsForm

ProductIntermediateAction = get_class(
    "dashboard.catalogue.bulk_actions", "ProductIntermediateAction"
)
ProductBulkActionForm = get_class("dashboard.catalogue.forms", "ProductBulkActionForm")
ProductBulkActionMixin = get_class("dashboard.catalogue.mixins", "ProductBulkActionMixin")

ACTION_KEY = "oscar_gpt_generate_descriptions"


class GenerateDescriptionsForm(ProductBulkActionForm, GenerationControlsForm):
    """Oscar's product selection plus our generation controls (both ``clean``s run)."""


class GenerateDescriptionsAction(ProductIntermediateAction):
    label = _("Generate descriptions")
    form_class = GenerateDescriptionsForm
    template = "oscar_gpt/dashboard/bulk_generate.html"
    supported_structures = ["standalone", "parent"]

    def execute(self, request, objects, form):
        """Only queues a job: the work happens in Celery workers."""
        from ..descriptions import service

        if not request.user.has_perm("oscar_gpt.generate_descriptions"):
            raise PermissionDenied
        objects = objects.filter(pk__in=visible_products(request.user))
        try:
            job = service.start_job(
                list(objects.values_list("pk", flat=True)),
                form.cleaned_data["params"],
                user=request.user,
            )
        except service.DescriptionError as exc:
            messages.error(request, str(exc))
            return
        url = reverse("oscar_gpt_dashboard:job-detail", args=[job.pk])
        messages.success(
            request,
            format_html(
                _('Generating drafts for {} product(s): <a href="{}">follow job #{}</a>.'),
                job.items.count(),
                url,
                job.pk,
            ),
            extra_tags="safe",
        )


def register() -> None:
    """Add the action to Oscar's product list (a forked list keeps its own actions too)."""
    ProductBulkActionMixin.intermediate_actions.setdefault(ACTION_KEY, GenerateDescriptionsAction())
