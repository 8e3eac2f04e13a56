"""The product finder as a shopper uses it: the service, the page, the search-box tag and
the API, on a shop of headphones, speakers and kettles made the Oscar way, with the real
embedding model. The model that reads the text is unreachable here (the deterministic path,
``fell_back``), scripted (to check what is done with its reply) or, once, the real local one.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import (
    AttributeOptionFactory,
    AttributeOptionGroupFactory,
    ProductAttributeFactory,
    ProductClassFactory,
    create_product,
)
from rest_framework.test import APIClient

from oscar_gpt.finder import service
from oscar_gpt.llm.base import Backend, Completion
from oscar_gpt.models import LedgerEntry
from oscar_gpt.recommendations import embeddings
from tests.functional.descriptions_helpers import headphones, headphones_class

ProductAttribute = get_model("catalogue", "ProductAttribute")

pytestmark = pytest.mark.django_db

SEED = "I am looking for a wireless headphone with noise cancellation and a long battery life."
XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'

#: Nothing listens on port 9 (discard): the model can't be reached, at once.
DOWN = {
    "down": {
        "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
        "CONFIG": {
            "MODEL": "gpt-4o-mini",
            "BASE_URL": "http://127.0.0.1:9/v1",
            "MAX_RETRIES": 0,
            "TIMEOUT": 2,
        },
    }
}


class ScriptedBackend(Backend):
    """Replies with ``CONFIG["REPLY"]``: for tests of what the finder does with a reply."""

    default_config = {"EXTERNAL": False, "REPLY": "{}"}

    @property
    def model_name(self) -> str:
        return "scripted"

    def complete(self, messages, **params):
        if self.config["REPLY"] is None:
            raise RuntimeError("the model crashed")
        return Completion(self.config["REPLY"], 10, 10, "scripted")

    def stream(self, messages, **params):
        raise NotImplementedError


def scripted(settings, reply: str, **extra):
    settings.OSCAR_GPT = (
        settings.OSCAR_GPT
        | {
            "BACKENDS": settings.OSCAR_GPT["BACKENDS"]
            | {
                "scripted": {
                    "CLASS": f"{__name__}.ScriptedBackend",
                    "CONFIG": {"REPLY": reply},
                }
            },
            "FEATURES": {"recommendations": "scripted"},
            "FINDER_USE_MODEL": True,
        }
        | extra
    )


@pytest.fixture(autouse=True)
def _fresh(settings):
    """No model unless a test asks for one; no cached vocabulary, readings or rate counts."""
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"FINDER_USE_MODEL": False}
    cache.clear()
    embeddings.clear_cache()
    yield
    cache.clear()
    embeddings.clear_cache()


def priced(product, price: str, stock: int = 5):
    product.stockrecords.update(price=Decimal(price), num_in_stock=stock)
    return product


def speakers_class():
    product_class = ProductClassFactory(name="Speakers", slug="speakers")
    for code, name, kind in [
        ("wireless", "Wireless", ProductAttribute.BOOLEAN),
        ("battery_life_hours", "Battery life (hours)", ProductAttribute.INTEGER),
        ("waterproof", "Waterproof", ProductAttribute.BOOLEAN),
    ]:
        ProductAttributeFactory(product_class=product_class, code=code, name=name, type=kind)
    return product_class


def kettles_class():
    product_class = ProductClassFactory(name="Kettles", slug="kettles")
    colours = AttributeOptionGroupFactory(name="Kettle colours")
    options = {
        name: AttributeOptionFactory(group=colours, option=name)
        for name in ("Black", "Silver", "Red")
    }
    ProductAttributeFactory(
        product_class=product_class,
        code="capacity_l",
        name="Capacity (l)",
        type=ProductAttribute.FLOAT,
    )
    ProductAttributeFactory(
        product_class=product_class,
        code="colour",
        name="Colour",
        type=ProductAttribute.OPTION,
        option_group=colours,
    )
    return product_class, options


def make(product_class, title: str, price: str, stock: int = 5, **attributes):
    product = create_product(
        product_class=product_class.name, title=title, price=price, num_in_stock=stock
    )
    for code, value in attributes.items():
        setattr(product.attr, code, value)
    product.save()
    return product


@pytest.fixture
def shop():
    audio = headphones_class()
    products = {
        "best": priced(headphones(audio, title="Quietwave Pro", battery_life_hours=40), "89.99"),
        "shorter": priced(headphones(audio, title="Commuter ANC", battery_life_hours=12), "79.00"),
        "no_anc": priced(
            headphones(audio, title="Breeze Buds", noise_cancelling=False, battery_life_hours=50),
            "49.00",
        ),
        "wired": priced(
            headphones(
                audio,
                title="Studio Wire",
                wireless=False,
                noise_cancelling=False,
                battery_life_hours=0,
            ),
            "59.00",
        ),
        "pricey": priced(headphones(audio, title="Concert Elite", battery_life_hours=35), "349.00"),
        "sold_out": priced(
            headphones(audio, title="Ghost Phones", battery_life_hours=60), "99.00", stock=0
        ),
        "hidden": priced(
            headphones(audio, title="Secret Prototype", battery_life_hours=70), "99.00"
        ),
    }
    products["hidden"].is_public = False
    products["hidden"].save()
    speakers = speakers_class()
    products["speaker"] = make(
        speakers, "Boom Cube", "69.00", wireless=True, battery_life_hours=24, waterproof=True
    )
    kettles, colours = kettles_class()
    products["kettle"] = make(
        kettles, "Steel kettle", "30.00", capacity_l=1.7, colour=colours["Silver"]
    )
    products["red_kettle"] = make(
        kettles, "Retro kettle", "45.00", capacity_l=1.0, colour=colours["Red"]
    )
    return products


def titles(result) -> list[str]:
    return [found.product.get_title() for found in result.products]


# -- the service -------------------------------------------------------------------------------


def test_the_seed_sentence_without_the_model(shop, settings):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "BACKENDS": settings.OSCAR_GPT["BACKENDS"] | DOWN,
        "FEATURES": {"recommendations": "down"},
        "FINDER_USE_MODEL": True,
    }
    result = service.find(SEED)
    assert result.fell_back is True and result.model_used is False
    assert result.trace["error"] == "BackendUnavailable"
    assert LedgerEntry.objects.filter(feature="recommendations", status="error").count() == 1
    assert titles(result)[0] == "Quietwave Pro"
    # Wired, no noise cancelling: left out. Sold out, unpublished: never shown.
    for absent in (
        "Studio Wire",
        "Breeze Buds",
        "Ghost Phones",
        "Secret Prototype",
        "Steel kettle",
    ):
        assert absent not in titles(result)
    best = result.products[0]
    assert best.reasons[:1] == ["Wireless: yes"]
    assert "Noise cancelling: yes" in best.reasons
    assert "Battery life: 40 hours (long)" in best.reasons
    assert best.price == Decimal("89.99")
    assert result.constraint_texts == [
        "Wireless: yes",
        "Product type: Headphones",
        "Noise cancelling: yes",
        "Battery life: long",
    ]
    # The shorter battery agrees on everything else, and comes after the longer ones.
    assert titles(result).index("Commuter ANC") > titles(result).index("Concert Elite")
    commuter = result.products[titles(result).index("Commuter ANC")]
    assert not any(reason.startswith("Battery life") for reason in commuter.reasons)


def test_an_exhausted_budget_falls_back_too(shop, settings):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "BACKENDS": settings.OSCAR_GPT["BACKENDS"] | DOWN,
        "FEATURES": {"recommendations": "down"},
        "BUDGETS": {"recommendations": {"DAILY": "0.000001"}},
        "FINDER_USE_MODEL": True,
    }
    result = service.find("wireless headphones under £100")
    assert result.fell_back is True and result.trace["error"] == "BudgetExceeded"
    assert LedgerEntry.objects.filter(feature="recommendations", status="refused").exists()
    assert titles(result)[0] in ("Quietwave Pro", "Commuter ANC", "Breeze Buds")
    assert "Concert Elite" not in titles(result)  # £349: over the ceiling
    quiet = result.products[titles(result).index("Quietwave Pro")]
    assert "£89.99 under your £100.00" in quiet.reasons


def test_a_price_ceiling_and_a_class_of_its_own(shop):
    result = service.find("a kettle under £40")
    assert titles(result) == ["Steel kettle"]
    assert result.products[0].reasons == ["£30.00 under your £40.00"] or (
        "£30.00 under your £40.00" in result.products[0].reasons
    )
    red = service.find("a red kettle")
    assert titles(red)[0] == "Retro kettle"
    assert "Colour: Red" in red.products[0].reasons
    assert "Steel kettle" not in titles(red)  # silver: the colour disagrees


def test_attributes_shared_by_classes_find_both(shop):
    result = service.find("something wireless and waterproof with at least 20 hours of battery")
    assert titles(result)[0] == "Boom Cube"
    assert "Battery life: 24 hours (at least 20)" in result.products[0].reasons
    assert "Waterproof: yes" in result.products[0].reasons
    assert "Steel kettle" not in titles(result)


def test_meaning_alone_when_the_text_names_no_attribute(shop):
    result = service.find("something to boil water for tea")
    assert result.constraints == []
    assert titles(result)[0] in ("Steel kettle", "Retro kettle")
    assert result.products[0].reasons == ["Close to what you described"]


@pytest.mark.parametrize(
    "text",
    ["asdkj qwpoe zzxv", "xq zzv blorp fnarg", "purple unicorn saddle that sings opera"],
)
def test_nonsense_finds_nothing_and_says_so(shop, text):
    result = service.find(text)
    assert result.products == [], [(f.product.get_title(), f.similarity) for f in result.products]
    assert result.constraints == []
    assert result.message.startswith("Nothing in the shop matched your description.")


def test_wishes_nothing_fits_say_which(shop):
    result = service.find("wireless headphones under £20")
    assert result.products == []
    assert result.message.startswith("Nothing in the shop matches all of: Wireless: yes;")
    assert "Price: up to £20.00" in result.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please describe what you are looking for."),
        ("   \n ", "Please describe what you are looking for."),
        ("?!…", "Please describe what you are looking for."),
        ("a" * 501, "Please keep it to 500 characters; yours has 501."),
    ],
)
def test_bad_input(text, message):
    with pytest.raises(service.FinderError) as error:
        service.find(text)
    assert str(error.value) == message


def test_personal_data_is_scrubbed_before_anything_sees_it(shop, settings):
    scripted(settings, "{}")
    result = service.find("wireless headphones, call me on 020 7946 0958 or jane@example.com")
    assert "020 7946 0958" not in result.query and "jane@example.com" not in result.query
    assert "[phone]" in result.query and "[email]" in result.query
    assert titles(result)[0] in ("Quietwave Pro", "Commuter ANC", "Breeze Buds", "Concert Elite")


def test_the_models_reply_is_validated(shop, settings):
    scripted(
        settings,
        "Here you go: {'wireless': True, 'teleport': True, 'colour': 'Purple', "
        "'battery_life_hours': 'high', 'summary': 'wireless headphones with a lasting battery'}",
    )
    result = service.find("headphones that are wireless with a battery that lasts")
    assert result.model_used is True and result.fell_back is False
    sources = {k.code: k.source for k in result.constraints}
    assert sources["wireless"] == "text"  # the text said it; the model agreed
    assert sources["battery_life_hours"] == "model"  # "lasts" was the model's reading
    assert "teleport" not in sources and "colour" not in sources
    assert any(d.startswith("teleport") for d in result.trace["dropped"])
    assert result.summary == "wireless headphones with a lasting battery"
    assert titles(result)[0] == "Breeze Buds"  # 50 hours, wireless (no ANC asked for)


@pytest.mark.parametrize(
    "summary",
    [
        "the best wireless headphones in the world",  # a superlative: the wording check
        "wireless headphones, see www.example.com",  # a link
        "wireless headphones that cure headaches",  # words neither the shopper nor the shop used
    ],
)
def test_a_summary_that_fails_the_checks_is_not_shown(shop, settings, summary):
    scripted(settings, json.dumps({"wireless": True, "summary": summary}))
    result = service.find("wireless headphones")
    assert result.model_used is True
    assert result.summary == ""
    assert result.products and result.products[0].reasons[0] == "Wireless: yes"


def test_a_crashing_model_is_a_fall_back_not_an_error(shop, settings):
    scripted(settings, None)
    result = service.find("wireless headphones under £100")
    assert result.fell_back is True and result.trace["error"] == "RuntimeError"
    assert titles(result)[0] in ("Quietwave Pro", "Commuter ANC", "Breeze Buds")


def test_without_embeddings_the_attributes_still_find(shop, monkeypatch):
    def broken(text, **kwargs):
        raise OSError("no embedding model on this machine")

    monkeypatch.setattr(service.embeddings, "embed_query", broken)
    result = service.find("a red kettle")
    assert result.trace["embedding_error"] is True
    assert titles(result) == ["Retro kettle"]
    assert "Colour: Red" in result.products[0].reasons


def test_the_models_reading_is_reused_for_the_same_text(shop, settings):
    scripted(settings, '{"wireless": true}')
    service.find("wireless headphones")
    service.find("wireless headphones")
    assert LedgerEntry.objects.filter(feature="recommendations").count() == 1


# -- the page, the tag, the API ----------------------------------------------------------------


def test_the_page_without_a_query_is_the_form(client):
    response = client.get(reverse("oscar_gpt:finder"))
    assert response.status_code == 200
    assert b'name="q"' in response.content
    assert b"oscar-gpt-finder-results" not in response.content


def test_the_page_shows_results_with_reasons(client, shop):
    response = client.get(reverse("oscar_gpt:finder"), {"q": SEED})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Quietwave Pro") < html.index("Commuter ANC")
    assert "Battery life: 40 hours (long)" in html
    assert "Looking for:" in html
    assert shop["best"].get_absolute_url() in html
    assert "Studio Wire" not in html


def test_the_page_json_door(client, shop):
    response = client.get(
        reverse("oscar_gpt:finder"), {"q": "a red kettle"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["results"][0]["title"] == "Retro kettle"
    assert "Colour: Red" in payload["results"][0]["reasons"]


@pytest.mark.parametrize(
    ("query", "message"), [("", "Please describe"), ("x" * 600, "Please keep it to 500")]
)
def test_the_page_rejects_bad_input_with_a_message(client, query, message):
    response = client.get(reverse("oscar_gpt:finder"), {"q": query})
    assert response.status_code == 400
    assert message in response.content.decode()
    json_response = client.get(
        reverse("oscar_gpt:finder"), {"q": query}, HTTP_ACCEPT="application/json"
    )
    assert json_response.status_code == 400 and json_response.json()["detail"].startswith(message)


def test_the_query_is_escaped(client, shop):
    response = client.get(reverse("oscar_gpt:finder"), {"q": XSS})
    html = response.content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_the_page_is_rate_limited(client, shop, settings):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"RATE_LIMITS": {"finder_ip": "2/min"}}
    url = reverse("oscar_gpt:finder")
    assert client.get(url, {"q": "kettle"}).status_code == 200
    assert client.get(url, {"q": "kettle"}).status_code == 200
    blocked = client.get(url, {"q": "kettle"})
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert "Too many searches" in blocked.content.decode()
    assert client.get(url).status_code == 200  # the empty form never counts


def test_the_search_box_tag(rf):
    html = Template("{% load oscar_gpt_finder %}{% oscar_gpt_finder_box query=q %}").render(
        Context({"q": XSS, "request": rf.get("/")})
    )
    assert f'action="{reverse("oscar_gpt:finder")}"' in html
    assert 'method="get"' in html and 'name="q"' in html and 'maxlength="500"' in html
    assert XSS not in html and "&lt;script&gt;" in html


def test_the_sandbox_shows_the_box_beside_oscars_search(client, shop):
    response = client.get(reverse("catalogue:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "oscar-gpt-finder-box" in html and reverse("oscar_gpt:finder") in html
    assert reverse("search:search") in html


API = "oscar_gpt:api-finder"


def test_the_api_finds_with_reasons(shop):
    response = APIClient().post(reverse(API), {"text": SEED}, format="json")
    assert response.status_code == 200
    payload = response.json()
    assert payload["results"][0]["title"] == "Quietwave Pro"
    assert payload["results"][0]["price"] == "89.99"
    assert "Noise cancelling: yes" in payload["results"][0]["reasons"]
    assert {"attribute": "wireless", "op": "is", "value": True}.items() <= payload["constraints"][
        0
    ].items()
    assert payload["fell_back"] is False


def test_the_api_limit(shop):
    response = APIClient().post(reverse(API), {"text": "headphones", "limit": 2}, format="json")
    assert response.status_code == 200 and len(response.json()["results"]) == 2


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"text": ""}, "text", "Please describe what you are looking for."),
        ({"text": "y" * 501}, "text", "Please keep it to 500 characters; yours has 501."),
        ({}, "text", "This field is required."),
        (
            {"text": "kettle", "limit": 0},
            "limit",
            "Ensure this value is greater than or equal to 1.",
        ),
    ],
)
def test_the_api_rejects_bad_input(body, field, message):
    response = APIClient().post(reverse(API), body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [message]


def test_the_api_is_rate_limited(shop, settings):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"RATE_LIMITS": {"finder_ip": "1/min"}}
    api = APIClient()
    assert api.post(reverse(API), {"text": "kettle"}, format="json").status_code == 200
    blocked = api.post(reverse(API), {"text": "kettle"}, format="json")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0


def test_the_api_needs_csrf_when_it_rides_on_cookies(shop):
    api = APIClient(enforce_csrf_checks=True)
    api.cookies["sessionid"] = "x"
    response = api.post(reverse(API), {"text": "kettle"}, format="json")
    assert response.status_code == 403


def test_the_api_is_in_the_schema(client):
    schema = client.get(reverse("oscar_gpt:schema"), {"format": "json"}).json()
    operation = schema["paths"][reverse(API)]["post"]
    assert operation["tags"] == ["Finder"]
    assert {"200", "400", "403", "429"} <= set(operation["responses"])


# -- the real local model ----------------------------------------------------------------------


@pytest.mark.slow
def test_the_seed_sentence_with_the_local_model(shop, settings, local_backend):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "FEATURES": {"recommendations": ["local"]},
        "FINDER_USE_MODEL": True,
    }
    result = service.find(SEED)
    assert result.model_used is True and result.fell_back is False
    entry = LedgerEntry.objects.get(feature="recommendations")
    assert entry.status == "ok" and entry.backend == "local"
    # Whatever the small model wrote, only validated constraints count: the text's stand.
    assert {"wireless", "noise_cancelling", "battery_life_hours"} <= {
        k.code for k in result.constraints
    }
    assert titles(result)[0] == "Quietwave Pro"
    assert "Battery life: 40 hours (long)" in result.products[0].reasons
    assert "Studio Wire" not in titles(result)
