"""The sandbox shop and the ledger as a person sees them in a real browser."""

import pytest
from oscar.test.factories import create_product

from oscar_gpt.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_shopper_sees_the_catalogue(live_server, page):
    create_product(title="Quietwave Pro headphones", price=129, num_in_stock=5)
    page.goto(f"{live_server.url}/en-gb/catalogue/")
    assert page.get_by_role("link", name="Quietwave Pro headphones").first.is_visible()
    page.get_by_role("link", name="Quietwave Pro headphones").first.click()
    assert page.locator("h1").inner_text() == "Quietwave Pro headphones"


def test_staff_reads_the_ledger_in_the_admin(live_server, page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "s3cret-pass")
    LedgerEntry.objects.create(
        feature="descriptions",
        backend="openai",
        model="gpt-4o-mini",
        status="ok",
        prompt_tokens=1200,
        completion_tokens=300,
        cost="0.00036",
        latency_ms=850,
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/oscar_gpt/ledgerentry/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/oscar_gpt/ledgerentry/")
    row = page.locator("#result_list tbody tr").first
    assert "gpt-4o-mini" in row.inner_text() and "1200" in row.inner_text()
    # The ledger is written by the model layer only: no "add" in the admin.
    assert page.locator("#content .object-tools a.addlink").count() == 0
    assert page.locator("tr.model-ledgerentry").count() == 1  # listed in the side menu...
    assert page.locator("tr.model-ledgerentry a.addlink").count() == 0  # ...without "Add"
    assert page.locator("tr.model-productclass a.addlink").count() == 1  # unlike other models
