"""The product page's Q&A doors: ask, follow a question, report an answer.

Each works as a plain form (redirects and a page that refreshes itself) and as JSON for the
widget's script (``Accept: application/json``); both go through the same service, the same
rate limits and Django's CSRF protection.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from oscar.core.loading import get_model

from .. import throttling
from ..app_settings import app_settings
from ..models import Question
from . import service

Product = get_model("catalogue", "Product")


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def question_url(question: Question) -> str:
    return reverse("oscar_gpt:qa-question", kwargs={"public_id": question.public_id})


def _session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def refused(request, wait: float):
    """The ask's 429; also what ``oscar_gpt.middleware`` answers a client refused a moment ago."""
    if wants_json(request):
        response = _json_error(
            _("Too many questions. Please try again in %(seconds)d seconds.")
            % {"seconds": int(wait) + 1},
            status=429,
        )
        response["Retry-After"] = str(int(wait) + 1)
        return response
    return throttling.too_many_requests(wait)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class AskView(View):
    """POST a question about a product.

    Not wrapped in ``ATOMIC_REQUESTS``' transaction: asking writes one row (and a new
    shopper's session), each committed on its own, so a stored answer costs no BEGIN and
    COMMIT round trips; a queued question's task is sent once its row is committed.
    """

    def post(self, request, product_id: int):
        # Limits first: a client without a session counts by its address (a refused request
        # makes no session; one made before the check would escape the session's limit).
        had_session = bool(request.session.session_key)
        wait = throttling.check(request, throttling.QA_THROTTLES)
        if wait is not None:
            return refused(request, wait)
        session_key = _session_key(request)
        if not had_session:
            throttling.count_new_session(request, throttling.QA_THROTTLES)
        try:
            # The product's id: a question asked before is answered without reading the
            # product (the stored answer's query checks it is public).
            question = service.ask(
                product_id,
                request.POST.get("question", ""),
                user=request.user,
                session_key=session_key,
                email=request.POST.get("email", ""),
                notify=request.POST.get("notify") in ("1", "on", "true"),
                language=getattr(request, "LANGUAGE_CODE", None),
            )
        except Product.DoesNotExist as exc:
            raise Http404 from exc
        except service.QuestionError as exc:
            product = get_object_or_404(Product, pk=product_id, is_public=True)
            if wants_json(request):
                return _json_error(str(exc))
            context = {
                "product": product,
                "error": str(exc),
                "question_text": request.POST.get("question", ""),
                "email": request.POST.get("email", ""),
                "notify": request.POST.get("notify") in ("1", "on", "true"),
                "max_length": app_settings.QA_MAX_QUESTION_LENGTH,
            }
            return render(request, "oscar_gpt/qa/ask_error.html", context, status=400)
        if wants_json(request):
            payload = service.status_payload(question) | {"status_url": question_url(question)}
            return JsonResponse(payload, status=202 if not question.done else 200)
        return redirect(question_url(question), permanent=False)


class QuestionView(View):
    """A question's state: JSON for the widget, a self-refreshing page without JavaScript."""

    def get(self, request, public_id):
        question = get_object_or_404(
            Question.objects.select_related("product"), public_id=public_id
        )
        if not question.product.is_public:
            raise Http404
        payload = service.status_payload(question)
        if wants_json(request) or request.GET.get("format") == "json":
            return JsonResponse(payload)
        context = {
            "question": question,
            "payload": payload,
            "product": question.product,
            "refresh_seconds": 2,
        }
        return render(request, "oscar_gpt/qa/question.html", context)


class ReportView(View):
    """POST: "not helpful / report" on an answer: it goes to staff."""

    def post(self, request, public_id):
        question = get_object_or_404(
            Question.objects.select_related("product"), public_id=public_id
        )
        if not question.product.is_public:
            raise Http404
        wait = throttling.check(request, throttling.REPORT_THROTTLES)
        if wait is not None:
            return throttling.too_many_requests(wait)
        if question.status != Question.Status.ANSWERED:
            message = _("Only an answer can be reported.")
            return _json_error(message) if wants_json(request) else _bad_request(request, message)
        service.report(question, request.POST.get("reason", ""))
        if wants_json(request):
            return JsonResponse(
                {"reported": True, "message": _("Thank you. Our team will look at it.")}
            )
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = question.product.get_absolute_url()
        return redirect(back)


def _bad_request(request, message):
    return render(request, "oscar_gpt/qa/message.html", {"message": message}, status=400)
