"""The staff queue of shoppers' questions: thin callers of :mod:`oscar_gpt.qa.service`."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic
from oscar.core.loading import get_model

from ..grounding import ClaimsReport
from ..llm.errors import BackendError
from ..models import Question
from ..qa import service
from ..qa.retrieval import LABELS

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")

#: The queue's tabs, in the order shown: the service's filter and its label.
FILTERS = [
    ("open", _("Open")),
    ("waiting", _("Waiting for staff")),
    ("reported", _("Reported")),
    ("answered", _("Answered")),
    ("published", _("In the FAQ")),
    ("rejected", _("Rejected")),
    ("all", _("All")),
]
FILTER_KEYS = {key for key, _label in FILTERS}

#: What the relevance gate's decision means, for staff.
GATE_REASONS = {
    "supported": _("The product's evidence is close enough to the question to answer it."),
    "low_semantic": _("No evidence is close enough in meaning to the question."),
    "low_score": _("The best evidence scored too low to answer from."),
    "no_evidence": _("The product has no evidence to answer from."),
}

#: Why the answers check turned the model's reply down, for staff.
CHECK_PROBLEMS = {
    "empty": _("The model wrote no answer."),
    "prompt_markup": _("The reply repeats the prompt's markup."),
    "instructions": _("The reply repeats the model's instructions."),
    "external_link": _("The reply links to another site."),
    "unsupported_claims": _("The reply states things the evidence does not support."),
}

#: How many of the retrieval's scores the page shows.
TOP_SCORES = 5


class AnswerForm(forms.Form):
    """Staff's answer. Not required here: the service says what a valid answer is."""

    text = forms.CharField(
        label=_("Answer"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
    )
    publish = forms.BooleanField(
        label=_("Publish to the product's FAQ"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def readable_check(check: dict | None, text: str = "") -> dict | None:
    """The claims check of one model reply, as staff read it (``text`` gets its marks)."""
    if not check:
        return None
    try:
        report = ClaimsReport.from_dict(check.get("claims") or {})
    except (KeyError, TypeError, ValueError):
        report = ClaimsReport()
    return {
        "ok": bool(check.get("ok")),
        "unknown": bool(check.get("unknown")),
        "cited": bool(check.get("cited", True)),
        "cited_ids": check.get("cited_ids") or [],
        "problems": [CHECK_PROBLEMS.get(p, p) for p in check.get("problems") or []],
        "unsupported": report.unsupported,
        "highlighted": report.highlight(text) if text else "",
    }


def readable_trace(question: Question) -> dict[str, Any]:
    """Why the question was (or wasn't) answered by the model, from its stored trace."""
    trace = question.trace if isinstance(question.trace, dict) else {}
    gate = trace.get("gate", "")
    return {
        "gate": gate,
        "gate_reason": GATE_REASONS.get(gate, gate),
        "scores": (trace.get("results") or [])[:TOP_SCORES],
        "model": trace.get("model", ""),
        "check": readable_check(trace.get("check")),
        "stored": trace.get("stored"),
        "similar": bool(trace.get("similar")),
        "suggestion": readable_check(trace.get("suggestion"), question.suggestion),
    }


class QuestionListView(generic.ListView):
    """The queue: open questions first (most reported, then oldest), filter tabs with counts."""

    template_name = "oscar_gpt/dashboard/question_list.html"
    context_object_name = "questions"
    paginate_by = 25

    def get(self, request, *args, **kwargs):
        self.status = request.GET.get("status") or "open"
        if self.status not in FILTER_KEYS:
            self.status = "open"
        product_id = request.GET.get("product", "")
        self.product = (
            get_object_or_404(Product, pk=int(product_id)) if product_id.isdigit() else None
        )
        self.query = request.GET.get("q", "").strip()
        return super().get(request, *args, **kwargs)

    def queue(self, status: str):
        questions = service.staff_queue(status=status, product=self.product)
        if self.query:
            questions = questions.filter(text__icontains=self.query)
        return questions

    def get_queryset(self):
        return self.queue(self.status)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            status=self.status,
            product=self.product,
            query=self.query,
            tabs=[
                {"key": key, "label": label, "count": self.queue(key).count()}
                for key, label in FILTERS
            ],
        )
        return ctx


class QuestionDetailView(generic.TemplateView):
    """One question: its answer, evidence and trace; answer, suggest, publish or reject."""

    template_name = "oscar_gpt/dashboard/question_detail.html"
    #: The POST ``action`` values and the methods that carry them out.
    actions = {
        "answer": "answer",
        "suggest": "suggest",
        "publish": "publish",
        "unpublish": "unpublish",
        "reject": "reject",
    }

    def dispatch(self, request, *args, **kwargs):
        self.question = get_object_or_404(
            Question.objects.select_related("product", "answered_by", "answered_from"),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)

    @property
    def url(self) -> str:
        return reverse("oscar_gpt_dashboard:question-detail", args=[self.question.pk])

    @property
    def kept_text_key(self) -> str:
        return f"oscar_gpt_question_{self.question.pk}_answer"

    def prefill(self) -> str:
        return self.question.answer or self.question.suggestion

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        question = self.question
        if "answer_form" not in ctx:
            kept = self.request.session.pop(self.kept_text_key, None)
            ctx["answer_form"] = AnswerForm(
                initial={"text": kept or self.prefill(), "publish": question.published}
            )
            ctx["kept_text"] = kept is not None
        ctx.update(
            question=question,
            product=question.product,
            evidence=[
                {**e, "label": LABELS.get(e.get("kind")) or e.get("label", "")}
                for e in question.evidence or []
                if isinstance(e, dict)
            ],
            trace=readable_trace(question),
            reject_reasons=Question.RejectReason.choices,
            next_question=service.staff_queue(status="open").exclude(pk=question.pk).first(),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        method = self.actions.get(request.POST.get("action", ""))
        if method is None:
            messages.error(request, _("Unknown action."))
            return redirect(self.url)
        return getattr(self, method)(request)

    def answer(self, request):
        form = AnswerForm(request.POST)
        form.is_valid()
        data = form.cleaned_data
        question = self.question
        will_email = bool(question.notify and question.email and question.notified_at is None)
        try:
            service.staff_answer(
                question, data.get("text", ""), user=request.user, publish=data.get("publish")
            )
        except service.QuestionError as exc:
            form.add_error("text", str(exc))
            return self.render_to_response(self.get_context_data(answer_form=form))
        if data.get("publish"):
            messages.success(request, _("Answer saved and published to the product's FAQ."))
        else:
            messages.success(request, _("Answer saved."))
        if will_email:
            messages.info(request, _("The shopper will be e-mailed the answer."))
        return redirect(self.url)

    def suggest(self, request):
        # The staff's typed text survives the round trip, whatever the model does.
        typed = request.POST.get("text", "")
        if typed.strip() and typed.strip() != self.prefill().strip():
            request.session[self.kept_text_key] = typed
        try:
            service.suggest(self.question, user=request.user)
        except BackendError as exc:
            logger.warning("No suggestion for question %s: %r", self.question.pk, exc)
            messages.error(
                request,
                _(
                    "The model could not draft a suggestion just now. Try again later, "
                    "or write the answer yourself."
                ),
            )
            return redirect(self.url)
        if self.question.suggestion:
            messages.success(request, _("Suggestion drafted: check it before you use it."))
        else:
            messages.warning(request, _("The model found nothing in the product's facts to say."))
        return redirect(self.url)

    def publish(self, request):
        return self._set_published(request, True)

    def unpublish(self, request):
        return self._set_published(request, False)

    def _set_published(self, request, published: bool):
        try:
            service.set_published(self.question, published, user=request.user)
        except service.QuestionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Published to the product's FAQ.")
                if published
                else _("Taken out of the product's FAQ."),
            )
        return redirect(self.url)

    def reject(self, request):
        try:
            service.reject(self.question, request.POST.get("reason", ""), user=request.user)
        except service.QuestionError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, _("Question rejected: it won't be answered or shown."))
        return redirect(self.url)
