"""The sandbox's demo shop: ``manage.py oscar_gpt_demo_data`` loads it, twice without change."""

import io
import re
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.utils.html import escape
from haystack import connections
from oscar.core.loading import get_model

from sandbox.demo import catalogue
from sandbox.demo.loader import (
    DEMO_STAFF_EMAIL,
    DEMO_STAFF_PASSWORD,
    DEMO_STAFF_USERNAME,
    index_demo_products,
)

Basket = get_model("basket", "Basket")
Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductClass = get_model("catalogue", "ProductClass")
ProductReview = get_model("reviews", "ProductReview")
StockRecord = get_model("partner", "StockRecord")
Partner = get_model("partner", "Partner")
Country = get_model("address", "Country")
Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
UserProductView = get_model("analytics", "UserProductView")

pytestmark = pytest.mark.django_db

SUMMARY_LINE = re.compile(r"^  ([a-z ]+?) {2,}(\d+)$")
# Every table the loader writes to: a second run must not add a row to any of them.
COUNTED_MODELS = [
    Product,
    ProductClass,
    ProductAttribute,
    ProductAttributeValue,
    Category,
    StockRecord,
    Partner,
    Country,
    ProductReview,
    Order,
    OrderLine,
    Basket,
    get_model("basket", "Line"),
    UserProductView,
    get_model("address", "UserAddress"),
    get_model("order", "ShippingAddress"),
    get_model("catalogue", "AttributeOption"),
    get_user_model(),
]


@dataclass
class DemoRuns:
    outputs: list
    summaries: list
    table_counts: list


def _table_counts():
    return {model._meta.label: model.objects.count() for model in COUNTED_MODELS}


def _summary(output):
    summary = {}
    for line in output.splitlines():
        match = SUMMARY_LINE.match(line)
        if match:
            summary[match.group(1).replace(" ", "_")] = int(match.group(2))
    return summary


@contextmanager
def _search_index_in(path):
    """Point Haystack at an index in ``path`` (the realtime processor writes on each save)."""
    previous = connections.connections_info
    info = {"default": {**settings.HAYSTACK_CONNECTIONS["default"], "PATH": str(path)}}
    with override_settings(HAYSTACK_CONNECTIONS=info):
        connections.connections_info = info
        connections.reload("default")
        try:
            yield
        finally:
            connections.connections_info = previous
            connections.reload("default")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Run the command twice, once for the whole module, and roll it all back at the end.

    The tests' own ``django_db`` transactions nest inside this one (as savepoints), the way
    Django's ``TestCase.setUpTestData`` works. The products are indexed into an index of
    this module's own, never into the sandbox's.
    """
    # A cheap hasher: the loader hashes the staff and shopper passwords.
    fast_hashers = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    index = _search_index_in(tmp_path_factory.mktemp("demo_search_index"))
    with django_db_blocker.unblock(), fast_hashers, index, transaction.atomic():
        runs = DemoRuns(outputs=[], summaries=[], table_counts=[])
        for _ in range(2):
            out = io.StringIO()
            call_command("oscar_gpt_demo_data", stdout=out)
            runs.outputs.append(out.getvalue())
            runs.summaries.append(_summary(out.getvalue()))
            runs.table_counts.append(_table_counts())
        yield runs
        transaction.set_rollback(True)


def test_second_run_changes_no_counts(demo):
    first, second = demo.summaries
    assert first == second
    assert demo.table_counts[0] == demo.table_counts[1]
    # The printed summary is what is in the database.
    assert second["products"] == Product.objects.filter(upc__startswith="OGD-").count()
    assert second["orders"] == Order.objects.count()
    assert second["views"] == UserProductView.objects.count()


def test_summary_meets_the_minimums(demo):
    summary = demo.summaries[-1]
    assert summary["products"] >= 60
    assert summary["product_classes"] >= 5
    assert summary["categories"] >= 5
    assert summary["shoppers"] >= 5
    assert summary["orders"] >= 1
    assert summary["views"] >= 1
    assert summary["reviews_approved"] >= 1
    assert summary["reviews_unapproved"] >= 1
    assert summary["parent_products"] >= 1
    assert summary["child_products"] >= 1


def test_command_prints_the_staff_login(demo):
    assert DEMO_STAFF_EMAIL in demo.outputs[-1]
    assert DEMO_STAFF_PASSWORD in demo.outputs[-1]


def test_required_product_classes_exist(demo):
    names = set(ProductClass.objects.values_list("name", flat=True))
    assert {"Headphones", "Laptops", "Running shoes", "Coffee machines", "Books"} <= names


def test_every_buyable_product_has_stock_in_gbp(demo):
    buyable = Product.objects.exclude(structure=Product.PARENT)
    assert buyable.count() >= 60
    without_stock = buyable.exclude(stockrecords__num_in_stock__gt=0)
    assert list(without_stock.values_list("upc", flat=True)) == []
    assert not StockRecord.objects.exclude(price_currency="GBP").exists()
    assert set(StockRecord.objects.values_list("partner__name", flat=True)) == {
        "Oscar GPT Demo Warehouse"
    }
    # Parents are not bought themselves, and every child belongs to one.
    assert not StockRecord.objects.filter(product__structure=Product.PARENT).exists()
    assert not Product.objects.filter(structure=Product.CHILD, parent__isnull=True).exists()


def test_every_product_is_categorised(demo):
    uncategorised = Product.objects.exclude(structure=Product.CHILD).filter(categories__isnull=True)
    assert list(uncategorised.values_list("upc", flat=True)) == []
    names = set(Category.objects.values_list("name", flat=True))
    assert {"Headphones", "Laptops", "Coffee machines", "Fiction", "Non-fiction"} <= names


def test_gb_is_a_shipping_country(demo):
    assert Country.objects.filter(iso_3166_1_a2="GB", is_shipping_country=True).exists()


def test_some_products_are_thin(demo):
    thin = Product.objects.filter(
        structure=Product.STANDALONE, description="", attribute_values__isnull=True
    )
    assert thin.exists()
    # ... but most have a description.
    described = Product.objects.exclude(structure=Product.CHILD).exclude(description="")
    assert described.count() > thin.count()


def test_attribute_types_in_use(demo):
    used = set(ProductAttributeValue.objects.values_list("attribute__type", flat=True))
    assert {
        ProductAttribute.INTEGER,
        ProductAttribute.FLOAT,
        ProductAttribute.BOOLEAN,
        ProductAttribute.OPTION,
        ProductAttribute.TEXT,
        ProductAttribute.MULTI_OPTION,
        ProductAttribute.DATE,
    } <= used


def test_wireless_noise_cancelling_long_battery_headphones_exist(demo):
    matches = [
        product
        for product in Product.objects.filter(product_class__slug="headphones")
        if getattr(product.attr, "wireless", False)
        and getattr(product.attr, "noise_cancelling", False)
        and getattr(product.attr, "battery_life_hours", 0) >= 30
    ]
    assert len(matches) >= 2


def test_reviews_approved_and_not(demo):
    statuses = set(ProductReview.objects.values_list("status", flat=True))
    assert ProductReview.APPROVED in statuses
    assert statuses & {ProductReview.FOR_MODERATION, ProductReview.REJECTED}
    assert not ProductReview.objects.filter(user__isnull=True).exists()
    reviewed = Product.objects.get(upc="OGD-HP-002")
    assert reviewed.rating == 5.0  # only approved reviews count towards the rating


def test_orders_are_real_orders(demo):
    orders = Order.objects.all()
    assert orders.count() == sum(len(s["orders"]) for s in catalogue.SHOPPERS)
    for order in orders:
        assert order.user is not None and not order.user.is_staff
        assert order.lines.exists()
        assert order.shipping_address is not None
        assert order.shipping_address.country_id == "GB"
        assert order.total_incl_tax == sum(line.line_price_incl_tax for line in order.lines.all())
        assert order.basket.status == Basket.SUBMITTED


def test_shoppers_have_views_and_open_baskets(demo):
    shoppers = get_user_model().objects.filter(email__in=[s["email"] for s in catalogue.SHOPPERS])
    assert shoppers.count() >= 5
    assert not shoppers.filter(is_staff=True).exists()
    assert UserProductView.objects.filter(user__in=shoppers).values("user").distinct().count() >= 5
    open_baskets = Basket.open.filter(owner__in=shoppers)
    assert open_baskets.filter(lines__isnull=False).exists()
    # One open basket per shopper at most: Oscar's basket middleware expects that.
    assert open_baskets.count() == open_baskets.values("owner").distinct().count()


def test_staff_can_log_in_with_the_demo_password(demo):
    staff = get_user_model().objects.get(username=DEMO_STAFF_USERNAME)
    assert staff.email == DEMO_STAFF_EMAIL
    assert staff.is_staff and staff.is_superuser
    assert Client().login(username=DEMO_STAFF_EMAIL, password=DEMO_STAFF_PASSWORD)
    assert Client().login(username=DEMO_STAFF_USERNAME, password=DEMO_STAFF_PASSWORD)
    assert not Client().login(username=DEMO_STAFF_EMAIL, password="not-the-password")


def test_command_indexes_the_browsable_products(demo):
    browsable = Product.objects.browsable().count()
    assert browsable >= 60
    for output in demo.outputs:
        assert f"Search index: {browsable} products indexed" in output


def test_catalogue_page_lists_the_demo_products(demo):
    # Each test gets an empty index (tests/conftest.py): index the demo into this one.
    assert index_demo_products() == Product.objects.browsable().count()
    response = Client().get("/en-gb/catalogue/")
    assert response.status_code == 200
    assert response.context["paginator"].count == Product.objects.browsable().count()
    page_products = list(response.context["products"])
    assert page_products
    content = response.content.decode()
    for result in page_products:
        assert escape(result.object.get_title()) in content


def test_category_page_lists_its_products(demo):
    index_demo_products()
    category = Category.objects.get(name="Coffee machines")
    response = Client().get(category.get_absolute_url())
    assert response.status_code == 200
    titles = {result.object.get_title() for result in response.context["products"]}
    expected = set(Product.objects.filter(categories=category).values_list("title", flat=True))
    assert titles == expected


def test_product_detail_page(demo):
    product = Product.objects.get(upc="OGD-HP-001")
    response = Client().get(product.get_absolute_url())
    assert response.status_code == 200
    content = response.content.decode()
    assert escape(product.title) in content
    assert "Battery life (hours)" in content
    assert "£249.00" in content
