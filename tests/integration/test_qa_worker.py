"""A shopper's question is answered by a real Celery worker with the real local model."""

import pytest
from django.urls import reverse

from oscar_gpt.models import EvidenceSet, LedgerEntry, Question
from oscar_gpt.qa import service
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_questions_are_answered_in_a_worker(celery_worker_process, client):
    product = headphones(
        headphones_class(),
        description="Closed-back wireless headphones. The ear cushions are memory foam.",
    )
    # Saving the product queued a refresh: the worker embeds its evidence.
    stored = wait_for(
        lambda: EvidenceSet.objects.filter(product=product).first(),
        timeout=300,
        worker=celery_worker_process,
    )
    assert any(unit["text"] == "Battery life: 30 hours" for unit in stored.units)

    asked = client.post(
        reverse("oscar_gpt:qa-ask", kwargs={"product_id": product.pk}),
        {"question": "What is the battery life?"},
        HTTP_ACCEPT="application/json",
    )
    unknown = client.post(
        reverse("oscar_gpt:qa-ask", kwargs={"product_id": product.pk}),
        {"question": "Is it waterproof?"},
        HTTP_ACCEPT="application/json",
    )
    assert asked.status_code == unknown.status_code == 202

    def finished(response):
        def check():
            url = response.json()["status_url"]
            payload = client.get(url, HTTP_ACCEPT="application/json").json()
            return payload if payload["done"] else None

        return check

    answered = wait_for(finished(asked), timeout=300, worker=celery_worker_process)
    assert answered["status"] == "answered" and "30" in answered["answer"]
    assert {"label": "From the specifications", "text": "Battery life: 30 hours"} in answered[
        "evidence"
    ]
    waiting = wait_for(finished(unknown), timeout=120, worker=celery_worker_process)
    assert waiting["status"] == "needs_staff" and waiting["message"].startswith("We don't know")

    question = Question.objects.get(text="What is the battery life?")
    entry = LedgerEntry.objects.get(feature="qa")  # the gate kept the other from the model
    assert entry.object_id == str(question.pk) and entry.backend == "local"

    # A change to the product (saved as the dashboard saves it: the product, then its
    # attributes) reaches the evidence through the worker.
    product.attr.battery_life_hours = 45
    product.save()
    wait_for(
        lambda: (
            any(
                unit["text"] == "Battery life: 45 hours"
                for unit in EvidenceSet.objects.get(product=product).units
            )
            or None
        ),
        timeout=120,
        worker=celery_worker_process,
    )
    # ... and the old answer, made from other facts, is no longer reused.
    assert not service.reusable_answers(product).filter(pk=question.pk).exists()
