"""Old ledger rows are purged by age, in batches, from the command or the periodic task."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from oscar_gpt import spend
from oscar_gpt.models import Draft, LedgerEntry
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db


def aged(days: float, **fields) -> LedgerEntry:
    """A ledger row written ``days`` days ago."""
    row = LedgerEntry.objects.create(
        **{"feature": "qa", "backend": "local", "model": "m", "status": "ok"} | fields
    )
    LedgerEntry.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days)
    )
    return row


@pytest.fixture
def ages():
    """Rows 1, 29, 31, 100, 400 and 800 days old."""
    return {days: aged(days) for days in (1, 29, 31, 100, 400, 800)}


def kept() -> list[int]:
    now = timezone.now()
    return sorted((now - e.created_at).days for e in LedgerEntry.objects.all())


def test_rows_older_than_n_days_go_newer_stay(ages):
    assert spend.purge_older_than(30) == 4
    assert kept() == [1, 29]
    assert spend.purge_older_than(30) == 0


def test_purge_in_small_batches_deletes_everything_old(ages, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        assert spend.purge_older_than(2, batch_size=2) == 5
    assert kept() == [1]


def test_purge_drops_a_drafts_link_to_an_old_call_not_the_draft():
    old, recent = aged(60), aged(1)
    draft = Draft.objects.create(
        product=headphones(headphones_class()),
        field="description",
        text="t",
        language="en-gb",
        params_hash="x",
        backend="local",
        model="m",
    )
    draft.ledger_entries.set([old, recent])
    assert spend.purge_older_than(30) == 1
    assert list(Draft.objects.get(pk=draft.pk).ledger_entries.all()) == [recent]


def test_purge_refuses_a_zero_or_negative_age(ages):
    for days in (0, -5):
        with pytest.raises(ValueError):
            spend.purge_older_than(days)
    assert LedgerEntry.objects.count() == 6


def test_purge_expired_follows_the_retention_setting(ages, settings):
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "LEDGER_RETENTION_DAYS": 0}
    assert spend.purge_expired() == 0 and LedgerEntry.objects.count() == 6
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "LEDGER_RETENTION_DAYS": None}
    assert spend.purge_expired() == 0 and LedgerEntry.objects.count() == 6
    settings.OSCAR_GPT = {
        k: v for k, v in settings.OSCAR_GPT.items() if k != "LEDGER_RETENTION_DAYS"
    }
    assert spend.purge_expired() == 2  # the default keeps 365 days
    assert kept() == [1, 29, 31, 100]
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "LEDGER_RETENTION_DAYS": 50}
    assert spend.purge_expired() == 1
    assert kept() == [1, 29, 31]


def run(*args) -> str:
    out = io.StringIO()
    call_command("oscar_gpt_purge_ledger", *args, stdout=out)
    return out.getvalue()


def test_command_with_days(ages):
    assert "Deleted 3 ledger entries older than 90 days." in run(
        "--days", "90", "--batch-size", "1"
    )
    assert kept() == [1, 29, 31]


def test_command_without_days_applies_the_setting(ages, settings):
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "LEDGER_RETENTION_DAYS": 30}
    assert "Deleted 4 ledger entries older than 30 days." in run()
    assert kept() == [1, 29]
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "LEDGER_RETENTION_DAYS": 0}
    assert "kept forever" in run()
    assert LedgerEntry.objects.count() == 2


def test_command_refuses_nonsense(ages):
    with pytest.raises(CommandError, match="--days must be at least 1"):
        run("--days", "0")
    with pytest.raises(CommandError, match="--batch-size"):
        run("--days", "5", "--batch-size", "0")
    assert LedgerEntry.objects.count() == 6
