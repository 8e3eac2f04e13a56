"""A bulk job at the budget's cap pauses, keeps what it has, and carries on in the next period.

No worker runs here: the re-queued chunk is captured from ``apply_async`` (its ``eta`` is the
point) and then run in this process as the worker would run it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from oscar_gpt import budgets
from oscar_gpt.descriptions import service
from oscar_gpt.descriptions.prompts import GenerationParams
from oscar_gpt.models import BudgetPeriod, Draft, GenerationJob, GenerationJobItem, LedgerEntry
from oscar_gpt.tasks import generate_descriptions
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.unit.test_budgets import PricedBackend, config

pytestmark = pytest.mark.django_db


def settings_with_cap(monthly: str):
    shop = config({"descriptions": {"MONTHLY": monthly}})
    shop |= {"DESCRIPTIONS_BATCH_SIZE": 1, "DESCRIPTIONS_REGENERATE_ATTEMPTS": 0}
    return shop


def first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@pytest.fixture
def queued(monkeypatch):
    """What the service queues: (args, eta) per ``apply_async``."""
    calls = []
    monkeypatch.setattr(
        generate_descriptions,
        "apply_async",
        lambda args=None, kwargs=None, eta=None, **options: calls.append((args, eta)),
    )
    return calls


def test_a_job_pauses_at_the_cap_and_resumes_in_the_next_month(
    queued, monkeypatch, django_capture_on_commit_callbacks, admin_client
):
    PricedBackend.calls = 0
    product_class = headphones_class()
    first, second = (headphones(product_class, title=f"Quietwave {n}") for n in (1, 2))
    params = GenerationParams(fields=["meta_title"])
    # A meta title is estimated at the prompt's characters / 4 plus max_tokens, and costs
    # less (the double reports 10 tokens in, 5 out).
    estimates = []
    reserve_amount = budgets.reserve_amount
    monkeypatch.setattr(
        budgets,
        "reserve_amount",
        lambda feature, amount, **kw: (
            estimates.append(amount) or reserve_amount(feature, amount, **kw)
        ),
    )
    with override_settings(OSCAR_GPT=settings_with_cap("1000")):
        job = service.start_job([first.pk, second.pk], params, enqueue=False)
        service.run_job_chunk(job.pk, [first.pk])
    spent = BudgetPeriod.objects.get(feature="descriptions", period="month").spent
    assert 0 < spent < estimates[0] and PricedBackend.calls == 1
    cap = str(estimates[0] + spent / 2)  # pays for one call a month, not for two

    with override_settings(OSCAR_GPT=settings_with_cap(cap)):
        with django_capture_on_commit_callbacks(execute=True):
            service.run_job_chunk(job.pk, [second.pk])
    job.refresh_from_db()
    resumes = timezone.make_aware(
        dt.datetime.combine(first_of_next_month(budgets.shop_today()), dt.time.min),
        timezone.get_default_timezone(),
    )
    assert (job.status, job.paused_for, job.resumes_at) == ("paused", "month", resumes)
    assert PricedBackend.calls == 1  # the second product's call was never made
    items = dict(job.items.values_list("product_id", "status"))
    assert items == {first.pk: "done", second.pk: "pending"}  # nothing lost
    assert Draft.objects.filter(job=job).count() == 1  # what was paid for is kept
    assert LedgerEntry.objects.filter(status="refused", feature="descriptions").count() == 1
    assert queued == [((job.pk, [second.pk]), resumes)]

    # The shop owner sees why and until when.
    with override_settings(OSCAR_GPT=settings_with_cap(cap)):
        page = admin_client.get(reverse("oscar_gpt_dashboard:job-detail", args=[job.pk]))
    text = " ".join(page.content.decode().split())
    assert "Paused: the monthly budget for descriptions is spent; resumes on" in text
    assert 'id="job-paused"' in text

    # The next month: the worker runs the queued chunk, under the same cap.
    next_month = first_of_next_month(budgets.shop_today())
    monkeypatch.setattr(budgets, "shop_today", lambda: next_month)
    with override_settings(OSCAR_GPT=settings_with_cap(cap)):
        (args, _eta) = queued[-1]
        generate_descriptions.apply(args=args).get()
    job.refresh_from_db()
    assert (job.status, job.paused_for, job.resumes_at) == ("done", "", None)
    assert not job.items.filter(status=GenerationJobItem.Status.PENDING).exists()
    assert Draft.objects.filter(job=job).count() == 2
    assert PricedBackend.calls == 2


def test_a_draft_already_paid_for_is_kept_when_its_regeneration_is_refused():
    """A draft with unsupported claims is regenerated; at the cap it is stored as it is."""
    from oscar_gpt import llm
    from oscar_gpt.descriptions.facts import product_facts
    from oscar_gpt.descriptions.prompts import build_messages, max_tokens_for

    PricedBackend.calls = 0
    product = headphones(headphones_class())
    params = GenerationParams(fields=["meta_title"])
    shop = settings_with_cap("1000") | {"DESCRIPTIONS_REGENERATE_ATTEMPTS": 2}
    shop["BACKENDS"]["paid"]["CONFIG"] = {"TEXT": "50 hours of steel", "EXTERNAL": False}
    with override_settings(OSCAR_GPT=shop):
        messages = build_messages(
            product_facts(product), "meta_title", params, product.get_product_class()
        )
        backend = llm.get_backend("paid")
        estimate = budgets.estimate(backend, [messages], max_tokens_for("meta_title", params))
        cost = backend.cost(10, 5)
    # room for the first attempt, not for a second one after it
    shop["BUDGETS"] = {"descriptions": {"MONTHLY": str(estimate + cost / 2)}}
    with override_settings(OSCAR_GPT=shop):
        job = service.start_job([product.pk], params, enqueue=False)
        service.run_job_chunk(job.pk, [product.pk])
    job.refresh_from_db()
    draft = Draft.objects.get(job=job)
    assert PricedBackend.calls == 1
    assert draft.flagged and draft.text == "50 hours of steel"
    assert job.status == "done" and job.items.get().status == "done"


def test_a_cancelled_job_is_not_queued_again(queued, django_capture_on_commit_callbacks):
    product = headphones(headphones_class())
    with override_settings(OSCAR_GPT=settings_with_cap("0")):
        job = service.start_job(
            [product.pk], GenerationParams(fields=["meta_title"]), enqueue=False
        )
        service.cancel_job(job)
        with django_capture_on_commit_callbacks(execute=True):
            service.pause_job(job, _refusal(), [product.pk])
    job.refresh_from_db()
    assert job.status == GenerationJob.Status.CANCELLED and queued == []


def _refusal():
    from oscar_gpt.llm.errors import BudgetExceeded

    return BudgetExceeded("descriptions", "month", 0, timezone.now() + dt.timedelta(days=1))
