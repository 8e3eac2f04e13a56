"""What a shopper reads beside a recommendation: the reason comes from the model that
contributed most, and names the product (or category) it came from."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: Reason code -> sentence; ``%(item)s`` is the product it came from, ``%(category)s`` the
#: category of a popular product.
REASONS = {
    "viewed": _("Because you viewed %(item)s"),
    "basket": _("Goes with %(item)s in your basket"),
    "bought": _("Because you bought %(item)s"),
    "bought_with": _("Often bought with %(item)s"),
    "viewed_with": _("Often viewed with %(item)s"),
    "liked_with": _("Liked by shoppers who liked %(item)s"),
    "similar": _("Similar to %(item)s"),
    "picked": _("Recommended with %(item)s"),
    "popular": _("Popular in %(category)s"),
}
#: When the product a reason names is gone, or a popular product has no category.
FALLBACK = _("Popular right now")
#: Reasons that name a category, not a product.
CATEGORY_REASONS = {"popular"}
#: Reasons of the behaviour models that a shopper's own list words by what they did.
BEHAVIOUR_REASONS = {"bought_with", "viewed_with", "liked_with", "picked"}


def reason_text(reason: str, item: str = "", category: str = "") -> str:
    template = REASONS.get(reason)
    if template is None:
        return str(FALLBACK)
    if reason in CATEGORY_REASONS:
        return str(template % {"category": category}) if category else str(FALLBACK)
    return str(template % {"item": item}) if item else str(FALLBACK)
