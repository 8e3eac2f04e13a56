"""What a product says about itself, read the Oscar way, as facts a prompt and the claims
check share. No prices or stock: they change, and copy must not go stale."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from ..grounding import Fact

Product = get_model("catalogue", "Product")
ProductReview = get_model("reviews", "ProductReview")

#: "Battery life (hours)" -> ("Battery life", "hours")
_UNIT_IN_NAME = re.compile(r"^(?P<name>[^()]{1,200}?)\s*\((?P<unit>[^()]{1,20})\)\s*$")


def split_unit(attribute_name: str) -> tuple[str, str]:
    """Oscar attributes have no unit field; shops put it in the name, in brackets."""
    match = _UNIT_IN_NAME.match(attribute_name)
    if match:
        return match["name"].strip(), match["unit"].strip()
    return attribute_name.strip(), ""


@dataclass
class AttributeFact:
    code: str
    name: str
    type: str
    value: Any
    unit: str = ""

    @property
    def text(self) -> str:
        value = self.value
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, float | Decimal):
            value = f"{value:g}"
        elif isinstance(value, date | datetime):
            value = value.isoformat()
        return f"{self.name}: {value}{' ' + self.unit if self.unit else ''}"


@dataclass
class ProductFacts:
    """Everything the copy may state about one product."""

    product_id: int
    title: str
    product_class: str
    categories: list[str] = field(default_factory=list)
    attributes: list[AttributeFact] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    description: str = ""
    reviews: list[str] = field(default_factory=list)

    def missing(self) -> list[str]:
        """What is missing for a grounded description; empty when there is enough."""
        missing = []
        if not self.title:
            missing.append(str(_("a title")))
        if not self.attributes and not self.variants and len(self.description.split()) < 12:
            missing.append(str(_("attributes (or an existing description to work from)")))
        return missing

    def grounding_facts(self) -> list[Fact]:
        facts = [Fact(name="Title", value=self.title, source="title")]
        if self.product_class:
            facts.append(Fact(name="Product class", value=self.product_class, source="class"))
        facts += [Fact(name="Category", value=c, source="category") for c in self.categories]
        for attribute in self.attributes:
            value = attribute.value
            if isinstance(value, Decimal):
                value = float(value)
            facts.append(Fact(name=attribute.name, value=value, unit=attribute.unit))
        facts += [Fact(name="Option", value=o, source="option") for o in self.options]
        facts += [Fact(name="Variant", value=v, source="variant") for v in self.variants]
        if self.description:
            facts.append(Fact(name="Description", value=self.description, source="description"))
        facts += [Fact(name="Review", value=r, source="review") for r in self.reviews]
        return facts

    def as_prompt_lines(self) -> list[str]:
        lines = [f"Title: {self.title}"]
        if self.product_class:
            lines.append(f"Product type: {self.product_class}")
        lines += [f"Category: {c}" for c in self.categories]
        lines += [a.text for a in self.attributes]
        if self.options:
            lines.append(f"Options a shopper chooses: {', '.join(self.options)}")
        lines += [f"Available variant: {v}" for v in self.variants]
        return lines


def _value(attribute_value) -> Any:
    attribute = attribute_value.attribute
    if attribute.type == attribute.OPTION:
        return str(attribute_value.value_option) if attribute_value.value_option else ""
    if attribute.type == attribute.MULTI_OPTION:
        # In the options' own order: the relation has none, and the database may return
        # them either way, which would change a product's text (and its embedding's
        # fingerprint) from one read to the next.
        options = sorted(attribute_value.value_multi_option.all(), key=lambda option: option.pk)
        return [str(option) for option in options]
    if attribute.type == attribute.RICHTEXT:
        return strip_tags(attribute_value.value_richtext or "").strip()
    if attribute.type in (attribute.ENTITY, attribute.FILE, attribute.IMAGE):
        return None
    return attribute_value.value


def attribute_facts(product) -> list[AttributeFact]:
    values = product.get_attribute_values()
    if not hasattr(product, "_prefetched_attribute_values"):  # else: a list, no query
        values = values.select_related("attribute", "value_option")
    return facts_from_rows(
        (value.attribute.code, value.attribute.name, value.attribute.type, _value(value))
        for value in values
    )


def facts_from_rows(rows) -> list[AttributeFact]:
    """Facts of ``(code, attribute name, type, value)`` rows; empty values say nothing."""
    facts = []
    for code, attribute_name, kind, value in rows:
        if value in (None, "", []):
            continue
        name, unit = split_unit(attribute_name)
        facts.append(AttributeFact(code, name, kind, value, unit))
    return facts


def product_facts(product, *, include_reviews: bool = False, max_reviews: int = 3) -> ProductFacts:
    """Read a product (parent or standalone) into :class:`ProductFacts`."""
    categories = [
        " > ".join(c.name for c in category.get_ancestors_and_self())
        for category in product.get_categories().all()
    ]
    variants = []
    if product.is_parent:
        for child in product.children.all():
            child_attributes = [a.text for a in attribute_facts(child)]
            variants.append(
                f"{child.get_title()}"
                + (f" ({'; '.join(child_attributes)})" if child_attributes else "")
            )
    reviews = []
    if include_reviews:
        approved = product.reviews.filter(status=ProductReview.APPROVED).order_by(
            "-total_votes", "-date_created"
        )[:max_reviews]
        reviews = [f"{r.title}. {r.body}" for r in approved]
    options = [o.name for o in product.get_product_class().options.all()]
    options += [o.name for o in product.product_options.all() if o.name not in options]
    return ProductFacts(
        product_id=product.pk,
        title=product.get_title(),
        product_class=product.get_product_class().name if product.get_product_class() else "",
        categories=categories,
        attributes=attribute_facts(product),
        options=options,
        variants=variants,
        description=html.unescape(strip_tags(product.description or "")).strip(),
        reviews=reviews,
    )
