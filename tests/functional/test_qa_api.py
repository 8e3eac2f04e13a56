"""The shopper Q&A through the REST API, as a shop's own front end would call it.

The answering itself (a worker running the model) is out of scope here: ``_enqueue`` is
replaced by a recorder, so each test sees exactly which questions were sent to the worker.
"""

import pytest
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from oscar_gpt.api.qa_serializers import QuestionStatusSerializer
from oscar_gpt.models import Question
from oscar_gpt.qa import service
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

API = "/en-gb/gpt/api/qa"
#: A CSRF secret as Django's cookie holds it (32 letters and digits); the header may carry it.
CSRF_TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.fixture
def product():
    return headphones(headphones_class())


def ask(client, product_id, question, **extra):
    body = {"product": product_id, "question": question} | extra
    return client.post(f"{API}/questions/", body, format="json")


def answered(product, text="How long does the battery last?", **fields):
    values = {
        "product": product,
        "text": text,
        "normalised": service.normalise(text),
        "language": "en-gb",
        "status": Question.Status.ANSWERED,
        "source": Question.Source.STAFF,
        "answer": "About 30 hours.",
        "answered_at": timezone.now(),
    } | fields
    return Question.objects.create(**values)


def test_ask_queues_the_scrubbed_question_and_its_status_can_be_followed(
    product, queued, django_capture_on_commit_callbacks
):
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, product.pk, "Does it fold flat? Write to jane.doe@example.com")
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == set(QuestionStatusSerializer().fields)
    question = Question.objects.get(public_id=body["id"])
    assert queued == [question.pk]
    assert "jane.doe@example.com" not in question.text and "[email]" in question.text
    assert body["question"] == question.text
    assert body["status"] == "queued" and body["done"] is False and body["answer"] == ""
    assert question.user is None and question.session_key
    assert question.language == "en-gb" and question.product == product
    assert body["status_url"] == f"{API}/questions/{question.public_id}/"
    assert response["Location"] == body["status_url"]

    followed = client.get(body["status_url"])
    assert followed.status_code == 200 and followed.json() == body

    Question.objects.filter(pk=question.pk).update(
        status=Question.Status.ANSWERED,
        source=Question.Source.MODEL,
        answer="Yes, it folds flat.",
        evidence=[{"kind": "description", "label": "", "text": "Folds flat for travel."}],
    )
    done = client.get(body["status_url"]).json()
    assert done["done"] is True and done["answer"] == "Yes, it folds flat."
    assert done["evidence"] == [
        {"label": "From the product description", "text": "Folds flat for travel."}
    ]


def test_the_same_question_answered_before_is_answered_at_once(
    product, queued, django_capture_on_commit_callbacks
):
    staff_answer = answered(product)
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(APIClient(), product.pk, "how long does the BATTERY last")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["done"] is True and body["status"] == "answered"
    assert body["answer"] == "About 30 hours." and body["source"] == "stored"
    assert "Location" not in response
    assert queued == []
    question = Question.objects.get(public_id=body["id"])
    assert question.answered_from == staff_answer


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"question": ""}, "question", "Please write your question."),
        ({"question": " ?! "}, "question", "Please write your question."),
        ({"question": "a" * 501}, "question", "at most 500 characters"),
        ({"product": None}, "product", "may not be null"),
        ({"product": 999999}, "product", "There is no product with the id 999999"),
        ({"product": "unpublished"}, "product", "There is no product with the id"),
        ({"product": "missing"}, "product", "required"),
        ({"question": "missing"}, "question", "required"),
    ],
)
def test_bad_input_is_a_400_that_says_why_and_stores_nothing(product, queued, body, field, message):
    data = {"product": product.pk, "question": "Is it wireless?"} | body
    if data["product"] == "unpublished":
        product.is_public = False
        product.save()
        data["product"] = product.pk
    data = {key: value for key, value in data.items() if value != "missing"}
    response = APIClient().post(f"{API}/questions/", data, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Question.objects.exists() and queued == []


def test_notify_needs_an_address(product, queued, django_user_model):
    client = APIClient()
    refused = ask(client, product.pk, "Is it wireless?", notify=True, email="not an address")
    assert refused.status_code == 400
    assert "valid e-mail address" in refused.json()["detail"]
    assert ask(client, product.pk, "Is it wireless?", notify=True).status_code == 400
    assert not Question.objects.exists()

    accepted = ask(client, product.pk, "Is it wireless?", notify=True, email="jo@example.com")
    assert accepted.status_code == 202
    assert Question.objects.get().email == "jo@example.com"

    # A signed-in shopper is told at their account's address.
    user = django_user_model.objects.create_user("kim", "kim@example.com", "pw")
    client.force_authenticate(user)
    mine = ask(client, product.pk, "Is it heavy?", notify=True)
    assert mine.status_code == 202
    question = Question.objects.get(public_id=mine.json()["id"])
    assert question.email == "kim@example.com" and question.user == user


def test_csrf_is_checked_for_anonymous_and_signed_in_shoppers(product, queued, django_user_model):
    client = APIClient(enforce_csrf_checks=True)
    refused = ask(client, product.pk, "Is it wireless?")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Question.objects.exists()

    client.cookies["csrftoken"] = CSRF_TOKEN
    accepted = client.post(
        f"{API}/questions/",
        {"product": product.pk, "question": "Is it wireless?"},
        format="json",
        HTTP_X_CSRFTOKEN=CSRF_TOKEN,
    )
    assert accepted.status_code == 202
    assert Question.objects.count() == 1

    signed_in = APIClient(enforce_csrf_checks=True)
    signed_in.force_login(django_user_model.objects.create_user("kim", "kim@example.com", "pw"))
    assert ask(signed_in, product.pk, "Is it wireless?").status_code == 403

    report = client.post(f"{API}/questions/{answered(product).public_id}/report/")
    assert report.status_code == 403
    # Reading needs no token.
    assert client.get(accepted.json()["status_url"]).status_code == 200


def test_asking_too_often_is_a_429_with_retry_after(product, queued, settings):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"RATE_LIMITS": {"qa_session": "2/min"}}
    cache.clear()
    client = APIClient()
    client.session.save()  # a shopper who has been browsing the shop
    assert ask(client, product.pk, "Is it wireless?").status_code == 202
    assert ask(client, product.pk, "Is it heavy?").status_code == 202
    third = ask(client, product.pk, "Does it fold?")
    assert third.status_code == 429
    assert 0 < int(third["Retry-After"]) <= 60
    assert Question.objects.count() == 2

    other_shopper = APIClient()
    other_shopper.session.save()
    assert ask(other_shopper, product.pk, "Does it fold?").status_code == 202


def test_report_an_answer(product, settings):
    question = answered(product)
    client = APIClient()
    response = client.post(
        f"{API}/questions/{question.public_id}/report/",
        {"reason": "Wrong. Mail me: jo@example.com"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["reported"] is True
    question.refresh_from_db()
    assert question.reports == 1
    assert "jo@example.com" not in question.report_reason and "[email]" in question.report_reason

    waiting = answered(product, "Is it red?", status=Question.Status.QUEUED, answer="")
    refused = client.post(f"{API}/questions/{waiting.public_id}/report/")
    assert refused.status_code == 400 and refused.json()["detail"]
    waiting.refresh_from_db()
    assert waiting.reports == 0

    settings.OSCAR_GPT = settings.OSCAR_GPT | {"RATE_LIMITS": {"qa_report_ip": "2/hour"}}
    throttled = client.post(f"{API}/questions/{question.public_id}/report/")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    question.refresh_from_db()
    assert question.reports == 1


def test_unknown_questions_and_unpublished_products_are_404(product):
    question = answered(product)
    client = APIClient()
    assert client.get(f"{API}/questions/{question.public_id}/").status_code == 200
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"{API}/questions/{unknown}/").status_code == 404
    assert client.post(f"{API}/questions/{unknown}/report/").status_code == 404
    product.is_public = False
    product.save()
    assert client.get(f"{API}/questions/{question.public_id}/").status_code == 404
    assert client.post(f"{API}/questions/{question.public_id}/report/").status_code == 404
    assert client.get(f"{API}/products/{product.pk}/faq/").status_code == 404
    assert client.get(f"{API}/products/999999/faq/").status_code == 404


def test_faq_lists_only_the_products_published_answers(product):
    published = answered(product, answer="<b>About</b> 30 hours.", published=True)
    answered(product, "Is it red?", answer="No, black.")  # answered, not published
    answered(product, "Is it blue?", status=Question.Status.QUEUED, answer="", published=True)
    other = headphones(product.product_class, title="Other")
    answered(other, "Is it wireless?", answer="Yes.", published=True)

    response = APIClient().get(f"{API}/products/{product.pk}/faq/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "question": "How long does the battery last?",
            "answer": "<b>About</b> 30 hours.",
            "answered_at": body["results"][0]["answered_at"],
            "source": "staff",
        }
    ]
    assert parse_datetime(body["results"][0]["answered_at"]) == published.answered_at


def test_openapi_schema_documents_the_qa_endpoints(admin_client):
    schema = admin_client.get("/en-gb/gpt/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    ask_operation = paths["/en-gb/gpt/api/qa/questions/"]["post"]
    assert {"200", "202", "400", "403", "429"} <= set(ask_operation["responses"])
    assert ask_operation["tags"] == ["Q&A"]
    for path, method in [
        ("/en-gb/gpt/api/qa/questions/{public_id}/", "get"),
        ("/en-gb/gpt/api/qa/questions/{public_id}/report/", "post"),
        ("/en-gb/gpt/api/qa/products/{product_id}/faq/", "get"),
    ]:
        assert paths[path][method]["tags"] == ["Q&A"]
    assert "429" in paths["/en-gb/gpt/api/qa/questions/{public_id}/report/"]["post"]["responses"]
