"""Recommendations over the REST API: a product's, and a shopper's own.

Thin callers of :func:`oscar_gpt.recommendations.service.recommendations_for`: they read the
precomputed lists, as the storefront tag does, and say why each product is there. An
anonymous caller's recently viewed products (Oscar's cookie) personalise a product's list
as they do on the product page. Rate limits: ``OSCAR_GPT["RATE_LIMITS"]["recs_ip"]`` etc.
(unlimited unless set).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from oscar.core.loading import get_class, get_model
from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from ..recommendations import service
from ..throttling import throttles_for

Product = get_model("catalogue", "Product")
CustomerHistoryManager = get_class("customer.history", "CustomerHistoryManager")

TAGS = ["Recommendations"]
RECS_THROTTLES = throttles_for("recs")
#: Most recommendations one request may ask for.
MAX_LIMIT = 50


class RecommendedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    product = RecommendedProductSerializer()
    reason = serializers.ChoiceField(
        choices=[
            "viewed",
            "basket",
            "bought",
            "bought_with",
            "viewed_with",
            "liked_with",
            "similar",
            "picked",
            "popular",
        ],
        help_text="Which model put the product here.",
    )
    text = serializers.CharField(help_text='What a shopper reads: "Often bought with X".')
    via = RecommendedProductSerializer(
        allow_null=True, help_text="The product the reason names (null: a popular product)."
    )
    category = serializers.CharField(allow_blank=True, help_text="For popular products.")
    sentence = serializers.CharField(
        allow_blank=True, help_text="The optional model-written sentence (off by default)."
    )


class RecommendationListSerializer(serializers.Serializer):
    results = RecommendationSerializer(many=True)


class LimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10)


LIMIT = OpenApiParameter("limit", int, description=f"How many (1-{MAX_LIMIT}; default 10).")


def _product(product) -> dict | None:
    if product is None:
        return None
    return {"id": product.pk, "title": product.get_title(), "url": product.get_absolute_url()}


def payload(recommendations) -> dict:
    return {
        "results": [
            {
                "product": _product(r.product),
                "reason": r.reason,
                "text": r.text,
                "via": _product(r.via),
                "category": r.label,
                "sentence": r.sentence,
            }
            for r in recommendations
        ]
    }


def _limit(request) -> int:
    limit = LimitSerializer(data=request.query_params)
    limit.is_valid(raise_exception=True)
    return limit.validated_data["limit"]


class ProductRecommendationsView(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = RECS_THROTTLES

    @extend_schema(
        tags=TAGS,
        summary="A product's recommendations",
        description=(
            "What the product page recommends: Oscar's hand-picked products and the "
            "merchant's pins first, then what the models found, each with its reason. "
            "Personalised for a signed-in shopper (nothing they bought) or by an anonymous "
            "shopper's recently viewed products."
        ),
        parameters=[LIMIT],
        responses={
            200: RecommendationListSerializer,
            404: OpenApiResponse(description="No such product, or it is not browsable."),
        },
    )
    def get(self, request, product_id: int):
        product = get_object_or_404(Product.objects.browsable(), pk=product_id)
        recommendations = service.recommendations_for(
            product=product,
            user=request.user,
            viewed=CustomerHistoryManager.extract(request),
            limit=_limit(request),
        )
        return Response(payload(recommendations))


class ShopperRecommendationsView(APIView):
    """A shopper's own list: the signed-in shopper's (``me``), or any shopper's for staff."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = RECS_THROTTLES

    @extend_schema(
        tags=TAGS,
        summary="A shopper's recommendations",
        description=(
            'The shopper\'s own list ("Because you viewed X"), or what is popular for a '
            "shopper with no history yet. Shoppers may read their own (`/me/`); staff anyone's."
        ),
        parameters=[LIMIT],
        responses={
            200: RecommendationListSerializer,
            403: OpenApiResponse(description="Not signed in, or another shopper's list."),
            404: OpenApiResponse(description="No such shopper."),
        },
    )
    def get(self, request, user_id: int | None = None):
        user = request.user
        if user_id is not None and user_id != user.pk:
            if not user.is_staff:
                raise PermissionDenied
            user = get_object_or_404(get_user_model(), pk=user_id)
        viewed = CustomerHistoryManager.extract(request) if user == request.user else []
        recommendations = service.recommendations_for(
            user=user, viewed=viewed, limit=_limit(request)
        )
        return Response(payload(recommendations))
