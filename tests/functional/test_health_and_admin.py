"""The app's health endpoint and the read-only ledger admin, through Django's test client."""

import pytest
from django.test import override_settings

from oscar_gpt.models import LedgerEntry

pytestmark = pytest.mark.django_db

LOCAL = {"CLASS": "oscar_gpt.llm.local.TransformersBackend", "CONFIG": {}}
OPENAI = {"CLASS": "oscar_gpt.llm.openai.OpenAIBackend", "CONFIG": {"MODEL": "gpt-4o-mini"}}


def test_health_lists_each_features_backend_chain(client):
    config = {
        "BACKENDS": {"local": LOCAL, "openai": OPENAI},
        "FEATURES": {"qa": ["openai", "local"], "descriptions": "local"},
    }
    with override_settings(OSCAR_GPT=config):
        response = client.get("/en-gb/gpt/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "features": {"check": ["local"], "descriptions": ["local"], "qa": ["openai", "local"]},
    }


def test_ledger_admin_is_read_only(admin_client):
    entry = LedgerEntry.objects.create(
        feature="qa", backend="local", model="m", status="ok", prompt_tokens=3
    )
    listing = admin_client.get("/admin/oscar_gpt/ledgerentry/")
    assert listing.status_code == 200 and b"qa" in listing.content
    assert admin_client.get("/admin/oscar_gpt/ledgerentry/add/").status_code == 403
    detail = admin_client.get(f"/admin/oscar_gpt/ledgerentry/{entry.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    deleted = admin_client.post(f"/admin/oscar_gpt/ledgerentry/{entry.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403 and LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_customers_cannot_see_the_ledger(client, django_user_model):
    django_user_model.objects.create_user("shopper", "s@example.com", "pw")
    client.login(username="shopper", password="pw")
    response = client.get("/admin/oscar_gpt/ledgerentry/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
