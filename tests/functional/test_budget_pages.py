"""The spend page warns a shop owner when a budget nears its cap and says so at the cap."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from oscar_gpt import budgets
from oscar_gpt.models import BudgetPeriod

pytestmark = pytest.mark.django_db

SPEND_URL = reverse("oscar_gpt_dashboard:spend")
BUDGETS = {"qa": {"DAILY": "1.00", "MONTHLY": "20.00"}, "descriptions": {"MONTHLY": "50"}}


def spent(feature: str, period: str, amount: str) -> None:
    BudgetPeriod.objects.create(
        feature=feature,
        period=period,
        starts=budgets.period_starts(period),
        spent=Decimal(amount),
    )


def alerts(client) -> list[str]:
    html = client.get(SPEND_URL).content.decode()
    return [" ".join(part.split("</div>")[0].split()) for part in html.split("budget-alert")[1:]]


def test_no_banner_below_the_warning_share(admin_client):
    spent("qa", "day", "0.79")
    with override_settings(OSCAR_GPT={"BUDGETS": BUDGETS}):
        assert alerts(admin_client) == []


def test_a_warning_at_80_percent_and_a_danger_banner_at_the_cap(admin_client):
    spent("qa", "day", "0.85")
    spent("descriptions", "month", "50.00")
    with override_settings(OSCAR_GPT={"BUDGETS": BUDGETS}):
        shown = alerts(admin_client)
    assert len(shown) == 2
    warning = next(a for a in shown if 'data-feature="qa"' in a)
    danger = next(a for a in shown if 'data-feature="descriptions"' in a)
    assert "alert-warning" in warning and "alert-danger" not in warning
    assert "qa has used 85% of its daily budget ($0.85 of $1.00)" in warning
    assert "alert-danger" in danger
    assert "The monthly budget of descriptions is spent ($50.00 of $50.00)" in danger
    assert "Calls to paid models are refused until" in danger


def test_the_warning_share_is_a_setting(admin_client):
    spent("qa", "month", "10.00")
    with override_settings(OSCAR_GPT={"BUDGETS": BUDGETS, "BUDGET_WARN_AT": 0.5}):
        assert len(alerts(admin_client)) == 1
    with override_settings(OSCAR_GPT={"BUDGETS": BUDGETS}):
        assert alerts(admin_client) == []
