"""A client the Q&A ask limits have just refused is refused again by
``oscar_gpt.middleware.RateLimitedClientsMiddleware`` (first in the sandbox's MIDDLEWARE)
before Django does any work: the same 429, the remaining ``Retry-After``, no session, no
database, no view. Clients the limits allow, other requests, and the client itself once the
wait is over go the normal way.

Both clocks are frozen: the limits' (``SimpleRateThrottle.timer``) and the middleware's, so
each wait is exact and the tests move them on by hand.
"""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from oscar_gpt import middleware, throttling
from oscar_gpt.api import qa_views as api_views
from oscar_gpt.models import Question
from oscar_gpt.qa import views as qa_views
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

API_ASK = "/en-gb/gpt/api/qa/questions/"


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Throttle counts live in the cache, refusals in the process-local table."""
    cache.clear()
    middleware.REFUSED.clear()
    yield
    cache.clear()
    middleware.REFUSED.clear()


class Clocks:
    def __init__(self, monkeypatch):
        self.limits = 1_800_000_000.0  # the throttles' wall clock
        self.fast_path = 1_000.0  # the middleware's monotonic clock
        monkeypatch.setattr(
            throttling._SettingsRateThrottle, "timer", staticmethod(lambda: self.limits)
        )
        monkeypatch.setattr(middleware, "monotonic", lambda: self.fast_path)


@pytest.fixture
def clocks(monkeypatch):
    return Clocks(monkeypatch)


@pytest.fixture
def dispatched(monkeypatch):
    """How many requests reached each ask view."""
    calls = {"view": 0, "api": 0}
    for kind, view_class in (("view", qa_views.AskView), ("api", api_views.AskView)):
        original = view_class.dispatch

        def counting(self, request, *args, _original=original, _kind=kind, **kwargs):
            calls[_kind] += 1
            return _original(self, request, *args, **kwargs)

        monkeypatch.setattr(view_class, "dispatch", counting)
    return calls


@pytest.fixture
def product():
    return headphones(headphones_class())


def limits(settings, **rates):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"RATE_LIMITS": rates}


def ask_url(product, language="en-gb"):
    from django.utils import translation

    with translation.override(language):
        return reverse("oscar_gpt:qa-ask", kwargs={"product_id": product.pk})


def ask(client, product, text="Is it wireless?", json=True, language="en-gb", **extra):
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(ask_url(product, language), {"question": text}, **headers, **extra)


def api_ask(client, product, text="Is it wireless?", **extra):
    return client.post(API_ASK, {"product": product.pk, "question": text}, format="json", **extra)


def same_refusal(response, expected):
    assert response.status_code == expected.status_code == 429
    assert response.content == expected.content
    for header in ("Content-Type", "Retry-After", "Content-Language", "Vary"):
        assert response[header] == expected[header], header


def test_an_address_the_limit_refused_is_refused_again_without_django(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    limits(settings, qa_ip="2/min")
    client = Client()
    assert [ask(client, product).status_code for _ in range(2)] == [202, 202]
    refused = ask(client, product)  # the view's refusal: the limit says 60 s
    assert refused.status_code == 429 and refused["Retry-After"] == "61"
    assert "Too many questions" in refused.json()["error"]
    assert dispatched["view"] == 3

    with django_assert_num_queries(0):
        again = ask(client, product)
    same_refusal(again, refused)
    assert dispatched["view"] == 3  # the view never ran
    # The plain form's refusal, also without the view.
    form = ask(client, product, json=False)
    assert form.status_code == 429 and dispatched["view"] == 3
    assert form.content.decode() == "Too many requests. Please try again in 60 seconds."
    assert form["Retry-After"] == "60"
    # Without its session cookie, from the same address: refused all the same.
    with django_assert_num_queries(0):
        same_refusal(ask(Client(), product), refused)
    assert dispatched["view"] == 3 and Question.objects.count() == 2

    # The same refusals as the view's (forget the fast path: the view answers again).
    middleware.REFUSED.clear()
    same_refusal(ask(client, product), again)
    middleware.REFUSED.clear()
    view_form = ask(client, product, json=False)
    assert view_form.content == form.content and view_form["Retry-After"] == "60"
    assert dispatched["view"] == 5

    # Another address is not this one.
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert ask(other, product).status_code == 202
    assert dispatched["view"] == 6 and Question.objects.count() == 3


def test_the_wait_is_the_remaining_one_and_then_the_view_decides_again(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    limits(settings, qa_ip="2/min")
    client = Client()
    for _ in range(2):
        ask(client, product)
    assert ask(client, product).status_code == 429  # 60 s from now
    assert dispatched["view"] == 3

    clocks.fast_path += 45.5
    with django_assert_num_queries(0):
        later = ask(client, product)
    assert later.status_code == 429 and later["Retry-After"] == "15"  # int(14.5) + 1
    assert "in 15 seconds" in later.json()["error"]
    clocks.fast_path += 14.499
    assert ask(client, product).status_code == 429
    assert dispatched["view"] == 3

    # The wait is over: the view runs again, and the limit (its clock not moved) refuses.
    clocks.fast_path += 0.001
    assert ask(client, product).status_code == 429
    assert dispatched["view"] == 4
    # The limit's minute is over too: the question is taken.
    clocks.limits += 60
    clocks.fast_path += 60
    assert ask(client, product, "Does it fold?").status_code == 202
    assert dispatched["view"] == 5 and Question.objects.count() == 3


def test_a_session_the_limit_refused_is_refused_again_and_other_sessions_are_not(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    limits(settings, qa_session="2/min")
    client = Client()
    client.session.save()  # a shopper who has been browsing
    assert [ask(client, product).status_code for _ in range(2)] == [202, 202]
    refused = ask(client, product)
    assert refused.status_code == 429 and dispatched["view"] == 3

    with django_assert_num_queries(0):
        same_refusal(ask(client, product), refused)
    # Its session from another address: still refused, without the view.
    moved = Client(REMOTE_ADDR="10.0.0.9")
    moved.cookies = client.cookies
    with django_assert_num_queries(0):
        same_refusal(ask(moved, product), refused)
    assert dispatched["view"] == 3

    # Another shopper at the same address has its own session, and its own limit.
    neighbour = Client()
    neighbour.session.save()
    assert ask(neighbour, product).status_code == 202
    assert dispatched["view"] == 4 and Question.objects.count() == 3


def test_clients_without_cookies_share_the_address_but_a_session_does_not(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    """Without a session the session limit counts the address: a cookie-less client is
    refused at once; one with a session (counted by it) still asks."""
    limits(settings, qa_session="2/min")
    assert [ask(Client(), product).status_code for _ in range(3)] == [202, 202, 429]
    with django_assert_num_queries(0):
        assert ask(Client(), product).status_code == 429
    assert dispatched["view"] == 3

    shopper = Client()
    shopper.session.save()
    assert ask(shopper, product).status_code == 202
    assert dispatched["view"] == 4


def test_the_api_is_refused_again_as_drf_refuses(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    limits(settings, qa_ip="2/min")
    client = APIClient()
    assert [api_ask(client, product).status_code for _ in range(2)] == [202, 202]
    refused = api_ask(client, product)
    assert refused.status_code == 429 and dispatched["api"] == 3
    assert refused.json() == {"detail": "Request was throttled. Expected available in 60 seconds."}

    with django_assert_num_queries(0):
        again = api_ask(client, product)
    same_refusal(again, refused)
    assert again["Allow"] == refused["Allow"] == "POST, OPTIONS"
    assert dispatched["api"] == 3
    # The two ask doors share their limits, and so their fast path.
    with django_assert_num_queries(0):
        assert ask(Client(), product).status_code == 429
    assert dispatched["view"] == 0

    clocks.fast_path += 30
    with django_assert_num_queries(0):
        assert api_ask(client, product)["Retry-After"] == "30"
    clocks.fast_path += 30
    assert api_ask(client, product).status_code == 429  # the view's own refusal
    assert dispatched["api"] == 4

    assert api_ask(APIClient(REMOTE_ADDR="10.0.0.3"), product).status_code == 202
    assert dispatched["api"] == 5 and Question.objects.count() == 3


def test_a_language_prefix_is_resolved_as_locale_middleware_would(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    limits(settings, qa_ip="2/min")
    client = Client()
    for _ in range(2):
        ask(client, product, language="de")
    refused = ask(client, product, language="de")
    assert refused.status_code == 429 and dispatched["view"] == 3
    with django_assert_num_queries(0):
        same_refusal(ask(client, product, language="de"), refused)
        french = ask(client, product, language="fr", HTTP_ACCEPT_LANGUAGE="de")
    assert french.status_code == 429 and french["Content-Language"] == "fr"
    assert dispatched["view"] == 3


def test_only_posts_to_the_ask_doors_are_refused(
    product, queued, settings, clocks, dispatched, django_assert_num_queries
):
    limits(settings, qa_ip="2/min")
    client = Client()
    for _ in range(3):
        ask(client, product)
    with django_assert_num_queries(0):
        assert ask(client, product).status_code == 429
    assert dispatched["view"] == 3

    # The same client's other requests go the normal way.
    assert client.get(ask_url(product)).status_code == 405  # the view's: POST only
    assert dispatched["view"] == 4
    assert client.get(product.get_absolute_url()).status_code == 200
    unknown = "00000000-0000-4000-8000-000000000000"
    report = reverse("oscar_gpt:qa-report", kwargs={"public_id": unknown})
    assert client.post(report).status_code == 404
    assert client.get(f"{API_ASK}{unknown}/").status_code == 404
    not_an_ask = ask_url(product).replace(f"/{product.pk}/", "/not-a-number/")
    assert client.post(not_an_ask).status_code == 404


def test_the_table_is_bounded_and_thread_safe():
    table = middleware.RefusedClients(max_entries=3)
    for n in range(4):
        table.refuse(f"key{n}", 60)
    assert len(table) == 3
    assert table.remaining(["key0"]) is None  # the oldest went first
    table.refuse("key1", 60)  # refused again: now the newest
    table.refuse("key4", 60)
    assert table.remaining(["key2"]) is None and table.remaining(["key1"]) is not None

    def fill(start):
        for n in range(start, start + 5_000):
            table.refuse(f"t{n}", 60)

    table.max_entries = 1_000
    threads = [threading.Thread(target=fill, args=(i * 5_000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(table) == 1_000
    assert middleware.REFUSED.max_entries == 10_000


def test_many_limited_clients_keep_the_table_bounded(
    product, queued, settings, clocks, monkeypatch, django_assert_num_queries
):
    """The oldest refusal is forgotten first; forgetting only costs a full request."""
    monkeypatch.setattr(middleware.REFUSED, "max_entries", 2)
    limits(settings, qa_ip="1/min")
    clients = [Client(REMOTE_ADDR=f"10.0.1.{n}") for n in range(3)]
    for client in clients:
        assert [ask(client, product).status_code for _ in range(2)] == [202, 429]
    assert len(middleware.REFUSED) == 2
    # The first address was forgotten: the view refuses it (queries); the others at once.
    with django_assert_num_queries(0):
        assert ask(clients[2], product).status_code == 429
    with CaptureQueriesContext(connection) as queries:
        assert ask(clients[0], product).status_code == 429
    assert len(queries) > 0
