"""``{% oscar_gpt_qa product %}``: the shopper Q&A widget and the product's FAQ.

Drop it into a block of ``oscar/catalogue/detail.html``::

    {% load oscar_gpt_qa %}
    {% block product_review %}{{ block.super }}{% oscar_gpt_qa product %}{% endblock %}

A shop overrides the widget per product class with
``oscar_gpt/qa/widget-for-class-<slug>.html`` (else ``oscar_gpt/qa/widget.html``).
"""

from django import template
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _

from ..app_settings import app_settings
from ..qa import service

register = template.Library()


@register.simple_tag(takes_context=True)
def oscar_gpt_qa(context, product, faq_limit: int = 10):
    product_class = product.get_product_class()
    names = ["oscar_gpt/qa/widget.html"]
    if product_class is not None and product_class.slug:
        names.insert(0, f"oscar_gpt/qa/widget-for-class-{product_class.slug}.html")
    target = product.parent if product.is_child and product.parent_id else product
    widget = select_template(names)
    return widget.render(
        {
            "product": target,
            "faq": list(service.faq(target, limit=faq_limit)),
            "ask_url": reverse("oscar_gpt:qa-ask", kwargs={"product_id": target.pk}),
            "max_length": app_settings.QA_MAX_QUESTION_LENGTH,
            "poll_ms": app_settings.QA_POLL_INTERVAL_MS,
            "strings": {
                "looking": _("Looking through the product's details…"),
                "yourQuestion": _("Your question:"),
                "empty": _("Please write your question."),
                "report": _("Not helpful? Tell us"),
                "failed": _("Sorry, that didn't work. Please try again."),
                "slow": _("This is taking longer than usual."),
                "follow": _("Follow your question here"),
            },
            "request": context.get("request"),
            "user": context.get("user"),
        },
        context.get("request"),
    )
