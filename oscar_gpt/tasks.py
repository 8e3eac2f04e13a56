"""Celery tasks: they take primary keys or aliases, call a service, and nothing else.

Every task is ``acks_late`` (a worker killed mid-task leaves the message to be redelivered)
and retries with exponential back-off when a backend fails in a way that may pass.
"""

from __future__ import annotations

from celery import shared_task

from .app_settings import app_settings
from .llm.errors import BackendTimeout, BackendUnavailable, RateLimited

#: Errors after which a later retry may succeed.
RETRYABLE_ERRORS = (RateLimited, BackendTimeout, BackendUnavailable)

#: Which kind of work each task is: a shopper is waiting for "shopper" work; "bulk" work
#: (catalogue jobs, re-indexing, housekeeping) can wait. See :func:`route_task`.
TASK_KINDS = {
    "oscar_gpt.answer_question": "shopper",
    "oscar_gpt.check_backend": "shopper",
    "oscar_gpt.generate_descriptions": "bulk",
    "oscar_gpt.refresh_evidence": "bulk",
    "oscar_gpt.purge_ledger": "bulk",
}


def route_task(name, args, kwargs, options, task=None, **kw):
    """A Celery router: ``CELERY_TASK_ROUTES = ("oscar_gpt.tasks.route_task",)`` sends the
    app's tasks to the queues named in ``OSCAR_GPT["TASK_QUEUES"]`` (e.g. ``{"shopper":
    "gpt-shopper", "bulk": "gpt-bulk"}``), so workers of their own serve shoppers and a bulk
    job never delays an answer. Tasks of other apps, and kinds without a queue, are left to
    Celery's defaults."""
    kind = TASK_KINDS.get(name) or next(
        (
            kind
            for prefix, kind in app_settings.TASK_KIND_PREFIXES.items()
            if name.startswith(prefix)
        ),
        None,
    )
    queue = app_settings.TASK_QUEUES.get(kind) if kind else None
    return {"queue": queue} if queue else None


def model_task(**options):
    """``shared_task`` with the retry policy every model-calling task shares."""
    defaults = {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": RETRYABLE_ERRORS,
        "retry_backoff": True,
        "retry_backoff_max": app_settings.TASK_RETRY_BACKOFF_MAX,
        "retry_jitter": True,
        "max_retries": app_settings.TASK_MAX_RETRIES,
    }
    return shared_task(**(defaults | options))


@model_task(name="oscar_gpt.check_backend")
def check_backend(self, alias: str) -> dict:
    """A tiny completion on ``alias`` from a worker; the call lands in the ledger."""
    from .diagnostics import probe_backend

    return probe_backend(alias).as_dict()


@model_task(name="oscar_gpt.generate_descriptions")
def generate_descriptions(self, job_id: int, product_ids: list[int]) -> None:
    """Generate drafts for a chunk of a job's products (batched on the local backend).

    At the descriptions budget's cap the service pauses the job and queues this chunk again,
    as a new message with ``eta`` = when the budget resets (so a pause costs no retries)."""
    from .descriptions.service import run_job_chunk

    run_job_chunk(job_id, product_ids)


@model_task(name="oscar_gpt.answer_question")
def answer_question(self, question_id: int) -> None:
    """Answer a shopper's queued question from the product's evidence."""
    from .qa.service import answer, give_up

    try:
        answer(question_id)
    except RETRYABLE_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            give_up(question_id, type(exc).__name__)  # the shopper is told; staff answer
            return
        raise


@shared_task(name="oscar_gpt.refresh_evidence", acks_late=True, ignore_result=True)
def refresh_evidence(product_id: int) -> None:
    """Re-embed a product's Q&A evidence after it changed."""
    from .qa.service import refresh

    refresh(product_id)


@shared_task(name="oscar_gpt.purge_ledger", ignore_result=True)
def purge_ledger() -> int:
    """Delete ledger rows older than ``OSCAR_GPT["LEDGER_RETENTION_DAYS"]`` (0/None: keep)."""
    from .spend import purge_expired

    return purge_expired()
