"""``{% gpt_recommendations %}``: precomputed recommendations, each with its reason.

On a product page::

    {% load oscar_gpt_recommendations %}
    {% gpt_recommendations product=product user=request.user limit=4 as recs %}
    {% include "oscar_gpt/recommendations/row.html" with recommendations=recs %}

On the basket page, ``basket=request.basket`` ("Often bought with" what is in it); anywhere
else, neither (the shopper's own list). An anonymous shopper's recently viewed products
(Oscar's cookie) stand in for a history. The tag reads stored lists (two indexed queries);
it never computes recommendations.

It returns a :class:`~oscar_gpt.recommendations.service.RecommendationRow`: the chosen
products, loaded only when the row is iterated. ``row.html`` caches its HTML under the row's
``cache_key`` (``RECOMMENDATIONS_ROW_CACHE_SECONDS``), so a cached row costs the list query
and a cache lookup, no product query and no rendering.
"""

from django import template
from oscar.core.loading import get_class

from ..recommendations import service

register = template.Library()

CustomerHistoryManager = get_class("customer.history", "CustomerHistoryManager")


@register.simple_tag(takes_context=True)
def gpt_recommendations(context, product=None, user=None, basket=None, limit=4):
    request = context.get("request")
    if user is None:
        user = getattr(request, "user", None) or context.get("user")
    viewed = CustomerHistoryManager.extract(request) if request is not None else []
    basket_products = []
    if basket is not None and getattr(basket, "id", None):
        basket_products = [line.product for line in basket.all_lines() if line.product_id]
    # The lazy row: a cached row never loads its products.
    return service.recommendations_for(
        product=product,
        user=user,
        basket_products=basket_products,
        viewed=viewed,
        limit=int(limit),
        lazy=True,
    )
