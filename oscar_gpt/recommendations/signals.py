"""Keep recommendations fresh: a shopper's product view, basket line or order queues an
incremental update (once per ``RECOMMENDATIONS_UPDATE_DELAY_S``: the events in between are
read together); a merchant's rule or a hand-picked recommendation rewrites the lists it
touches; a new product is picked up by the next update. Saving or deleting a product, stock
record or product image makes the storefront's cached recommendation rows stale.

Oscar's signals are reached through ``get_class``, so forked apps keep working. A broker that
is down costs freshness, not correctness: the periodic rebuild reads every event anyway.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from oscar.core.loading import get_class, get_model

from ..app_settings import app_settings
from ..models import RecommendationRule

logger = logging.getLogger(__name__)

#: Set while an update is queued: events until it runs need no task of their own.
QUEUED_KEY = "oscar_gpt:recs:update-queued"

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
ProductRecommendation = get_model("catalogue", "ProductRecommendation")
StockRecord = get_model("partner", "StockRecord")


def _send(task, *args, **options) -> None:
    try:
        task.apply_async(args, **options)
    except Exception:  # noqa: BLE001 - the broker is down: the periodic rebuild catches up
        logger.warning("Could not queue %s", task.name)


def schedule_update() -> None:
    """Queue one incremental update, a moment after the current transaction commits."""
    delay = app_settings.RECOMMENDATIONS_UPDATE_DELAY_S
    if not cache.add(QUEUED_KEY, 1, timeout=max(delay, 1)):
        return

    def enqueue():
        from ..tasks import update_recommendations

        _send(update_recommendations, countdown=delay)

    transaction.on_commit(enqueue)


def schedule_refresh(product_ids: list[int]) -> None:
    """Rewrite the lists of ``product_ids`` after the current transaction commits."""

    def enqueue():
        from ..tasks import update_recommendations

        _send(update_recommendations, product_ids)

    transaction.on_commit(enqueue)


def schedule_rebuild() -> None:
    def enqueue():
        from ..tasks import rebuild_recommendations

        _send(rebuild_recommendations)

    transaction.on_commit(enqueue)


def _product_viewed(sender, user=None, **kwargs):
    # An anonymous shopper's views live in Oscar's cookie, read by the storefront tag.
    if not kwargs.get("raw") and user is not None and getattr(user, "is_authenticated", False):
        schedule_update()


def _basket_addition(sender, **kwargs):
    if not kwargs.get("raw"):  # an anonymous basket is a shopper of its own
        schedule_update()


def _order_placed(sender, order=None, **kwargs):
    if not kwargs.get("raw"):
        schedule_update()


def _product_saved(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw:
        schedule_update()  # a new product gets content neighbours once its vector is there


def _catalogue_changed(sender, using=None, **kwargs):
    """What a cached recommendation row shows (title, price, image, being public) may have
    changed: bump the rows' version now, and again when the change commits (a row rendered
    in between, from the old data, is stored under a version no one asks for again)."""
    from .service import bump_row_version

    bump_row_version()
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(bump_row_version, using=using)


def _hand_picked_changed(sender, instance, **kwargs):
    schedule_refresh([instance.primary_id])


def _rule_changed(sender, instance, **kwargs):
    if instance.product_id:
        schedule_refresh([instance.product_id])
    else:
        schedule_rebuild()  # a shop-wide rule changes every list


def _customer_deleted(sender, instance, **kwargs):
    from .service import forget_shopper

    forget_shopper(instance)


def connect() -> None:
    product_viewed = get_class("catalogue.signals", "product_viewed")
    basket_addition = get_class("basket.signals", "basket_addition")
    order_placed = get_class("order.signals", "order_placed")
    product_viewed.connect(_product_viewed, dispatch_uid="oscar_gpt_recs_view")
    basket_addition.connect(_basket_addition, dispatch_uid="oscar_gpt_recs_basket")
    order_placed.connect(_order_placed, dispatch_uid="oscar_gpt_recs_order")
    post_save.connect(_product_saved, sender=Product, dispatch_uid="oscar_gpt_recs_product")
    for signal in (post_save, post_delete):
        for model in (Product, StockRecord, ProductImage):
            signal.connect(
                _catalogue_changed,
                sender=model,
                dispatch_uid=f"oscar_gpt_recs_row_{model._meta.label_lower}_{signal is post_save}",
            )
        signal.connect(
            _hand_picked_changed,
            sender=ProductRecommendation,
            dispatch_uid=f"oscar_gpt_recs_picked_{signal is post_save}",
        )
        signal.connect(
            _rule_changed,
            sender=RecommendationRule,
            dispatch_uid=f"oscar_gpt_recs_rule_{signal is post_save}",
        )
    pre_delete.connect(
        _customer_deleted,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="oscar_gpt_recs_customer",
    )
