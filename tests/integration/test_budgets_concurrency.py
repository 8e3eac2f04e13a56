"""Budgets hold with many workers at once: against PostgreSQL, threads that each have their
own database connection reserve together, and no more calls get through than the cap pays for.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from oscar_gpt import budgets, llm
from oscar_gpt.llm.errors import BudgetExceeded
from oscar_gpt.models import BudgetPeriod, LedgerEntry
from tests.unit.test_budgets import PROMPT, PricedBackend, config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

#: Workers started at once, and how many calls the cap pays for.
WORKERS = 12
FITS = 5


class SlowPricedBackend(PricedBackend):
    """Takes a moment to answer, so the other workers reserve while calls are in flight."""

    def complete(self, messages, **params):
        time.sleep(0.2)
        return super().complete(messages, **params)


def run_together(work, count: int = WORKERS) -> list:
    """Run ``work`` in ``count`` threads released at the same moment; each thread has its own
    connection, closed when it is done. Returns what each returned or raised."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def worker(index):
        try:
            start.wait()
            results[index] = work()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each worker got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_reservations_never_pass_the_cap(postgres):
    amount = Decimal("0.25")
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": str(amount * FITS)}})):
        results = run_together(lambda: budgets.reserve_amount("qa", amount))
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    reserved = [r for r in results if isinstance(r, budgets.Reservation)]
    assert (len(reserved), len(refused)) == (FITS, WORKERS - FITS), results
    row = BudgetPeriod.objects.get(feature="qa", period="day")  # one row, made by one worker
    assert (row.reserved, row.spent) == (amount * FITS, 0)


def test_concurrent_calls_stop_exactly_at_the_cap(postgres, mailoutbox):
    """Twelve workers ask at once; the cap pays for five calls (estimated and costing $0.20
    each: 10 tokens in, 10 out): five answer, seven are refused, and staff hear of it once."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@shop.example", "pw")
    PricedBackend.calls = 0
    shop = config(
        {"qa": {"DAILY": str(Decimal("0.20") * FITS), "MONTHLY": "100"}},
        warn_at=0.5,
        COMPLETION_TOKENS=10,
    )
    shop["BACKENDS"]["paid"]["CLASS"] = f"{__name__}.SlowPricedBackend"
    with override_settings(OSCAR_GPT=shop):
        results = run_together(lambda: llm.chat("qa", PROMPT, max_tokens=10))
    answered = [r for r in results if isinstance(r, llm.Completion)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert (len(answered), len(refused)) == (FITS, WORKERS - FITS), results
    assert PricedBackend.calls == FITS
    day = BudgetPeriod.objects.get(feature="qa", period="day")
    month = BudgetPeriod.objects.get(feature="qa", period="month")
    assert (day.spent, day.reserved) == (Decimal("1.00"), 0)
    assert (month.spent, month.reserved) == (Decimal("1.00"), 0)
    assert LedgerEntry.objects.filter(status="ok").count() == FITS
    assert LedgerEntry.objects.filter(status="refused").count() == WORKERS - FITS
    assert day.warned_at is not None and month.warned_at is None
    assert len(mailoutbox) == 1
