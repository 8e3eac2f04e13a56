"""A shop owner generates, reviews, approves and restores product copy in Oscar's dashboard.

The generation task runs eagerly in the test process with the real local model: this test is
about what the owner sees and clicks. tests/integration covers the real worker.
"""

import re

import pytest
from django.urls import reverse

from oscar_gpt.descriptions.service import as_html
from oscar_gpt.models import Draft, GenerationJob, Revision
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CONTROLS = {
    "product_fields": ["description"],
    "tone": "friendly",
    "length": "short",
    "language": "en-gb",
    "format": "paragraph",
    "keywords": "",
    "audience": "",
    "instructions": "",
    "variants": "1",
}


@pytest.fixture
def owner(client, django_user_model):
    user = django_user_model.objects.create_superuser("owner", "owner@example.com", "pw")
    client.force_login(user)
    return user


def test_owner_generates_reviews_approves_and_restores(
    client, owner, eager_celery, local_backend, django_capture_on_commit_callbacks
):
    product = headphones(headphones_class(), description="The original description.")
    # 1. select the product in Oscar's product list and pick our bulk action
    listing = client.get(reverse("dashboard:catalogue-product-list"))
    assert b"Generate descriptions" in listing.content
    response = client.post(
        reverse("dashboard:catalogue-product-list"),
        {
            "action": "oscar_gpt_generate_descriptions",
            "selected_product": [product.pk],
        },
    )
    assert response.status_code == 302 and "bulk-action" in response["Location"]
    form_page = client.get(response["Location"])
    assert form_page.status_code == 200 and b"What to write" in form_page.content
    # 2. submit the controls: the job is queued and (eagerly) run on commit
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            response["Location"], {**CONTROLS, "selected_products": [product.pk]}, follow=True
        )
    job = GenerationJob.objects.get()
    assert f"follow job #{job.pk}" in done.content.decode()
    # 3. watch the job
    page = client.get(reverse("oscar_gpt_dashboard:job-detail", args=[job.pk]))
    assert page.status_code == 200
    job.refresh_from_db()
    assert job.status == GenerationJob.Status.DONE
    progress = client.get(reverse("oscar_gpt_dashboard:job-progress", args=[job.pk])).json()
    assert progress["done"] == progress["total"] == 1 and progress["percent"] == 100
    draft = Draft.objects.get(product=product)
    assert draft.status == Draft.Status.PENDING and draft.text
    assert draft.backend == "local" and draft.ledger_entries.count() == draft.attempts >= 1
    # 4. review: the page shows the current text, the draft and the claims check
    review_url = reverse("oscar_gpt_dashboard:draft-review", args=[draft.pk])
    review = client.get(review_url)
    assert b"The original description." in review.content
    assert "Approve" in review.content.decode()
    # an edit the owner writes, stating only facts, is re-checked and passes
    text = "Wireless, noise cancelling headphones with a 30 hour battery. They weigh 250 g."
    client.post(review_url, {"text": text, "action": "save"})
    draft.refresh_from_db()
    assert draft.edited and draft.text == text and draft.unsupported_claims == 0
    # 5. approve: published to the product, a revision keeps the old text
    client.post(review_url, {"text": text, "action": "approve"})
    draft.refresh_from_db()
    product.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED and draft.reviewed_by == owner
    assert product.description == as_html(text)
    storefront = client.get(product.get_absolute_url())
    assert as_html(text) in storefront.content.decode()
    revision = Revision.objects.get(product=product)
    assert (revision.before, revision.after) == ("The original description.", as_html(text))
    # 6. restore the old text from the history page
    history = reverse("oscar_gpt_dashboard:revision-list", args=[product.pk])
    client.post(history, {"revision": revision.pk})
    product.refresh_from_db()
    assert product.description == "The original description."
    assert "The original description." in client.get(product.get_absolute_url()).content.decode()
    assert Revision.objects.filter(product=product, restored_from=revision).count() == 1


def test_a_flagged_draft_needs_a_written_reason(client, owner, local_backend):
    from oscar_gpt.descriptions import service
    from oscar_gpt.descriptions.prompts import GenerationParams

    product = headphones(headphones_class())
    service.generate_drafts([product], GenerationParams())
    draft = Draft.objects.get(product=product)
    invented = "Waterproof headphones with a 50 hour battery, made of steel."
    url = reverse("oscar_gpt_dashboard:draft-review", args=[draft.pk])
    page = client.post(url, {"text": invented, "action": "approve"})
    draft.refresh_from_db()
    assert draft.status == Draft.Status.PENDING and draft.unsupported_claims >= 3
    content = page.content.decode()
    assert "unsupported claim" in content and "give a reason" in content
    assert re.search(r'<mark class="oscar-gpt-unsupported"[^>]*>50 hour', content)
    product.refresh_from_db()
    assert "50 hour" not in (product.description or "")
    client.post(
        url,
        {
            "text": invented,
            "action": "approve",
            "override_reason": "Checked with the supplier's new spec sheet.",
        },
    )
    draft.refresh_from_db()
    product.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED
    assert draft.override_reason == "Checked with the supplier's new spec sheet."
    assert product.description == as_html(invented)


def test_generate_page_validates_input(client, owner):
    url = reverse("oscar_gpt_dashboard:generate")
    page = client.post(url, {**CONTROLS, "target": "products", "products": ""})
    assert page.status_code == 200 and b"No products chosen" in page.content
    page = client.post(url, {**CONTROLS, "target": "products", "products": "1", "language": "xx"})
    assert b"is not one of the available choices" in page.content
    page = client.post(url, {**CONTROLS, "target": "category"})
    assert b"Choose a category" in page.content
    assert not GenerationJob.objects.exists()


def test_customers_and_anonymous_users_are_kept_out(client, django_user_model):
    pages = [reverse("oscar_gpt_dashboard:generate"), reverse("oscar_gpt_dashboard:draft-list")]
    for url in pages:
        assert client.get(url).status_code == 302  # to the login page
    django_user_model.objects.create_user("shopper", "s@example.com", "pw")
    client.login(username="shopper", password="pw")
    for url in pages:
        assert client.get(url).status_code in (302, 403)


def test_generate_page_for_a_category(client, owner, monkeypatch):
    from oscar.apps.catalogue.categories import create_from_breadcrumbs

    from oscar_gpt.descriptions import service

    monkeypatch.setattr(service, "enqueue_job", lambda job: None)
    product_class = headphones_class()
    inside, outside = headphones(product_class, title="In"), headphones(product_class, title="Out")
    category = create_from_breadcrumbs("Audio > Headphones")
    inside.categories.add(category)
    response = client.post(
        reverse("oscar_gpt_dashboard:generate"),
        {**CONTROLS, "target": "category", "category": category.pk},
    )
    job = GenerationJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/jobs/{job.pk}/")
    assert list(job.items.values_list("product_id", flat=True)) == [inside.pk]
    assert outside.pk not in job.items.values_list("product_id", flat=True)
