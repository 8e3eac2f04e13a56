"""Load the demo shop (:mod:`sandbox.demo.catalogue`) into the database, idempotently.

Everything is keyed on a natural key (UPC, slug, email, username, review code, order
number), so running :func:`load_demo_shop` again updates what is there and creates nothing
twice. Oscar's models and classes are only reached through ``get_model``/``get_class``, so a
project that forks an Oscar app gets its own classes.

Call it inside a transaction (the management command ``oscar_gpt_demo_data`` does).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import F
from django.utils import timezone
from haystack import connections
from haystack.exceptions import NotHandled
from oscar.core.loading import get_class, get_model

from . import catalogue as data

DEMO_STAFF_EMAIL = "staff@example.com"
DEMO_STAFF_USERNAME = "staff"
DEMO_STAFF_PASSWORD = "oscar-gpt-demo"
DEMO_SHOPPER_PASSWORD = data.SHOPPER_PASSWORD

AttributeOption = get_model("catalogue", "AttributeOption")
AttributeOptionGroup = get_model("catalogue", "AttributeOptionGroup")
Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductClass = get_model("catalogue", "ProductClass")
ProductReview = get_model("reviews", "ProductReview")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Country = get_model("address", "Country")
UserAddress = get_model("address", "UserAddress")
Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")
ProductRecord = get_model("analytics", "ProductRecord")
UserRecord = get_model("analytics", "UserRecord")
UserProductView = get_model("analytics", "UserProductView")

create_from_breadcrumbs = get_class("catalogue.categories", "create_from_breadcrumbs")
Selector = get_class("partner.strategy", "Selector")
Repository = get_class("shipping.repository", "Repository")
OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
SurchargeApplicator = get_class("checkout.applicator", "SurchargeApplicator")

REVIEW_STATUS = {
    data.APPROVED: ProductReview.APPROVED,
    data.PENDING: ProductReview.FOR_MODERATION,
    data.REJECTED: ProductReview.REJECTED,
}


class _Writer:
    """Progress lines to a management command's stdout (or nowhere)."""

    def __init__(self, stdout):
        self.stdout = stdout

    def __call__(self, message):
        if self.stdout is not None:
            self.stdout.write(message)


def load_demo_shop(stdout=None) -> dict:
    """Create or update the demo shop; return counts of what the demo holds."""
    with _realtime_indexing_paused():
        return _load(_Writer(stdout))


@contextmanager
def _realtime_indexing_paused():
    """Don't index each product as it's saved (a Whoosh commit apiece, before its categories,
    stock and reviews exist); :func:`index_demo_products` indexes them all once, afterwards."""
    processor = apps.get_app_config("haystack").signal_processor
    processor.teardown()
    try:
        yield
    finally:
        processor.setup()


def _load(say):
    country = _load_country()
    partner, _ = Partner.objects.get_or_create(name=data.PARTNER_NAME)
    classes = _load_product_classes()
    say(f"Product classes: {len(classes)}")
    products, category_paths = _load_products(classes, partner)
    say(f"Products: {len(products)} in {len(category_paths)} categories")
    _load_staff()
    shoppers = _load_shoppers(country)
    say(f"Shoppers: {len(shoppers)}")
    _load_reviews(products, shoppers)
    _load_activity(products, shoppers, country)
    return _summary(products, classes, category_paths, shoppers)


def index_demo_products() -> int:
    """Write the demo's browsable products to the search index; return how many.

    Call it after the load has committed: :func:`load_demo_shop` pauses Haystack's
    realtime indexing, and a search index can't be rolled back with the database.
    """
    try:
        index = connections["default"].get_unified_index().get_index(Product)
    except NotHandled:  # products are not searchable in this project
        return 0
    backend = index.get_backend()
    if backend is None:
        return 0
    products = list(index.index_queryset().filter(upc__in=list(_demo_upcs())))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="update is not implemented in this backend")
        backend.update(index, products)
    return len(products)


def _demo_upcs():
    for specs in data.PRODUCTS_BY_CLASS.values():
        for spec in specs:
            yield spec["upc"]
            for child in spec.get("children", []):
                yield child["upc"]


# --- Catalogue -------------------------------------------------------------------------------


def _load_country():
    values = dict(data.SHIPPING_COUNTRY)
    code = values.pop("iso_3166_1_a2")
    country, _ = Country.objects.update_or_create(
        iso_3166_1_a2=code, defaults={**values, "is_shipping_country": True}
    )
    return country


def _load_product_classes():
    """Return {class slug: (ProductClass, {code: ProductAttribute}, {code: {text: option}})}."""
    valid_types = {choice for choice, _label in ProductAttribute.TYPE_CHOICES}
    classes = {}
    for spec in data.PRODUCT_CLASSES:
        product_class, _ = ProductClass.objects.update_or_create(
            slug=spec["slug"],
            defaults={"name": spec["name"], "requires_shipping": True, "track_stock": True},
        )
        attributes, options = {}, {}
        for attr_spec in spec["attributes"]:
            if attr_spec["type"] not in valid_types:
                raise ValueError(f"Unknown attribute type {attr_spec['type']!r}")
            group = None
            if "options" in attr_spec:
                group, options[attr_spec["code"]] = _option_group(spec, attr_spec)
            attribute, _ = ProductAttribute.objects.update_or_create(
                product_class=product_class,
                code=attr_spec["code"],
                defaults={
                    "name": attr_spec["name"],
                    "type": attr_spec["type"],
                    "option_group": group,
                    "required": False,
                },
            )
            attributes[attribute.code] = attribute
        classes[spec["slug"]] = (product_class, attributes, options)
    return classes


def _option_group(class_spec, attr_spec):
    group, _ = AttributeOptionGroup.objects.update_or_create(
        code=f"demo-{class_spec['slug']}-{attr_spec['code']}",
        defaults={"name": f"{attr_spec['name']} ({class_spec['name']})"},
    )
    options = {option.option: option for option in group.options.all()}
    for text in attr_spec["options"]:
        if text not in options:
            options[text] = AttributeOption.objects.create(group=group, option=text)
    return group, options


def _load_products(classes, partner):
    """Return ({UPC: Product}, {category paths}) for every demo product, children included."""
    products = {}
    category_paths = set()
    categories = {}
    for class_slug, specs in data.PRODUCTS_BY_CLASS.items():
        product_class, attributes, options = classes[class_slug]
        for spec in specs:
            children = spec.get("children", [])
            product = _save_product(
                spec,
                structure=Product.PARENT if children else Product.STANDALONE,
                product_class=product_class,
            )
            _save_attribute_values(product, spec.get("attributes", {}), attributes, options)
            products[product.upc] = product
            breadcrumbs = spec["category"]
            if breadcrumbs not in categories:
                leaf = create_from_breadcrumbs(breadcrumbs)
                categories[breadcrumbs] = leaf
                category_paths.update(_path_and_ancestor_paths(leaf))
            category = categories[breadcrumbs]
            ProductCategory.objects.get_or_create(product=product, category=category)
            ProductCategory.objects.filter(product=product).exclude(category=category).delete()
            if children:
                StockRecord.objects.filter(product=product).delete()  # parents can't be bought
                for child_spec in children:
                    child = _save_product(child_spec, structure=Product.CHILD, parent=product)
                    _save_attribute_values(
                        child, child_spec.get("attributes", {}), attributes, options
                    )
                    _save_stockrecord(child, child_spec, partner)
                    products[child.upc] = child
            else:
                _save_stockrecord(product, spec, partner)
    return products, category_paths


def _path_and_ancestor_paths(category):
    """The materialised paths of a category and its ancestors (treebeard's MP_Node)."""
    step = category.steplen
    return {category.path[:end] for end in range(step, len(category.path) + 1, step)}


def _save_product(spec, structure, product_class=None, parent=None):
    product, _ = Product.objects.update_or_create(
        upc=spec["upc"],
        defaults={
            "title": spec["title"],
            "description": spec.get("description", ""),
            "structure": structure,
            "product_class": product_class,
            "parent": parent,
            "is_public": True,
        },
    )
    return product


def _save_attribute_values(product, values, attributes, options):
    """Make the product's attribute values exactly ``values``; write only what changed."""
    existing = {value.attribute_id: value for value in product.attribute_values.all()}
    for code, raw_value in values.items():
        attribute = attributes[code]
        if attribute.type == ProductAttribute.OPTION:
            value = options[code][raw_value]
        elif attribute.type == ProductAttribute.MULTI_OPTION:
            value = [options[code][text] for text in raw_value]
        else:
            value = _plain_value(attribute, raw_value)
            attribute.validate_value(value)
        value_obj = existing.pop(attribute.pk, None)
        if value_obj is None:
            value_obj = ProductAttributeValue(product=product, attribute=attribute)
        else:
            value_obj.attribute = attribute  # already loaded: spares a query per value
            if _has_value(value_obj, attribute, value):
                continue
        if attribute.type == ProductAttribute.MULTI_OPTION and value_obj.pk is None:
            value_obj.save()  # a many-to-many value needs a saved row first
        value_obj.value = value
        value_obj.save()
    # Attributes dropped from the data (and thin products) keep no stale values.
    for stale in existing.values():
        stale.delete()


def _plain_value(attribute, raw_value):
    if attribute.type == ProductAttribute.FLOAT:
        return float(raw_value)
    if attribute.type == ProductAttribute.INTEGER:
        return int(raw_value)
    return raw_value


def _has_value(value_obj, attribute, value):
    if attribute.type == ProductAttribute.MULTI_OPTION:
        current = set(value_obj.value_multi_option.values_list("pk", flat=True))
        return current == {option.pk for option in value}
    if attribute.type == ProductAttribute.OPTION:
        return value_obj.value_option_id == value.pk
    return getattr(value_obj, value_obj.value_field_name) == value


def _save_stockrecord(product, spec, partner):
    StockRecord.objects.update_or_create(
        product=product,
        partner=partner,
        defaults={
            "partner_sku": spec["upc"],
            "price": Decimal(spec["price"]),
            "price_currency": data.CURRENCY,
            "num_in_stock": spec["stock"],
        },
    )


# --- People ----------------------------------------------------------------------------------


def _load_staff():
    user_model = get_user_model()
    staff, created = user_model.objects.get_or_create(
        username=DEMO_STAFF_USERNAME, defaults={"email": DEMO_STAFF_EMAIL}
    )
    staff.email = DEMO_STAFF_EMAIL
    staff.first_name, staff.last_name = "Demo", "Staff"
    staff.is_staff = staff.is_superuser = staff.is_active = True
    if created or not staff.check_password(DEMO_STAFF_PASSWORD):
        staff.set_password(DEMO_STAFF_PASSWORD)
    staff.save()
    return staff


def _load_shoppers(country):
    """Return {username: User} for the demo shoppers, each with a default address."""
    user_model = get_user_model()
    shoppers = {}
    password_hash = None
    for spec in data.SHOPPERS:
        user, created = user_model.objects.update_or_create(
            email=spec["email"],
            defaults={
                "username": spec["username"],
                "first_name": spec["first_name"],
                "last_name": spec["last_name"],
                "is_staff": False,
                "is_superuser": False,
                "is_active": True,
            },
        )
        if created:
            if password_hash is None:  # hashing is slow on purpose: once is enough for a demo
                password_hash = make_password(DEMO_SHOPPER_PASSWORD)
            user.password = password_hash
            user.save(update_fields=["password"])
        UserAddress.objects.update_or_create(
            user=user,
            line1=spec["address"]["line1"],
            defaults={
                **_address_fields(spec, country),
                "is_default_for_shipping": True,
                "is_default_for_billing": True,
            },
        )
        shoppers[spec["username"]] = user
    return shoppers


def _address_fields(spec, country):
    return {
        "first_name": spec["first_name"],
        "last_name": spec["last_name"],
        "country": country,
        **spec["address"],
    }


def _load_reviews(products, shoppers):
    for spec in data.REVIEWS:
        ProductReview.objects.update_or_create(
            code=spec["code"],
            defaults={
                "product": products[spec["upc"]],
                "user": shoppers[spec["user"]],
                "score": spec["score"],
                "title": spec["title"],
                "body": spec["body"],
                "status": REVIEW_STATUS[spec["status"]],
            },
        )


# --- Shopper activity: views, open baskets, orders -------------------------------------------


def _load_activity(products, shoppers, country):
    now = timezone.now()
    for spec in data.SHOPPERS:
        user = shoppers[spec["username"]]
        _load_views(user, [products[upc] for upc in spec["views"]], now)
        if spec["basket"]:
            _load_open_basket(user, [(products[upc], qty) for upc, qty in spec["basket"]])
        for order_spec in spec["orders"]:
            if not Order.objects.filter(number=order_spec["number"]).exists():
                _place_order(user, spec, order_spec, products, country, now)


def _load_views(user, viewed, now):
    for position, product in enumerate(viewed):
        if UserProductView.objects.filter(user=user, product=product).exists():
            continue
        view = UserProductView.objects.create(user=user, product=product)
        # Oldest first, an hour apart, ending a day ago.
        when = now - timedelta(days=1, hours=len(viewed) - position)
        UserProductView.objects.filter(pk=view.pk).update(date_created=when)
        # What oscar.apps.analytics.receivers does for a real product view.
        _increment(ProductRecord, "num_views", product=product)
        _increment(UserRecord, "num_product_views", user=user)


def _increment(model, field, **lookup):
    if not model.objects.filter(**lookup).update(**{field: F(field) + 1}):
        model.objects.create(**lookup, **{field: 1})


def _load_open_basket(user, lines):
    basket = Basket.open.filter(owner=user).order_by("pk").first()
    if basket is None:
        basket = Basket.objects.create(owner=user)
    basket.strategy = Selector().strategy(user=user)
    for product, quantity in lines:
        line = basket.lines.filter(product=product).first()
        if line is None:
            basket.add_product(product, quantity)
        elif line.quantity != quantity:
            line.quantity = quantity
            line.save()


def _place_order(user, shopper_spec, order_spec, products, country, now):
    """Place one order through Oscar's checkout classes, as the checkout view would."""
    basket = Basket.objects.create(owner=user)
    basket.strategy = Selector().strategy(user=user)
    for upc, quantity in order_spec["lines"]:
        basket.add_product(products[upc], quantity)
    shipping_address = ShippingAddress.objects.create(**_address_fields(shopper_spec, country))
    billing_fields = _address_fields(shopper_spec, country)
    billing_fields.pop("phone_number", None)
    billing_address = BillingAddress.objects.create(**billing_fields)
    shipping_method = Repository().get_default_shipping_method(
        basket=basket, shipping_addr=shipping_address
    )
    shipping_charge = shipping_method.calculate(basket)
    surcharges = SurchargeApplicator().get_applicable_surcharges(basket)
    total = OrderTotalCalculator().calculate(basket, shipping_charge, surcharges=surcharges)
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=shipping_method,
        shipping_charge=shipping_charge,
        user=user,
        shipping_address=shipping_address,
        billing_address=billing_address,
        order_number=order_spec["number"],
        status=order_spec["status"],
        surcharges=surcharges,
        date_placed=now - timedelta(days=order_spec["days_ago"]),
    )
    basket.submit()
    return order


# --- Summary ---------------------------------------------------------------------------------


def _summary(products, classes, category_paths, shoppers):
    upcs = list(products)
    demo_products = Product.objects.filter(upc__in=upcs)
    reviews = ProductReview.objects.filter(code__in=[spec["code"] for spec in data.REVIEWS])
    users = list(shoppers.values())
    order_numbers = [order["number"] for spec in data.SHOPPERS for order in spec["orders"]]
    return {
        "products": demo_products.count(),
        "parent_products": demo_products.filter(structure=Product.PARENT).count(),
        "child_products": demo_products.filter(structure=Product.CHILD).count(),
        "product_classes": ProductClass.objects.filter(slug__in=list(classes)).count(),
        "categories": Category.objects.filter(path__in=category_paths).count(),
        "stock_records": StockRecord.objects.filter(product__upc__in=upcs).count(),
        "reviews": reviews.count(),
        "reviews_approved": reviews.filter(status=ProductReview.APPROVED).count(),
        "reviews_unapproved": reviews.exclude(status=ProductReview.APPROVED).count(),
        "shoppers": len(users),
        "orders": Order.objects.filter(number__in=order_numbers).count(),
        "open_basket_lines": sum(
            basket.num_lines for basket in Basket.open.filter(owner__in=users)
        ),
        "views": UserProductView.objects.filter(user__in=users).count(),
    }
