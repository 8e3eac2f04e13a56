"""A reviewer sees the wording check beside the claims check, and can still approve."""

import pytest
from django.urls import reverse

from oscar_gpt.descriptions.service import as_html
from oscar_gpt.models import Draft
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client, django_user_model):
    user = django_user_model.objects.create_superuser("owner", "owner@example.com", "pw")
    client.force_login(user)
    return user


def test_review_page_shows_wording_flags_and_approval_still_works(client, owner, settings):
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "WORDING": {"BANNED": ["bargain"]}}
    product = headphones(headphones_class(), description="The original description.")
    draft = Draft.objects.create(
        product=product,
        field="description",
        text="The best <b>bargain</b> headphones for men, clinically proven.",
        params_hash="h",
        backend="local",
        model="m",
        language="en-gb",
    )
    url = reverse("oscar_gpt_dashboard:draft-review", args=[draft.pk])

    page = client.get(url)

    assert page.status_code == 200
    content = page.content.decode()
    assert 'id="wording-flags"' in content
    assert '<mark class="oscar-gpt-wording" title="“bargain” is on the shop' in content
    assert "“clinically proven” is a health or safety claim" in content
    assert "“for men” is gendered wording" in content
    # the draft's own markup is shown, never rendered
    assert "&lt;b&gt;<mark" in content and "<b>bargain" not in content

    # a product class sold by gender: gendered wording is fine there
    settings.OSCAR_GPT = {
        **settings.OSCAR_GPT,
        "WORDING": {"GENDERED_CLASSES": ["headphones"]},
    }
    content = client.get(url).content.decode()
    assert "clinically proven" in content and "is gendered wording" not in content

    # the flags inform; they do not block approval
    response = client.post(url, {"action": "approve", "text": draft.text})
    assert response.status_code == 302
    draft.refresh_from_db()
    product.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED and product.description == as_html(draft.text)
