"""A real Celery worker (Redis broker, PostgreSQL database) runs a model task."""

import pytest

from oscar_gpt.models import LedgerEntry
from oscar_gpt.tasks import check_backend
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_worker_runs_a_local_model_task_and_writes_the_ledger(celery_worker_process):
    assert not LedgerEntry.objects.exists()
    celery_worker_process.send(check_backend, "local")
    entry = wait_for(
        lambda: LedgerEntry.objects.filter(feature="check").first(),
        worker=celery_worker_process,
    )
    assert entry.backend == "local" and entry.status == "ok"
    assert entry.model == "SmolLM2-135M-Instruct.Q4_1"
    assert entry.prompt_tokens > 0 and entry.completion_tokens > 0
    assert "Task oscar_gpt.check_backend" in celery_worker_process.log()


def test_the_task_returns_the_probe_and_reports_failures(celery_worker_process):
    ok = celery_worker_process.result(celery_worker_process.send(check_backend, "local"))
    assert ok["ok"] is True and ok["device"].startswith("cpu") and ok["completion_tokens"] > 0
    # An alias the worker's settings don't define: reported as a failed probe, not retried.
    failed = celery_worker_process.result(
        celery_worker_process.send(check_backend, "no-such-backend")
    )
    assert failed["ok"] is False and "Unknown backend alias" in failed["error"]
