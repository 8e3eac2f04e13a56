"""Keep each product's Q&A evidence fresh: a change to the product, one of its attribute
values or reviews, or its FAQ queues a re-embedding task (once per product and
transaction). The next question rebuilds stale evidence itself anyway (the evidence's
fingerprint says so), so a broker that is down costs time, not correctness."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from oscar.core.loading import get_model

from ..app_settings import app_settings

logger = logging.getLogger(__name__)

#: Seconds between a change and the re-embedding; changes within it are read together.
REFRESH_DELAY_S = 2

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductReview = get_model("reviews", "ProductReview")


def schedule_refresh(product_id: int | None) -> None:
    """Re-embed ``product_id``'s evidence after the current transaction commits."""
    if not product_id or not app_settings.QA_REFRESH_IN_BACKGROUND:
        return
    connection = transaction.get_connection()
    pending = connection.__dict__.setdefault("_oscar_gpt_refresh", set())
    if product_id in pending:
        return
    pending.add(product_id)

    def enqueue():
        pending.discard(product_id)
        from ..tasks import refresh_evidence

        try:
            # A moment later: Oscar saves a product's attribute values in bulk (no
            # signals) right after the product itself, outside a transaction in scripts.
            refresh_evidence.apply_async((product_id,), countdown=REFRESH_DELAY_S)
        except Exception:  # noqa: BLE001 - the broker is down: the next question rebuilds
            logger.warning("Could not queue the evidence refresh of product %s", product_id)

    transaction.on_commit(enqueue)


def _product_changed(sender, instance, **kwargs):
    schedule_refresh(instance.pk)
    if instance.parent_id:
        schedule_refresh(instance.parent_id)


def _attribute_changed(sender, instance, **kwargs):
    schedule_refresh(instance.product_id)


def _review_changed(sender, instance, **kwargs):
    schedule_refresh(instance.product_id)


def _customer_deleted(sender, instance, **kwargs):
    from .service import anonymise_customer

    anonymise_customer(instance)


def connect() -> None:
    post_save.connect(_product_changed, sender=Product, dispatch_uid="oscar_gpt_qa_product")
    for signal in (post_save, post_delete):
        signal.connect(
            _attribute_changed, sender=ProductAttributeValue, dispatch_uid="oscar_gpt_qa_attr"
        )
        signal.connect(_review_changed, sender=ProductReview, dispatch_uid="oscar_gpt_qa_review")
    pre_delete.connect(
        _customer_deleted, sender=settings.AUTH_USER_MODEL, dispatch_uid="oscar_gpt_qa_customer"
    )
