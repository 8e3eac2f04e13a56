"""Dashboard pages: thin callers of :mod:`oscar_gpt.descriptions.service`."""

import difflib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views import generic
from oscar.core.loading import get_model

from ..descriptions import service
from ..grounding import ClaimsReport
from ..models import DescriptionField, Draft, GenerationJob, PromptTemplate, Revision
from ..permissions import visible_products
from ..wording import check_product_copy
from .forms import GenerateForm, PromptTemplateForm, ReviewForm

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")


def word_diff(before: str, after: str) -> str:
    """HTML: words removed in <del>, added in <ins>, everything escaped."""
    old, new = before.split(), after.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(' '.join(old[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(' '.join(new[j1:j2]))}</ins>")
        if op == "equal":
            parts.append(escape(" ".join(old[i1:i2])))
    return mark_safe(" ".join(parts))  # noqa: S308 - every piece is escaped above


class GenerateView(generic.FormView):
    """Generate for chosen products (``?product=1&product=2``), a category or everything."""

    form_class = GenerateForm
    template_name = "oscar_gpt/dashboard/generate.html"

    def get_initial(self):
        ids = [pk for pk in self.request.GET.getlist("product") if pk.isdigit()]
        return {"products": ",".join(ids), "target": "products" if ids else "category"}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ids = [int(pk) for pk in (ctx["form"]["products"].value() or "").split(",") if pk.isdigit()]
        ctx["chosen_products"] = visible_products(self.request.user).filter(pk__in=ids)
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            ids = service.select_products(
                user=self.request.user,
                product_ids=data.get("product_ids", []) if data["target"] == "products" else [],
                categories=[data["category"]] if data["target"] == "category" else [],
                everything=data["target"] == "all",
            )
            job = service.start_job(ids, data["params"], user=self.request.user)
        except service.DescriptionError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, _("Job #%d queued.") % job.pk)
        return redirect("oscar_gpt_dashboard:job-detail", pk=job.pk)


class JobMixin:
    def get_job(self):
        job = get_object_or_404(GenerationJob, pk=self.kwargs["pk"])
        user = self.request.user
        if not user.is_staff and job.created_by_id != user.pk:
            raise PermissionDenied
        return job


class JobDetailView(JobMixin, generic.TemplateView):
    template_name = "oscar_gpt/dashboard/job_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        job = self.get_job()
        ctx.update(
            job=job,
            progress=service.job_progress(job),
            drafts=job.drafts.select_related("product").order_by(
                "product__title", "field", "variant"
            ),
        )
        return ctx


class JobProgressView(JobMixin, generic.View):
    def get(self, request, *args, **kwargs):
        return JsonResponse(service.job_progress(self.get_job()))


class JobActionView(JobMixin, generic.View):
    """POST only: cancel, retry failed products, approve every unflagged draft."""

    def post(self, request, *args, **kwargs):
        job = self.get_job()
        action = kwargs["action"]
        if action in ("cancel", "retry") and not request.user.has_perm(
            "oscar_gpt.generate_descriptions"
        ):
            raise PermissionDenied  # retrying spends money: only those who may generate
        if action == "cancel":
            service.cancel_job(job)
            messages.info(request, _("Job cancelled; drafts already written are kept."))
        elif action == "retry":
            count = service.retry_failed(job)
            messages.info(request, _("%d product(s) queued again.") % count)
        elif action == "approve-unflagged":
            if not request.user.has_perm("oscar_gpt.approve_descriptions"):
                raise PermissionDenied
            count = service.approve_unflagged(job, user=request.user)
            messages.success(request, _("%d draft(s) approved and published.") % count)
        else:
            messages.error(request, _("Unknown action."))
        return redirect("oscar_gpt_dashboard:job-detail", pk=job.pk)


class DraftListView(generic.ListView):
    template_name = "oscar_gpt/dashboard/draft_list.html"
    context_object_name = "drafts"
    paginate_by = 50

    def get_queryset(self):
        drafts = Draft.objects.select_related("product", "job").filter(
            product__in=visible_products(self.request.user)
        )
        status = self.request.GET.get("status", Draft.Status.PENDING)
        if status in Draft.Status.values:
            drafts = drafts.filter(status=status)
        if self.request.GET.get("flagged") == "1":
            drafts = drafts.filter(unsupported_claims__gt=0)
        if self.request.GET.get("job", "").isdigit():
            drafts = drafts.filter(job_id=int(self.request.GET["job"]))
        query = self.request.GET.get("q", "").strip()
        if query:
            drafts = drafts.filter(Q(product__title__icontains=query) | Q(text__icontains=query))
        return drafts

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["statuses"] = Draft.Status.choices
        ctx["status"] = self.request.GET.get("status", Draft.Status.PENDING)
        return ctx


class DraftReviewView(generic.FormView):
    """Current text beside the draft, claims and wording marked; edit, approve or reject."""

    form_class = ReviewForm
    template_name = "oscar_gpt/dashboard/draft_review.html"

    def dispatch(self, request, *args, **kwargs):
        self.draft = get_object_or_404(
            Draft.objects.select_related("product", "job"),
            pk=kwargs["pk"],
            product__in=visible_products(request.user),
        )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"text": self.draft.text}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        draft = self.draft
        current = service.as_text(getattr(draft.product, draft.field) or "")
        report = ClaimsReport.from_dict(draft.claims)
        # Checked at render time, never stored: it informs the reviewer, it blocks nothing.
        wording = check_product_copy(draft.text, draft.product, draft.language)
        ctx.update(
            draft=draft,
            current=current,
            diff=word_diff(current, draft.text),
            highlighted=report.highlight(draft.text),
            unsupported=report.unsupported,
            wording_flags=wording.flags,
            wording_highlighted=wording.highlight(draft.text),
            siblings=Draft.objects.filter(
                product=draft.product, field=draft.field, status=Draft.Status.PENDING
            ).exclude(pk=draft.pk),
            can_approve=self.request.user.has_perm("oscar_gpt.approve_descriptions"),
        )
        return ctx

    def form_valid(self, form):
        action = self.request.POST.get("action")
        user = self.request.user
        if not user.has_perm("oscar_gpt.approve_descriptions"):
            raise PermissionDenied  # reviewers without it read; editing is part of approving
        try:
            if action == "approve":
                service.approve(
                    self.draft,
                    user=user,
                    text=form.cleaned_data["text"],
                    override_reason=form.cleaned_data["override_reason"],
                )
                messages.success(self.request, _("Approved and published to the product."))
                return redirect(self.next_url())
            if action == "reject":
                service.reject(self.draft, user=user, reason=form.cleaned_data["reject_reason"])
                messages.info(self.request, _("Draft rejected."))
                return redirect(self.next_url())
            service.edit(self.draft, form.cleaned_data["text"], user=user)
            messages.success(self.request, _("Saved; the claims check ran again."))
        except service.DescriptionError as exc:
            form.add_error(None, str(exc))
            self.draft.refresh_from_db()
            return self.form_invalid(form)
        return redirect("oscar_gpt_dashboard:draft-review", pk=self.draft.pk)

    def next_url(self):
        following = (
            Draft.objects.filter(
                status=Draft.Status.PENDING,
                job=self.draft.job,
                product__in=visible_products(self.request.user),
            )
            .exclude(pk=self.draft.pk)
            .order_by("pk")
            .first()
        )
        if following is not None and self.draft.job_id:
            return reverse("oscar_gpt_dashboard:draft-review", args=[following.pk])
        return reverse("oscar_gpt_dashboard:draft-list")


class RevisionListView(generic.TemplateView):
    """Every change the app made to a product's fields, each one restorable."""

    template_name = "oscar_gpt/dashboard/revision_list.html"

    def get_product(self):
        return get_object_or_404(visible_products(self.request.user), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        product = self.get_product()
        ctx.update(
            product=product,
            revisions=Revision.objects.filter(product=product).select_related("user"),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("oscar_gpt.approve_descriptions"):
            raise PermissionDenied
        product = self.get_product()
        revision = get_object_or_404(Revision, pk=request.POST.get("revision"), product=product)
        service.restore(revision, user=request.user)
        messages.success(
            request,
            _("Restored the %s from before that change.") % revision.get_field_display().lower(),
        )
        return redirect("oscar_gpt_dashboard:revision-list", pk=product.pk)


class PromptListView(generic.TemplateView):
    """Which prompts the shop has changed, per product class and field."""

    template_name = "oscar_gpt/dashboard/prompt_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        custom = {(p.product_class_id, p.field) for p in PromptTemplate.objects.exclude(text="")}
        rows = [(None, _("All products"))] + [
            (pc, pc.name) for pc in ProductClass.objects.order_by("name")
        ]
        ctx["rows"] = [
            (pc, label, [(f, (pc.pk if pc else None, f.value) in custom) for f in DescriptionField])
            for pc, label in rows
        ]
        ctx["fields"] = list(DescriptionField)
        return ctx


class PromptEditView(generic.FormView):
    """Edit the prompt of one field for one product class (``class=0``: the whole shop)."""

    form_class = PromptTemplateForm
    template_name = "oscar_gpt/dashboard/prompt_edit.html"

    def dispatch(self, request, *args, **kwargs):
        from django.http import Http404

        if kwargs["field"] not in DescriptionField.values:
            raise Http404
        self.product_class = (
            get_object_or_404(ProductClass, pk=kwargs["class_id"]) if kwargs["class_id"] else None
        )
        self.field = kwargs["field"]
        self.current = PromptTemplate.objects.filter(
            product_class=self.product_class, field=self.field
        ).first()
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"text": self.current.text if self.current else ""}

    def get_context_data(self, **kwargs):
        from django.template.loader import get_template

        ctx = super().get_context_data(**kwargs)
        ctx.update(
            product_class=self.product_class,
            field_label=DescriptionField(self.field).label,
            default=get_template(f"oscar_gpt/prompts/{self.field}.txt").template.source,
        )
        return ctx

    def form_valid(self, form):
        from .. import audit

        with transaction.atomic():
            prompt, _created = PromptTemplate.objects.update_or_create(
                product_class=self.product_class,
                field=self.field,
                defaults={"text": form.cleaned_data["text"]},
            )
            audit.record(
                audit.Action.PROMPT_CHANGED,
                prompt,
                user=self.request.user,
                before=self.current.text if self.current else "",
                after=form.cleaned_data["text"],
            )
        messages.success(
            self.request,
            _("Prompt saved.")
            if form.cleaned_data["text"]
            else _("Prompt reset to the shipped default."),
        )
        return redirect("oscar_gpt_dashboard:prompt-list")
