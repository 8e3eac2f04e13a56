"""The product finder over the REST API: a thin caller of :func:`oscar_gpt.finder.service.find`.

POST rather than GET: the shopper's text may be long and is not meant for access logs.
Anyone may call; a cookie-borne request needs Django's CSRF token, as the Q&A's POSTs do,
and ``OSCAR_GPT["RATE_LIMITS"]["finder_*"]`` answer 429 with ``Retry-After``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..app_settings import app_settings
from ..finder import service
from ..throttling import FINDER_THROTTLES
from .qa_views import CSRF_FAILED, THROTTLED, CsrfForEveryone

TAGS = ["Finder"]


class FinderRequestSerializer(serializers.Serializer):
    #: Checked by the service (empty, too long), so its message is the one a shopper reads.
    text = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("What the shopper is looking for, in their own words."),
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        help_text=_("How many products at most (default: FINDER_RESULTS)."),
    )

    def validate_text(self, value: str) -> str:
        try:
            return service.clean_query(value)
        except service.FinderError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class FinderErrorSerializer(serializers.Serializer):
    """A 400: messages per field."""

    text = serializers.ListField(child=serializers.CharField(), required=False)
    limit = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class ConstraintSerializer(serializers.Serializer):
    attribute = serializers.CharField(
        help_text=_('An attribute code of the shop, "price", "price:min" or "product_class".')
    )
    name = serializers.CharField()
    op = serializers.ChoiceField(
        choices=["is", "in", "not_in", "at_least", "at_most", "high", "low"]
    )
    value = serializers.JSONField(
        allow_null=True, help_text=_("true/false, a list of values, a number, or null.")
    )
    unit = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(
        choices=["text", "model"], help_text=_("Read from the text itself, or by the model.")
    )
    text = serializers.CharField(help_text=_('For the shopper: "Battery life: long".'))


class FoundProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    price = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text=_("Which of the product's attributes agree.")
    )


class FinderResultSerializer(serializers.Serializer):
    query = serializers.CharField(help_text=_("The text as searched, personal data removed."))
    constraints = ConstraintSerializer(many=True)
    fell_back = serializers.BooleanField(
        help_text=_("The model could not be asked; the text was read without it.")
    )
    summary = serializers.CharField(allow_blank=True)
    message = serializers.CharField(
        allow_blank=True, help_text=_("Why nothing was found, when nothing was.")
    )
    results = FoundProductSerializer(many=True)


class FinderView(APIView):
    permission_classes = [permissions.AllowAny, CsrfForEveryone]
    throttle_classes = FINDER_THROTTLES

    @extend_schema(
        tags=TAGS,
        summary="Find products from a description",
        description=(
            "Reads the description into constraints on the shop's real attributes and a "
            "price, searches by meaning, and returns browsable products available to buy, "
            "best first, each with the reasons it matched. Text that names nothing the shop "
            "has may find nothing: `results` is empty and `message` says so."
        ),
        request=FinderRequestSerializer,
        responses={
            200: FinderResultSerializer,
            400: OpenApiResponse(
                FinderErrorSerializer,
                description="Empty text, longer than FINDER_MAX_QUERY_LENGTH, or a bad limit.",
            ),
            403: CSRF_FAILED,
            429: THROTTLED,
        },
        examples=[
            OpenApiExample(
                "Headphones",
                request_only=True,
                value={
                    "text": "I am looking for a wireless headphone with noise cancellation "
                    "and a long battery life."
                },
            )
        ],
    )
    def post(self, request):
        body = FinderRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = service.find(
            data["text"],
            user=request.user,
            limit=data.get("limit") or app_settings.FINDER_RESULTS,
            request=request,
        )
        return Response(result.as_dict(), status=status.HTTP_200_OK)
