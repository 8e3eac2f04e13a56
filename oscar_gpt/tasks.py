"""Celery tasks: they take primary keys or aliases, call a service, and nothing else.

Every task is ``acks_late`` (a worker killed mid-task leaves the message to be redelivered)
and retries with exponential back-off when a backend fails in a way that may pass.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .app_settings import app_settings
from .llm.errors import BackendTimeout, BackendUnavailable, RateLimited

#: Errors after which a later retry may succeed.
RETRYABLE_ERRORS = (RateLimited, BackendTimeout, BackendUnavailable)
#: The database closed the task's connection (a restart, a failover, an administrator):
#: the retry runs on a new one (Celery's Django fixup closes the old one before each task).
DATABASE_ERRORS = (InterfaceError, OperationalError)

#: Which kind of work each task is: a shopper is waiting for "shopper" work; "bulk" work
#: (catalogue jobs, re-indexing, housekeeping) can wait. See :func:`route_task`.
TASK_KINDS = {
    "oscar_gpt.answer_question": "shopper",
    "oscar_gpt.check_backend": "shopper",
    "oscar_gpt.generate_descriptions": "bulk",
    "oscar_gpt.refresh_evidence": "bulk",
    "oscar_gpt.purge_ledger": "bulk",
    "oscar_gpt.rebuild_recommendations": "bulk",
    "oscar_gpt.update_recommendations": "bulk",
    "oscar_gpt.write_recommendation_sentence": "bulk",
    "oscar_gpt.export_training_data": "bulk",
    "oscar_gpt.submit_hosted_finetune": "bulk",
    "oscar_gpt.poll_finetune_jobs": "bulk",
    # Minutes to hours on one worker: a queue of its own keeps description jobs moving.
    "oscar_gpt.finetune_local": "finetune",
}
#: A kind without a queue of its own goes where this kind goes.
KIND_FALLBACKS = {"finetune": "bulk"}


def route_task(name, args, kwargs, options, task=None, **kw):
    """A Celery router: ``CELERY_TASK_ROUTES = ("oscar_gpt.tasks.route_task",)`` sends the
    app's tasks to the queues named in ``OSCAR_GPT["TASK_QUEUES"]`` (e.g. ``{"shopper":
    "gpt-shopper", "bulk": "gpt-bulk"}``), so workers of their own serve shoppers and a bulk
    job never delays an answer; ``"finetune"`` gives local fine-tuning a worker of its own
    (else it goes with the bulk work). Tasks of other apps, and kinds without a queue, are left to
    Celery's defaults."""
    kind = TASK_KINDS.get(name) or next(
        (
            kind
            for prefix, kind in app_settings.TASK_KIND_PREFIXES.items()
            if name.startswith(prefix)
        ),
        None,
    )
    queues = app_settings.TASK_QUEUES
    queue = (queues.get(kind) or queues.get(KIND_FALLBACKS.get(kind, ""))) if kind else None
    return {"queue": queue} if queue else None


def model_task(**options):
    """``shared_task`` with the retry policy every model-calling task shares."""
    defaults = {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": RETRYABLE_ERRORS + DATABASE_ERRORS,
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
    as a new message with ``eta`` = when the budget resets (so a pause costs no retries).
    When the backends stay down through every retry, the chunk's products fail, so the job
    ends (and "retry failed" can queue them again) instead of running forever."""
    from .descriptions.service import fail_chunk, run_job_chunk

    try:
        run_job_chunk(job_id, product_ids)
    except RETRYABLE_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            fail_chunk(job_id, product_ids, exc)
            return
        raise


@model_task(name="oscar_gpt.answer_question")
def answer_question(self, question_id: int) -> None:
    """Answer a shopper's queued question from the product's evidence."""
    from .qa.service import QuestionBusy, answer, give_up

    try:
        answer(question_id)
    except QuestionBusy as exc:
        # Another worker is generating this answer: look again once its claim has run out
        # (nothing left to do then, or its worker died and the question is free again).
        raise self.retry(countdown=exc.seconds + 1, max_retries=self.max_retries + 3) from exc
    except RETRYABLE_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            give_up(question_id, type(exc).__name__)  # the shopper is told; staff answer
            return
        raise


@shared_task(name="oscar_gpt.refresh_evidence", acks_late=True, ignore_result=True)
def refresh_evidence(product_id: int) -> None:
    """Re-embed a product's Q&A evidence and its product vector after it changed."""
    from .qa.service import refresh
    from .recommendations.embeddings import refresh_vectors

    refresh(product_id)
    refresh_vectors([product_id])  # the finder's and the recommendations' product vector


@shared_task(name="oscar_gpt.purge_ledger", ignore_result=True)
def purge_ledger() -> int:
    """Delete ledger rows older than ``OSCAR_GPT["LEDGER_RETENTION_DAYS"]`` (0/None: keep)."""
    from .spend import purge_expired

    return purge_expired()


# -- fine-tuning (oscar_gpt.finetune) ---------------------------------------------------------


@shared_task(name="oscar_gpt.export_training_data", acks_late=True, ignore_result=True)
def export_training_data(export_id: int) -> None:
    """Write a training data export's files and summary."""
    from .finetune.service import run_export

    run_export(export_id)


@shared_task(
    name="oscar_gpt.finetune_local",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def finetune_local(job_id: int) -> None:
    """Fine-tune a local model (minutes to hours). A worker that dies mid-run leaves the
    message to another, which resumes from the last checkpoint; a second delivery while the
    first still runs finds the job busy and returns."""
    from .finetune.service import run_local

    run_local(job_id)


@model_task(name="oscar_gpt.submit_hosted_finetune")
def submit_hosted_finetune(self, job_id: int) -> None:
    """Upload the training files and create the hosted fine-tuning job (retried while the
    provider can't be reached; uploads already made are not repeated)."""
    from .finetune.service import submit_hosted

    submit_hosted(job_id)


@shared_task(name="oscar_gpt.poll_finetune_jobs", ignore_result=True)
def poll_finetune_jobs() -> dict:
    """Follow the hosted fine-tuning jobs that are not finished (periodic: every minute or
    few, e.g. ``CELERY_BEAT_SCHEDULE["oscar-gpt-poll-finetune"]`` in the sandbox)."""
    from .finetune.service import poll_hosted

    return poll_hosted()


@shared_task(name="oscar_gpt.rebuild_recommendations", acks_late=True, ignore_result=True)
def rebuild_recommendations() -> dict:
    """Refit every recommendation model and rewrite every list (periodic, and after a
    shop-wide rule changed)."""
    from .recommendations.service import rebuild

    build = rebuild()
    return {"build": build.pk, **build.stats}


@shared_task(name="oscar_gpt.update_recommendations", acks_late=True, ignore_result=True)
def update_recommendations(product_ids: list[int] | None = None) -> dict:
    """Bring the recommendation lists up to date with new events (and ``product_ids``)."""
    from .recommendations.service import update

    return update(product_ids or ())


@model_task(name="oscar_gpt.write_recommendation_sentence", ignore_result=True)
def write_recommendation_sentence(self, product_id: int, via_id: int) -> None:
    """Write and cache the optional sentence beside a recommendation's reason."""
    from .recommendations.service import write_sentence

    write_sentence(product_id, via_id)
