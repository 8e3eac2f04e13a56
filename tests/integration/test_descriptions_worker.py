"""A bulk description job runs in a real Celery worker with the real local model."""

import pytest

from oscar_gpt.descriptions import service
from oscar_gpt.descriptions.prompts import GenerationParams
from oscar_gpt.models import Draft, GenerationJob, GenerationJobItem, LedgerEntry
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_bulk_job_in_a_worker(celery_worker_process, settings):
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "DESCRIPTIONS_BATCH_SIZE": 2}
    product_class = headphones_class()
    products = [
        headphones(product_class, title=f"Quietwave {n}", battery_life_hours=20 + n)
        for n in range(3)
    ]
    from oscar.test.factories import create_product

    thin = create_product(title="Mystery box")  # a bare title: no model call for it
    doomed = headphones(product_class, title="Discontinued")
    job = service.start_job(
        [p.pk for p in [*products, thin, doomed]], GenerationParams(length="short")
    )
    doomed.delete()  # deleted while the job is queued
    job = wait_for(
        lambda: GenerationJob.objects.filter(pk=job.pk, status="done").first(),
        timeout=600,
        worker=celery_worker_process,
    )
    items = {i.product_title: i for i in job.items.all()}
    assert all(items[p.title].status == GenerationJobItem.Status.DONE for p in products)
    assert items["Mystery box"].status == "failed" and "attributes" in items["Mystery box"].reason
    assert items["Discontinued"].status == "failed" and "deleted" in items["Discontinued"].reason
    drafts = Draft.objects.filter(job=job)
    assert drafts.count() == 3 and set(drafts.values_list("status", flat=True)) == {"pending"}
    assert not Draft.objects.filter(product=thin).exists()
    for draft in drafts:
        assert draft.text and draft.backend == "local"
        assert draft.ledger_entries.filter(status="ok").count() == draft.attempts
    assert LedgerEntry.objects.filter(feature="descriptions", status="ok").count() == sum(
        d.attempts for d in drafts
    )
    # Running the same request again skips products that already have a pending draft.
    again = service.start_job([p.pk for p in products], GenerationParams(length="short"))
    again = wait_for(
        lambda: GenerationJob.objects.filter(pk=again.pk, status="done").first(),
        timeout=120,
        worker=celery_worker_process,
    )
    assert set(again.items.values_list("status", flat=True)) == {"skipped"}
    assert Draft.objects.filter(job=job, status="pending").count() == 3
