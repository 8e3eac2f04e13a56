"""The shopper Q&A over the REST API: ask, follow a question, report an answer, read the FAQ.

Thin callers of :mod:`oscar_gpt.qa.service`, for a shop's own front end (a single-page app,
a mobile app's web view). Anyone may ask, signed in or not, so the POSTs are protected the
way Django's forms are: CSRF is checked for every request that rides on cookies, anonymous
shoppers included (DRF's ``SessionAuthentication`` checks it for signed-in users only), and
rate limits (``OSCAR_GPT["RATE_LIMITS"]``) answer 429 with ``Retry-After``.

Unknown and unpublished products are one case: a 400 on ``product`` when asking, a 404 where
the product or question is in the URL.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from oscar.core.loading import get_model
from rest_framework import generics, permissions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Question
from ..qa import service
from ..throttling import QA_THROTTLES, REPORT_THROTTLES
from . import qa_serializers as s

Product = get_model("catalogue", "Product")

TAGS = ["Q&A"]
CSRF_FAILED = OpenApiResponse(
    s.DetailSerializer, description="CSRF token missing or incorrect (cookie-borne requests)."
)
THROTTLED = OpenApiResponse(
    s.DetailSerializer, description="Too many requests; Retry-After says how long to wait."
)
NOT_FOUND = OpenApiResponse(
    s.DetailSerializer, description="No such question, or its product is not published."
)


class CsrfForEveryone(permissions.BasePermission):
    """Anyone may call, but an unsafe request that rides on cookies needs Django's CSRF token,
    signed in or not. A request authenticated by a header (Basic, a token) is left alone,
    as DRF does."""

    def has_permission(self, request, view) -> bool:
        authenticator = request.successful_authenticator
        if authenticator is None or isinstance(authenticator, SessionAuthentication):
            SessionAuthentication().enforce_csrf(request)  # raises PermissionDenied
        return True


def status_url(question: Question) -> str:
    return reverse("oscar_gpt:api-qa-question", kwargs={"public_id": question.public_id})


def payload(question: Question) -> dict:
    return service.status_payload(question) | {"status_url": status_url(question)}


def public_question(public_id) -> Question:
    question = get_object_or_404(Question.objects.select_related("product"), public_id=public_id)
    if not question.product.is_public:
        raise NotFound
    return question


def _session_key(request) -> str:
    """The shopper's session, started for an anonymous shopper so their questions stay theirs."""
    session = request.session
    if not session.session_key and not request.user.is_authenticated:
        session.save()
    return session.session_key or ""


class AskView(APIView):
    permission_classes = [permissions.AllowAny, CsrfForEveryone]
    throttle_classes = QA_THROTTLES

    @extend_schema(
        tags=TAGS,
        summary="Ask a question about a product",
        description=(
            "Stores the question (scrubbed of personal data) and starts answering it: 202, "
            "then follow `status_url` until `done`. The same question already answered on "
            "this product is answered at once: 200."
        ),
        request=s.QuestionAskSerializer,
        responses={
            200: OpenApiResponse(s.QuestionStatusSerializer, description="Answered at once."),
            202: OpenApiResponse(s.QuestionStatusSerializer, description="Being answered."),
            400: OpenApiResponse(
                s.QuestionAskErrorSerializer,
                description="Empty or too long question, unknown product, no valid e-mail "
                "for notify.",
            ),
            403: CSRF_FAILED,
            429: THROTTLED,
        },
    )
    def post(self, request):
        body = s.QuestionAskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            question = service.ask(
                data["product"],
                data["question"],
                user=request.user,
                session_key=_session_key(request),
                email=data["email"],
                notify=data["notify"],
                language=getattr(request, "LANGUAGE_CODE", None),
            )
        except service.QuestionError as exc:
            # Returned, not raised: DRF rolls back ATOMIC_REQUESTS on an exception, and with
            # it the session just started, which SessionMiddleware would then fail to save.
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        answered = question.done
        return Response(
            payload(question),
            status=status.HTTP_200_OK if answered else status.HTTP_202_ACCEPTED,
            headers={} if answered else {"Location": status_url(question)},
        )


class QuestionView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="Follow a question",
        responses={200: s.QuestionStatusSerializer, 404: NOT_FOUND},
    )
    def get(self, request, public_id):
        return Response(payload(public_question(public_id)))


class ReportView(APIView):
    permission_classes = [permissions.AllowAny, CsrfForEveryone]
    throttle_classes = REPORT_THROTTLES

    @extend_schema(
        tags=TAGS,
        summary="Report an answer as wrong or unhelpful",
        description="Staff see it in their queue; the answer is not reused until they have.",
        request=s.QuestionReportSerializer,
        responses={
            200: s.ReportedSerializer,
            400: OpenApiResponse(
                s.QuestionReportErrorSerializer,
                description="The question has no answer to report, or the reason is invalid.",
            ),
            403: CSRF_FAILED,
            404: NOT_FOUND,
            429: THROTTLED,
        },
    )
    def post(self, request, public_id):
        question = public_question(public_id)
        body = s.QuestionReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if question.status != Question.Status.ANSWERED:
            raise ValidationError({"detail": _("Only an answer can be reported.")})
        service.report(question, body.validated_data["reason"])
        return Response({"reported": True, "message": _("Thank you. Our team will look at it.")})


class FaqPages(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema(
    tags=TAGS,
    summary="A product's published questions and answers",
    responses={
        200: s.FaqEntrySerializer(many=True),
        404: OpenApiResponse(s.DetailSerializer, description="No such product in this shop."),
    },
)
class FaqView(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = s.FaqEntrySerializer
    pagination_class = FaqPages
    queryset = Question.objects.none()  # for the schema; the list is the service's

    def get_queryset(self):
        product = get_object_or_404(Product, pk=self.kwargs["product_id"], is_public=True)
        return service.faq(product)
