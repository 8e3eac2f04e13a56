"""A question asked before is answered from the stored answer: which answers may be reused,
the one-query lookup that finds them, and what asking again costs the database."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oscar_gpt.models import EvidenceSet, Question
from oscar_gpt.qa import service
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

FINGERPRINT = "f" * 64
STALE = "0" * 64


@pytest.fixture
def product():
    product = headphones(headphones_class())
    EvidenceSet.objects.create(product=product, fingerprint=FINGERPRINT, embedding_model="test")
    return product


def answered(product, text, *, minutes_ago=0, **fields):
    values = {
        "status": Question.Status.ANSWERED,
        "source": Question.Source.MODEL,
        "answer": f"An answer to {text!r}.",
        "fingerprint": FINGERPRINT,
        "answered_at": timezone.now() - timedelta(minutes=minutes_ago),
    } | fields
    return Question.objects.create(
        product=product,
        text=text,
        normalised=service.normalise(text),
        language="en-gb",
        **values,
    )


def key(text):
    return service.normalise(text)


@pytest.fixture
def shop(product):
    """Questions of every kind on ``product``; returns what each key should reuse (or None)."""
    other = headphones(product.product_class, title="Other")  # no evidence set
    expected = {}
    older = answered(product, "Battery?", minutes_ago=10)
    newest = answered(product, "battery", minutes_ago=1)
    expected[key("Battery?")] = newest  # same key: the newest
    del older
    answered(product, "Weight?", fingerprint=STALE)  # made from other facts
    expected[key("Weight?")] = None
    expected[key("Does it fold?")] = answered(
        product, "Does it fold?", source=Question.Source.STAFF, fingerprint=""
    )
    faq = answered(product, "Colour?", fingerprint=STALE, published=True, minutes_ago=30)
    answered(product, "colour", minutes_ago=1)
    expected[key("Colour?")] = faq  # the FAQ first, even older and made from other facts
    reported = answered(product, "Waterproof?", reports=1)
    answered(product, "waterproof", source=Question.Source.STORED, answered_from=reported)
    expected[key("Waterproof?")] = None  # its copies go with it
    Question.objects.create(
        product=product, text="Queued?", normalised=key("Queued?"), language="en-gb"
    )
    expected[key("Queued?")] = None
    answered(product, "Empty?", answer="")
    expected[key("Empty?")] = None
    answered(other, "Case?", fingerprint="")  # another product, which has no facts built
    answered(other, "Battery?")
    expected[key("Case?")] = None
    return expected


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled-once", "orm"])
def test_the_stored_answer_is_the_querysets_first(product, shop, compiled, monkeypatch):
    if not compiled:  # the fallback when the compiled query can't be reused
        monkeypatch.setattr(service, "_STORED_SQL", {"default": None})
    for question_key, expected in shop.items():
        queryset = service.reusable_answers(product).filter(normalised=question_key).first()
        found = service.stored_answer(product, question_key)
        assert (found and found.pk) == (queryset and queryset.pk) == (expected and expected.pk)
    assert service.stored_answer(product, key("never asked")) is None
    if compiled:  # the query was compiled once, not left to the ORM's fallback
        assert service._STORED_SQL["default"] is not None


def test_a_copy_carries_what_the_shopper_is_shown(product):
    original = answered(product, "Battery life?")
    original.evidence = [{"id": "attr:battery", "kind": "attribute", "text": "Battery: 30 h"}]
    original.save()
    first = service.ask(product, "battery life", enqueue=False)
    again = service.ask(product, "Battery life??", enqueue=False)
    for copy in (first, again):
        assert copy.source == Question.Source.STORED and copy.status == Question.Status.ANSWERED
        assert copy.answer == original.answer and copy.evidence == original.evidence
        assert copy.answered_from_id == original.pk  # a copy of a copy names the original
        assert copy.fingerprint == FINGERPRINT


def test_a_report_on_one_copy_stops_every_copy(product):
    answered(product, "Battery life?")
    first = service.ask(product, "battery life", enqueue=False)
    second = service.ask(product, "battery life", enqueue=False)
    assert first.source == second.source == Question.Source.STORED
    service.report(first, "wrong")
    third = service.ask(product, "battery life", enqueue=False)
    assert third.status == Question.Status.QUEUED  # not the second copy of the same answer


def test_asking_again_costs_three_queries(client, product, django_assert_num_queries):
    answered(product, "Battery life?")
    url = reverse("oscar_gpt:qa-ask", kwargs={"product_id": product.pk})
    json = {"HTTP_ACCEPT": "application/json"}
    assert client.post(url, {"question": "battery life"}, **json).status_code == 200
    # The session, the stored answer (which checks the product is public), the question's row.
    with django_assert_num_queries(3):
        response = client.post(url, {"question": "Battery life?"}, **json)
    assert response.status_code == 200 and response.json()["source"] == "stored"


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled-once", "orm"])
def test_a_hidden_products_answers_are_not_reused(product, compiled, monkeypatch):
    if not compiled:
        monkeypatch.setattr(service, "_STORED_SQL", {"default": None})
    original = answered(product, "Battery life?")
    assert service.stored_answer(product.pk, key("battery life")) == original
    product.is_public = False
    product.save()
    assert service.stored_answer(product, key("battery life")) is None
    assert service.stored_answer(product.pk, key("battery life")) is None


def test_asking_by_the_products_id(product, django_assert_num_queries):
    answered(product, "Battery life?")
    with django_assert_num_queries(2):  # the stored answer, the INSERT: the product isn't read
        stored = service.ask(product.pk, "battery life", enqueue=False)
    assert stored.source == Question.Source.STORED and stored.product_id == product.pk
    new = service.ask(product.pk, "Does it fold?", enqueue=False)
    assert new.status == Question.Status.QUEUED and new.product == product
    product.is_public = False
    product.save()
    before = Question.objects.count()
    for text in ("Battery life?", "Is it red?"):
        with pytest.raises(type(product).DoesNotExist):
            service.ask(product.pk, text, enqueue=False)
        with pytest.raises(type(product).DoesNotExist):
            service.ask(987_654, text, enqueue=False)
    assert Question.objects.count() == before  # nothing stored for a hidden or missing product


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_the_ask_door_says_404_for_a_hidden_or_missing_product_whatever_is_asked(
    client, product, accept, settings
):
    limits = {"qa_ip": None, "qa_session": None, "qa_user": None}  # asks past the limits count
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"RATE_LIMITS": limits}
    answered(product, "Battery life?")
    product.is_public = False
    product.save()
    before = Question.objects.count()
    for product_id in (product.pk, 987_654):
        url = reverse("oscar_gpt:qa-ask", kwargs={"product_id": product_id})
        for text in ("Battery life?", "Is it red?", "", "?" * 3):
            response = client.post(url, {"question": text}, HTTP_ACCEPT=accept)
            assert response.status_code == 404, (product_id, text)
    assert Question.objects.count() == before
    product.is_public = True
    product.save()
    url = reverse("oscar_gpt:qa-ask", kwargs={"product_id": product.pk})
    assert client.post(url, {"question": ""}, HTTP_ACCEPT=accept).status_code == 400
