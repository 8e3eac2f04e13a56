"""Recommendations as shoppers meet them: the product page and the basket page, as an
anonymous shopper (Oscar's recently-viewed cookie), a new shopper and a returning one; the
API; the management commands; the signals that keep the lists fresh."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_class, get_model
from oscar.test.factories import create_order, create_product

from oscar_gpt.models import RecommendationList
from oscar_gpt.models import RecommendationRule as Rule
from oscar_gpt.recommendations import service, signals

pytestmark = [pytest.mark.django_db]

Basket = get_model("basket", "Basket")
ProductCategory = get_model("catalogue", "ProductCategory")
UserProductView = get_model("analytics", "UserProductView")
Selector = get_class("partner.strategy", "Selector")
create_from_breadcrumbs = get_class("catalogue.categories", "create_from_breadcrumbs")


@pytest.fixture(autouse=True)
def _fresh():
    service.forget_state()
    cache.clear()
    yield
    service.forget_state()


class Shop:
    def __init__(self):
        camping = create_from_breadcrumbs("Outdoors > Camping")
        audio = create_from_breadcrumbs("Electronics > Audio")
        self.p = {}
        for name, category in [
            ("tent", camping),
            ("sleeping bag", camping),
            ("stove", camping),
            ("lantern", camping),
            ("headphones", audio),
            ("speaker", audio),
        ]:
            product = create_product(title=name.title(), price=25, num_in_stock=5)
            ProductCategory.objects.create(product=product, category=category)
            self.p[name] = product
        users = get_user_model().objects
        self.u = {
            name: users.create_user(username=name, email=f"{name}@example.com", password="pw")
            for name in ("alice", "bob", "carol", "newbie")
        }
        self.order("alice", "tent", "sleeping bag")
        self.order("bob", "tent", "sleeping bag", "stove")
        self.order("carol", "headphones", "speaker")
        UserProductView.objects.create(user=self.u["carol"], product=self.p["lantern"])

    def order(self, user, *names):
        basket = Basket.objects.create(owner=self.u[user])
        basket.strategy = Selector().strategy(user=self.u[user])
        for name in names:
            basket.add_product(self.p[name])
        return create_order(basket=basket, user=self.u[user])


@pytest.fixture
def shop():
    shop = Shop()
    service.rebuild()
    return shop


def recommended(response) -> list[tuple[int, str]]:
    """``(product id, reason text)`` of each recommendation on a page."""
    html = response.content.decode()
    items = re.findall(
        r'data-product="(\d+)" data-reason="(\w+)">.*?<p class="oscar-gpt-reason[^"]*">([^<]*)</p>',
        html,
        flags=re.S,
    )
    return [(int(pid), text.strip()) for pid, _reason, text in items]


def test_anonymous_shopper_sees_often_bought_with_on_a_product_page(client, shop):
    page = client.get(shop.p["tent"].get_absolute_url())
    assert page.status_code == 200
    recs = recommended(page)
    assert recs[0] == (shop.p["sleeping bag"].pk, "Often bought with Tent")
    assert shop.p["tent"].pk not in [pid for pid, _ in recs]
    assert len(recs) == 4
    assert 'id="oscar-gpt-qa"' in page.content.decode()  # the Q&A widget is still there


def test_anonymous_shopper_with_a_history_cookie_on_the_basket_page(client, shop):
    client.cookies["oscar_history"] = json.dumps([shop.p["headphones"].pk])
    page = client.get(reverse("basket:summary"))
    recs = recommended(page)
    assert recs[0] == (shop.p["speaker"].pk, "Because you viewed Headphones")


def test_new_shopper_gets_popular_products(client, shop):
    client.force_login(shop.u["newbie"])
    page = client.get(reverse("basket:summary"))
    recs = recommended(page)
    assert recs, "a shopper with no history still sees something"
    assert recs[0][0] in (shop.p["tent"].pk, shop.p["sleeping bag"].pk)
    assert recs[0][1] == "Popular in Camping"


def test_returning_shopper_never_sees_what_they_bought(client, shop):
    client.force_login(shop.u["alice"])
    page = client.get(shop.p["stove"].get_absolute_url())
    recs = recommended(page)
    ids = [pid for pid, _ in recs]
    assert shop.p["tent"].pk not in ids and shop.p["sleeping bag"].pk not in ids
    assert shop.p["stove"].pk not in ids
    basket_page = client.get(reverse("basket:summary"))
    assert recommended(basket_page)[0] == (shop.p["stove"].pk, "Because you bought Tent") or (
        recommended(basket_page)[0] == (shop.p["stove"].pk, "Because you bought Sleeping Bag")
    )


def test_basket_page_recommends_what_goes_with_the_basket(client, shop):
    client.force_login(shop.u["newbie"])
    basket = Basket.objects.create(owner=shop.u["newbie"])
    basket.strategy = Selector().strategy(user=shop.u["newbie"])
    basket.add_product(shop.p["tent"])
    page = client.get(reverse("basket:summary"))
    recs = recommended(page)
    assert recs[0] == (shop.p["sleeping bag"].pk, "Often bought with Tent")
    assert shop.p["tent"].pk not in [pid for pid, _ in recs]


def test_a_pinned_product_comes_first(client, shop):
    Rule.objects.create(product=shop.p["tent"], target=shop.p["speaker"], kind="pin")
    service.refresh_products([shop.p["tent"].pk])
    recs = recommended(client.get(shop.p["tent"].get_absolute_url()))
    assert recs[0] == (shop.p["speaker"].pk, "Recommended with Tent")


def test_the_tag_reads_stored_lists_with_a_fixed_number_of_queries(rf, shop):
    from django.contrib.auth.models import AnonymousUser
    from django.template import Context, Template

    template = Template(
        "{% load oscar_gpt_recommendations %}"
        "{% gpt_recommendations product=product limit=4 as recs %}"
        "{% for r in recs %}{{ r.product.pk }}:{{ r.text }};{% endfor %}"
    )
    request = rf.get("/")
    request.user = AnonymousUser()
    request.COOKIES["oscar_history"] = json.dumps([shop.p["headphones"].pk, shop.p["stove"].pk])
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        output = template.render(Context({"request": request, "product": shop.p["tent"]}))
    assert output.startswith(f"{shop.p['sleeping bag'].pk}:Often bought with Tent;")
    # The lists; the products; their images and stock records, prefetched.
    assert len(queries) == 4
    assert all(
        "oscar_gpt_recommendationlist" in q["sql"]
        or "catalogue" in q["sql"]
        or "partner" in q["sql"]
        for q in queries
    )


def test_api_product_and_shopper_recommendations(client, shop):
    url = reverse("oscar_gpt:api-recs-product", kwargs={"product_id": shop.p["tent"].pk})
    body = client.get(url, {"limit": 2}).json()
    assert len(body["results"]) == 2
    first = body["results"][0]
    assert first["product"]["id"] == shop.p["sleeping bag"].pk
    assert first["reason"] == "bought_with" and first["text"] == "Often bought with Tent"
    assert first["via"]["id"] == shop.p["tent"].pk
    assert client.get(url, {"limit": 0}).status_code == 400
    unknown = reverse("oscar_gpt:api-recs-product", kwargs={"product_id": 999999})
    assert client.get(unknown).status_code == 404
    me = reverse("oscar_gpt:api-recs-me")
    assert client.get(me).status_code == 403
    client.force_login(shop.u["alice"])
    mine = client.get(me).json()["results"]
    assert mine[0]["product"]["id"] == shop.p["stove"].pk and mine[0]["reason"] == "bought"
    other = reverse("oscar_gpt:api-recs-user", kwargs={"user_id": shop.u["bob"].pk})
    assert client.get(other).status_code == 403
    staff = get_user_model().objects.create_user("staffer", "s@x.com", "pw", is_staff=True)
    client.force_login(staff)
    assert client.get(other).status_code == 200
    schema = client.get("/en-gb/gpt/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/en-gb/gpt/api/recommendations/products/{product_id}/" in paths
    assert "/en-gb/gpt/api/recommendations/users/{user_id}/" in paths
    assert "Recommendations" in paths["/en-gb/gpt/api/recommendations/me/"]["get"]["tags"]


def test_rebuild_command_shows_progress_and_status(shop, capsys):
    from oscar_gpt.models import ProductVector

    call_command("oscar_gpt_recommendations", "--rebuild")
    out = capsys.readouterr().out
    # Products without a vector (none has one here) are embedded first, for "Similar to".
    assert "6 embedded." in out and ProductVector.objects.count() == 6
    assert "[##############################] 8/8" in out
    assert "6 product lists, 3 shopper lists" in out
    reasons = {item[2] for row in RecommendationList.objects.all() for item in row.items}
    assert "similar" in reasons
    call_command("oscar_gpt_recommendations", "--rebuild")
    assert "0 embedded." in capsys.readouterr().out  # only what has no vector yet
    call_command("oscar_gpt_recommendations")
    assert "update(s) since" in capsys.readouterr().out


def test_evaluate_command_on_the_shops_orders_and_on_a_file(shop, tmp_path, capsys):
    for user in ("dave", "erin"):
        shop.u[user] = get_user_model().objects.create_user(user, f"{user}@x.com", "pw")
        shop.order(user, "tent")
        shop.order(user, "sleeping bag")
    call_command("oscar_gpt_evaluate_recs")
    out = capsys.readouterr().out
    assert "Leave-last-out on the shop's own orders" in out
    for model in ("bought_with", "als", "hybrid", "baseline: popularity", "baseline: random"):
        assert model in out
    # u0-u19 bought A, then B (held out); w0-w9 bought A and B, then C (held out); ten
    # more shoppers bought one product each (a catalogue of more than three products).
    rows = [f"u{n},A,{n * 10}\nu{n},B,{n * 10 + 1}\n" for n in range(20)]
    rows += [f"w{n},A,{n}\nw{n},B,{n}\nw{n},C,{n + 1}\n" for n in range(10)]
    rows += [f"x{n},D{n},{n}\n" for n in range(10)]
    events = tmp_path / "events.csv"
    events.write_text("user,item,time\n" + "".join(rows))
    call_command("oscar_gpt_evaluate_recs", "--events", str(events), "--json")
    scores = {row["model"]: row for row in json.loads(capsys.readouterr().out)}
    assert scores["hybrid"]["shoppers"] == 30
    assert scores["bought_with"]["hit_rate"] == pytest.approx(20 / 30, abs=1e-3)
    assert scores["hybrid"]["hit_rate"] == pytest.approx(20 / 30, abs=1e-3)


def test_shopper_actions_queue_one_update(shop, monkeypatch, django_capture_on_commit_callbacks):
    from oscar_gpt import tasks

    sent = []
    monkeypatch.setattr(
        tasks.update_recommendations, "apply_async", lambda *a, **kw: sent.append((a, kw))
    )
    signals.connect()
    # Creating the shop's products queued an update already (their commit never comes here).
    cache.delete(signals.QUEUED_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        shop.order("alice", "lantern")
        shop.order("bob", "lantern")
    assert len(sent) == 1 and sent[0][1]["countdown"] >= 1
    with django_capture_on_commit_callbacks(execute=True):
        Rule.objects.create(product=shop.p["tent"], target=shop.p["lantern"], kind="boost")
    assert sent[-1][0] == (([shop.p["tent"].pk],),)  # update_recommendations(product_ids)
    result = service.update()
    assert result["events"] == 4 and result["shoppers"] == 2  # a basket and an order line each
    lantern = RecommendationList.objects.get(product=shop.p["lantern"]).items
    assert lantern[0][2] == "bought_with"


# -- the cached row -------------------------------------------------------------------------

#: What a cached row saves: the products, their images, their stock records.
ROW_TABLES = ["catalogue_product", "catalogue_productimage", "partner_stockrecord"]


def row_cache(settings, seconds: int) -> None:
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "RECOMMENDATIONS_ROW_CACHE_SECONDS": seconds}


def page_queries(client, url) -> tuple[str, list[str]]:
    """The page's recommendations row, and the SQL of every query the page made."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    row = re.search(
        r'<section class="oscar-gpt-recommendations".*?</section>', page.content.decode(), re.S
    )
    assert row, "the page has a recommendations row"
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    return row.group(0), sql


def tables(sql: list[str]) -> list[str]:
    return sorted(re.search(r'FROM "(\w+)"', q).group(1) for q in sql)


def loads_products(sql: list[str]) -> bool:
    """Whether the row's products were loaded (their images prefetched; the page's own
    product's images are read by ``product_id = ...``)."""
    return any('FROM "catalogue_productimage"' in q and '"product_id" IN (' in q for q in sql)


def cached_rows() -> list[str]:
    # The sandbox's cache is a LocMemCache: its keys, to count the rows stored.
    return [key for key in caches["default"]._cache if "oscar_gpt_recommendations_row" in key]


def card(row: str, product) -> str:
    found = re.search(rf'<li [^>]*data-product="{product.pk}".*?</li>', row, re.S)
    return found.group(0) if found else ""


def warm_up(client, settings, *urls) -> None:
    """One render of each page with the row cache off: thumbnails made, the recently-viewed
    cookie set, Oscar's own caches filled, so that later renders differ only by the row."""
    seconds = settings.OSCAR_GPT.get("RECOMMENDATIONS_ROW_CACHE_SECONDS", 300)
    row_cache(settings, 0)
    for url in urls:
        client.get(url)
    row_cache(settings, seconds)


def test_the_row_loads_its_products_only_when_iterated(shop):
    tent = shop.p["tent"]
    with CaptureQueriesContext(connection) as queries:
        row = service.recommendation_row(product=tent, limit=4)
        key = row.cache_key
    assert len(queries) == 1 and key  # the stored lists; the version is in the cache
    with CaptureQueriesContext(connection) as queries:
        items = list(row)
        assert len(row) == 4 and row[0] is items[0] and list(row) == items
    assert tables([q["sql"] for q in queries]) == ROW_TABLES  # loaded once
    listed = service.recommendations_for(product=tent, limit=4)
    assert type(listed) is list and listed == items  # the API's plain list, unchanged
    # The same choice has the same key; a catalogue change or another language, another.
    assert service.recommendation_row(product=tent, limit=4).cache_key == key
    with translation.override("de"):
        assert service.recommendation_row(product=tent, limit=4).cache_key != key
    service.bump_row_version()
    assert service.recommendation_row(product=tent, limit=4).cache_key != key


def test_a_cached_row_costs_no_product_query_and_renders_the_same(client, shop, settings):
    url = shop.p["tent"].get_absolute_url()
    warm_up(client, settings, url)
    first, first_sql = page_queries(client, url)
    second, second_sql = page_queries(client, url)
    assert second == first and 'data-product="' in first
    assert not Counter(second_sql) - Counter(first_sql)
    # Exactly the products, their images and stock records: the stored lists are still read.
    assert tables((Counter(first_sql) - Counter(second_sql)).elements()) == ROW_TABLES
    assert len(first_sql) - len(second_sql) == 3
    assert any("oscar_gpt_recommendationlist" in q for q in second_sql)
    assert len(cached_rows()) == 1


def test_a_price_title_or_publication_change_shows_on_the_next_render(client, shop, settings):
    url = shop.p["tent"].get_absolute_url()
    bag = shop.p["sleeping bag"]
    warm_up(client, settings, url)
    page_queries(client, url)
    row, sql = page_queries(client, url)
    assert not loads_products(sql), "the row came from the cache"
    assert "£25.00" in card(row, bag)

    record = bag.stockrecords.get()
    record.price = Decimal("31.50")
    record.save()
    row, sql = page_queries(client, url)
    assert loads_products(sql) and "£31.50" in card(row, bag) and "£25.00" not in card(row, bag)

    page_queries(client, url)
    bag.title = "Down Sleeping Bag"
    bag.save()
    row, _ = page_queries(client, url)
    assert 'title="Down Sleeping Bag">Down Sleeping Bag</a>' in card(row, bag)

    page_queries(client, url)
    bag.is_public = False
    bag.save()
    row, _ = page_queries(client, url)
    assert card(row, bag) == "" and 'data-product="' in row


def test_a_timeout_of_0_caches_nothing(client, shop, settings):
    row_cache(settings, 0)
    url = shop.p["tent"].get_absolute_url()
    warm_up(client, settings, url)
    first, first_sql = page_queries(client, url)
    second, second_sql = page_queries(client, url)
    assert second == first
    assert Counter(second_sql) == Counter(first_sql) and loads_products(second_sql)
    assert cached_rows() == []


def test_each_language_has_its_own_cached_row(client, shop, settings):
    assert len(settings.LANGUAGES) > 1
    tent = shop.p["tent"]
    english = tent.get_absolute_url()
    with translation.override("de"):
        german = tent.get_absolute_url()
    assert english.startswith("/en-gb/") and german.startswith("/de/")
    warm_up(client, settings, english, german)
    page_queries(client, english)
    _, sql = page_queries(client, english)
    assert not loads_products(sql)
    row, sql = page_queries(client, german)
    assert loads_products(sql), "not the English row"
    assert 'href="/de/catalogue/' in row and "/en-gb/" not in row
    again, sql = page_queries(client, german)
    assert again == row and not loads_products(sql)
    assert len(cached_rows()) == 2


def test_a_cache_that_is_down_costs_the_cache_not_the_page(client, shop, monkeypatch):
    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(service, "cache", Down())
    service.bump_row_version()  # never raises
    assert service.recommendation_row(product=shop.p["tent"], limit=4).cache_key == ""
    row, sql = page_queries(client, shop.p["tent"].get_absolute_url())
    assert 'data-product="' in row and loads_products(sql)
    assert cached_rows() == []
