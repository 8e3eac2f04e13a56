"""``{% oscar_gpt_finder_box %}``: a search box where shoppers describe what they want.

Drop it anywhere, e.g. beside Oscar's search in ``oscar/partials/search.html``::

    {% load oscar_gpt_finder %}
    {% oscar_gpt_finder_box %}

It is a plain GET form to the finder page (``oscar_gpt:finder``); a shop restyles it by
overriding ``oscar_gpt/finder/box.html``.
"""

from django import template
from django.template.loader import get_template
from django.urls import reverse

from ..app_settings import app_settings

register = template.Library()


@register.simple_tag(takes_context=True)
def oscar_gpt_finder_box(context, query: str = "", compact: bool = False):
    request = context.get("request")
    return get_template("oscar_gpt/finder/box.html").render(
        {
            "action": reverse("oscar_gpt:finder"),
            "query": query,
            "compact": compact,
            "max_length": app_settings.FINDER_MAX_QUERY_LENGTH,
        },
        request,
    )
