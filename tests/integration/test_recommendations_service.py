"""Recommendations built from a real Oscar shop in PostgreSQL: rebuild, incremental update,
the business rules (never the product itself, nothing unbuyable, nothing already bought),
merchant pins, boosts and exclusions, Oscar's hand-picked products first."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_class, get_model
from oscar.test.factories import create_order, create_product

from oscar_gpt.models import ProductVector, RecommendationBuild, RecommendationList
from oscar_gpt.models import RecommendationRule as Rule
from oscar_gpt.recommendations import service

pytestmark = [pytest.mark.django_db, pytest.mark.services]

Basket = get_model("basket", "Basket")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductRecommendation = get_model("catalogue", "ProductRecommendation")
UserProductView = get_model("analytics", "UserProductView")
Selector = get_class("partner.strategy", "Selector")
create_from_breadcrumbs = get_class("catalogue.categories", "create_from_breadcrumbs")


@pytest.fixture(autouse=True)
def _database(postgres):
    service.forget_state()
    yield
    service.forget_state()


class Shop:
    """A small camping and audio shop with shoppers who viewed, put in baskets and bought."""

    def __init__(self):
        camping = create_from_breadcrumbs("Outdoors > Camping")
        audio = create_from_breadcrumbs("Electronics > Audio")
        self.p = {}
        for name, category, stock in [
            ("tent", camping, 5),
            ("sleeping bag", camping, 5),
            ("stove", camping, 5),
            ("lantern", camping, 5),
            ("kettle", camping, 5),
            ("mat", camping, 5),
            ("headphones", audio, 5),
            ("speaker", audio, 5),
            ("cable", audio, 5),
            ("sold out", camping, 0),
        ]:
            product = create_product(title=name.title(), price=20, num_in_stock=stock)
            ProductCategory.objects.create(product=product, category=category)
            self.p[name] = product
        users = get_user_model().objects
        self.u = {
            name: users.create_user(username=name, email=f"{name}@example.com", password="x")
            for name in ("alice", "bob", "carol", "dave", "erin", "frank")
        }
        self.order("alice", "tent", "sleeping bag")
        self.order("bob", "tent", "sleeping bag", "stove")
        self.order("carol", "tent", "sleeping bag", "sold out")
        self.order("dave", "stove", "kettle")
        self.order("erin", "headphones", "speaker")
        self.order("frank", "headphones", "cable")
        self.view("frank", "speaker")
        self.view("dave", "lantern", "kettle")

    def order(self, user, *names):
        basket = Basket.objects.create(owner=self.u[user])
        basket.strategy = Selector().strategy(user=self.u[user])
        for name in names:
            basket.add_product(self.p[name])
        return create_order(basket=basket, user=self.u[user])

    def view(self, user, *names):
        for name in names:
            UserProductView.objects.create(user=self.u[user], product=self.p[name])

    def ids(self, *names):
        return [self.p[name].pk for name in names]


def stored(product=None, user=None):
    row = RecommendationList.objects.get(
        product=product, user=user, kind="product" if product else "shopper"
    )
    return row.items


def ids_of(items):
    return [item[0] for item in items]


@pytest.fixture
def shop():
    return Shop()


def test_rebuild_stores_a_list_per_product_and_shopper(shop):
    build = service.rebuild()
    assert build.status == RecommendationBuild.Status.DONE
    assert build.stats["products"] == 10
    assert build.stats["shoppers"] == 6
    assert set(build.watermarks) == {"view", "basket", "order"}
    tent = stored(product=shop.p["tent"])
    # Bought together with the tent by three shoppers: first, and said so.
    assert tent[0][0] == shop.p["sleeping bag"].pk
    assert tent[0][2] == "bought_with" and tent[0][3] == shop.p["tent"].pk
    # Never the product itself; never what Oscar's strategy says can't be bought.
    for product in shop.p.values():
        items = ids_of(stored(product=product)) if product.pk != shop.p["sold out"].pk else []
        assert product.pk not in items
        assert shop.p["sold out"].pk not in items
    # Shop-wide popular row for new shoppers, filled from the whole catalogue.
    popular = RecommendationList.objects.get(kind="popular").items
    assert popular[0][0] in shop.ids("tent", "sleeping bag")
    assert shop.p["sold out"].pk not in ids_of(popular)


def test_lists_are_filled_with_what_is_popular_in_the_category(shop):
    service.rebuild()
    mat = stored(product=shop.p["mat"])  # nobody has touched it
    assert mat, "a product without events still gets a list"
    assert {item[2] for item in mat} == {"popular"}
    assert mat[0][4] == "Camping"
    assert mat[0][0] in shop.ids("tent", "sleeping bag")


def test_shopper_list_says_because_you_bought_and_leaves_out_what_they_bought(shop):
    service.rebuild()
    row = RecommendationList.objects.get(user=shop.u["alice"])
    assert set(row.excluded) == set(shop.ids("tent", "sleeping bag"))
    items = row.items
    assert items[0][0] == shop.p["stove"].pk  # bob bought it with the same two
    assert items[0][2] == "bought"
    assert items[0][3] in shop.ids("tent", "sleeping bag")
    assert not set(ids_of(items)) & set(shop.ids("tent", "sleeping bag", "sold out"))


def test_exclude_purchased_can_be_turned_off(shop, settings):
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "RECOMMENDATIONS_EXCLUDE_PURCHASED": False}
    service.rebuild()
    assert RecommendationList.objects.get(user=shop.u["alice"]).excluded == []


def test_hand_picked_come_first_then_pins_and_boosts_reorder(shop):
    ProductRecommendation.objects.create(
        primary=shop.p["tent"], recommendation=shop.p["cable"], ranking=1
    )
    ProductRecommendation.objects.create(
        primary=shop.p["tent"], recommendation=shop.p["mat"], ranking=5
    )
    Rule.objects.create(product=shop.p["tent"], target=shop.p["speaker"], kind="pin")
    Rule.objects.create(product=shop.p["tent"], target=shop.p["sleeping bag"], kind="exclude")
    Rule.objects.create(target=shop.p["kettle"], kind="boost", weight=50)
    service.rebuild()
    tent = stored(product=shop.p["tent"])
    assert ids_of(tent)[:3] == shop.ids("mat", "cable", "speaker")
    assert {item[2] for item in tent[:3]} == {"picked"}
    assert shop.p["sleeping bag"].pk not in ids_of(tent)
    # The shop-wide boost lifts the kettle above every other blended product.
    assert ids_of(tent)[3] == shop.p["kettle"].pk
    # Rules of one product stay on its page.
    assert shop.p["sleeping bag"].pk in ids_of(stored(product=shop.p["stove"]))


def test_shop_wide_exclusion_and_pin(shop):
    Rule.objects.create(target=shop.p["sleeping bag"], kind="exclude")
    Rule.objects.create(target=shop.p["lantern"], kind="pin")
    service.rebuild()
    for name in ("tent", "stove", "headphones"):
        items = ids_of(stored(product=shop.p[name]))
        assert shop.p["sleeping bag"].pk not in items
        assert items[0] == shop.p["lantern"].pk
    assert shop.p["sleeping bag"].pk not in ids_of(stored(user=shop.u["dave"]))


def test_incremental_update_reads_only_new_events(shop):
    first = service.rebuild()
    before = stored(product=shop.p["headphones"])
    # A new shopper buys headphones with a lantern, twice over (two shoppers).
    users = get_user_model().objects
    for name in ("gina", "hank"):
        shop.u[name] = users.create_user(username=name, email=f"{name}@x.com", password="x")
        shop.order(name, "headphones", "lantern")
    result = service.update()
    assert result["events"] == 2 * 2 * 2  # two shoppers, two lines, basket and order
    assert result["shoppers"] == 2
    after = stored(product=shop.p["headphones"])
    assert after != before
    assert after[0][0] == shop.p["lantern"].pk and after[0][2] == "bought_with"
    # The new shoppers got lists of their own; an untouched list was not rewritten.
    assert RecommendationList.objects.filter(user=shop.u["gina"]).exists()
    untouched = RecommendationList.objects.get(product=shop.p["mat"])
    assert untouched.built_at < RecommendationList.objects.get(product=shop.p["lantern"]).built_at
    build = RecommendationBuild.objects.get(pk=first.pk)
    assert build.updates == 1 and build.watermarks["order"] > first.watermarks["order"]
    # Nothing new: nothing read, nothing written.
    assert service.update() == {
        "events": 0,
        "products": 0,
        "shoppers": 0,
        "seconds": pytest.approx(0, abs=5),
    }


def test_update_for_products_without_a_list_writes_nothing_and_does_not_fail(shop):
    """A product the lists don't cover (deleted, a variant, not browsable) changed: nothing
    to rewrite, and the update must not fail on an empty ``IN ()``."""
    service.rebuild()
    rows = RecommendationList.objects.count()
    result = service.update([999_999_999])
    assert (result["products"], result["shoppers"]) == (0, 0)
    assert RecommendationList.objects.count() == rows


def test_update_in_a_process_that_did_not_build_matches_a_warm_one(shop):
    service.rebuild()
    shop.order("erin", "headphones", "lantern")
    service.forget_state()  # another worker process
    cold = service.update()
    assert cold["events"] == 4
    cold_rows = {r.product_id: r.items for r in RecommendationList.objects.filter(kind="product")}
    service.rebuild()
    full_rows = {r.product_id: r.items for r in RecommendationList.objects.filter(kind="product")}
    for pid in shop.ids("headphones", "lantern"):
        assert ids_of(cold_rows[pid])[:3] == ids_of(full_rows[pid])[:3]


def test_refresh_products_rewrites_a_product_after_its_rule_changed(shop):
    service.rebuild()
    Rule.objects.create(product=shop.p["stove"], target=shop.p["cable"], kind="pin")
    service.refresh_products([shop.p["stove"].pk])
    assert stored(product=shop.p["stove"])[0][:3] == [shop.p["cable"].pk, 1.0, "picked"]


def test_new_product_gets_content_neighbours(shop):
    """A product nobody has seen is "Similar to" the products whose vectors are closest."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal(384).astype(np.float32)
    vectors = {}
    for name, noise in [("tent", 0.0), ("mat", 0.1), ("headphones", 5.0), ("speaker", 5.0)]:
        vector = base + noise * rng.standard_normal(384).astype(np.float32)
        vectors[name] = vector / np.linalg.norm(vector)
    for name, vector in vectors.items():
        ProductVector.objects.create(
            product=shop.p[name],
            vector=vector.tobytes(),
            dimension=384,
            embedding_model="test-vectors",
            fingerprint=name,
        )
    service.rebuild()
    mat = stored(product=shop.p["mat"])
    assert mat[0][:1] == [shop.p["tent"].pk] and mat[0][2] == "similar"
    # A product added after the build gets its neighbours from the next update.
    tarp = create_product(title="Tarp", price=10, num_in_stock=3)
    vector = base + 0.05 * rng.standard_normal(384).astype(np.float32)
    ProductVector.objects.create(
        product=tarp,
        vector=(vector / np.linalg.norm(vector)).tobytes(),
        dimension=384,
        embedding_model="test-vectors",
        fingerprint="tarp",
    )
    service.update()
    tarp_items = stored(product=tarp)
    assert tarp_items[0][2] == "similar"
    assert tarp_items[0][0] in shop.ids("tent", "mat")


def test_matrix_factorisation_when_the_shop_weighs_it(shop, settings):
    """ALS (off by default) fills the lists alone when it is the only behaviour model; a
    process that did not build reads its neighbours from the build's archive."""
    settings.OSCAR_GPT = {
        **settings.OSCAR_GPT,
        "RECOMMENDATIONS_HYBRID_WEIGHTS": {
            "bought_with": 0,
            "viewed_with": 0,
            "als": 1.0,
            "content": 0,
            "popularity": 0,
        },
        "RECOMMENDATIONS_ALS": {"factors": 4, "iterations": 5, "MIN_SHOPPERS": 1},
    }
    build = service.rebuild()
    assert build.stats["model_seconds"].keys() == {"als"}
    tent = stored(product=shop.p["tent"])
    assert tent[0][2] == "liked_with" and tent[0][3] == shop.p["tent"].pk
    service.forget_state()
    shop.order("erin", "tent")
    assert service.update()["events"] == 2
    assert stored(product=shop.p["tent"])[0][2] == "liked_with"
