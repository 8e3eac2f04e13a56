"""Fine-tuning on OpenAI's side, through the official client of an OpenAI backend alias.

:func:`submit` uploads the export's chat JSONL (``purpose="fine-tune"``) and creates the job;
:func:`poll` (the periodic task calls :func:`poll_active`) follows it through
``validating_files``, ``queued``, ``running`` to ``succeeded`` (the fine-tuned model becomes
a backend alias), ``failed`` (the provider's error is kept) or ``cancelled``; :func:`cancel`
asks the provider to stop it. A failure that may pass (a timeout, a 429, a 5xx) is raised for
the calling task to retry; one that won't (a bad file, a refused key) fails the job with the
reason. Uploads already made are not made again on a retry.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import openai
from django.db import transaction
from django.utils import timezone

from ..llm.errors import BackendError, ConfigurationError
from ..llm.openai import OpenAIBackend, map_error
from ..models import FineTuneJob
from .export import FILES

logger = logging.getLogger(__name__)

#: OpenAI's statuses, which are ours.
STATUSES = {
    "validating_files": FineTuneJob.Status.VALIDATING_FILES,
    "queued": FineTuneJob.Status.QUEUED,
    "running": FineTuneJob.Status.RUNNING,
    "succeeded": FineTuneJob.Status.SUCCEEDED,
    "failed": FineTuneJob.Status.FAILED,
    "cancelled": FineTuneJob.Status.CANCELLED,
}


def backend(alias: str) -> OpenAIBackend:
    from ..llm.registry import get_backend

    candidate = get_backend(alias)
    if not isinstance(candidate, OpenAIBackend):
        raise ConfigurationError(
            f"Backend {alias!r} is not an OpenAI backend: hosted fine-tuning needs one."
        )
    return candidate


def _fail(job: FineTuneJob, message: str) -> FineTuneJob:
    job.status = FineTuneJob.Status.FAILED
    job.error = message[:4000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])
    return job


def _call(job: FineTuneJob, client_call):
    """Run one API call; a final error fails the job (returns None), a passing one is raised."""
    try:
        return client_call()
    except openai.OpenAIError as exc:
        error = map_error(exc, job.backend)
        if error.retryable:
            job.error = str(error)[:4000]
            job.save(update_fields=["error", "updated_at"])
            raise error from exc
        _fail(job, str(error))
        return None


def _upload(job: FineTuneJob, client, path: Path) -> str | None:
    with path.open("rb") as handle:
        uploaded = _call(
            job,
            lambda: client.files.create(file=(path.name, handle), purpose="fine-tune"),
        )
    return uploaded.id if uploaded is not None else None


def submit(job: FineTuneJob) -> FineTuneJob:
    """Upload the files and create the provider's job (what was done before is skipped)."""
    if job.finished or job.job_id:
        return job
    if job.export is None or not job.export.directory:
        return _fail(job, "The training data export is gone.")
    directory = Path(job.export.directory)
    train_file = directory / FILES["openai_train"]
    validation_file = directory / FILES["openai_validation"]
    if not train_file.is_file() or not train_file.stat().st_size:
        return _fail(job, f"No training examples in {train_file}.")
    try:
        client = backend(job.backend).client
    except ConfigurationError as exc:
        return _fail(job, str(exc))
    if not job.training_file_id:
        file_id = _upload(job, client, train_file)
        if file_id is None:
            return job
        job.training_file_id = file_id
        job.save(update_fields=["training_file_id", "updated_at"])
    if not job.validation_file_id and validation_file.is_file() and validation_file.stat().st_size:
        file_id = _upload(job, client, validation_file)
        if file_id is None:
            return job
        job.validation_file_id = file_id
        job.save(update_fields=["validation_file_id", "updated_at"])
    request = {
        "model": job.base_model,
        "training_file": job.training_file_id,
        "seed": int(job.params.get("seed") or 0) or None,
        "suffix": job.params.get("suffix") or None,
        "metadata": {"oscar_gpt_job": str(job.pk)},
    }
    if job.validation_file_id:
        request["validation_file"] = job.validation_file_id
    epochs = job.params.get("epochs", "auto")
    if epochs not in (None, "", "auto"):
        request["method"] = {
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": int(epochs)}},
        }
    request = {key: value for key, value in request.items() if value is not None}
    created = _call(job, lambda: client.fine_tuning.jobs.create(**request))
    if created is None:
        return job
    job.job_id = created.id
    job.started_at = job.started_at or timezone.now()
    job.save(update_fields=["job_id", "started_at", "updated_at"])
    return apply(job, created)


def apply(job: FineTuneJob, remote) -> FineTuneJob:
    """Bring the row up to date with the provider's ``fine_tuning.job`` object."""
    status = STATUSES.get(remote.status)
    if status is None:
        logger.warning("Fine-tuning job %s has an unknown status %r", remote.id, remote.status)
        return job
    became = status if status != job.status else None
    job.status = status
    if remote.fine_tuned_model:
        job.fine_tuned_model = remote.fine_tuned_model
    if remote.trained_tokens is not None:
        job.trained_tokens = remote.trained_tokens
    if remote.error is not None and (remote.error.message or remote.error.code):
        job.error = f"{remote.error.code}: {remote.error.message}".strip(": ")[:4000]
    elif status != FineTuneJob.Status.FAILED:
        job.error = ""
    if remote.estimated_finish:
        job.progress = {
            **job.progress,
            "estimated_finish": datetime.fromtimestamp(remote.estimated_finish, UTC).isoformat(),
        }
    if job.finished and job.finished_at is None:
        job.finished_at = (
            datetime.fromtimestamp(remote.finished_at, UTC)
            if remote.finished_at
            else timezone.now()
        )
    with transaction.atomic():
        job.save()
        if became == FineTuneJob.Status.SUCCEEDED and job.fine_tuned_model:
            _succeeded(job)
    return job


def _succeeded(job: FineTuneJob) -> None:
    """The fine-tuned model becomes a backend alias; its training cost goes in the ledger."""
    from ..llm import ledger
    from .service import register_model

    register_model(job, model=job.fine_tuned_model)
    price = _training_price(job.base_model)
    if job.trained_tokens and price is not None:
        billed = OpenAIBackend(job.backend, {"MODEL": job.base_model, "PRICE": (str(price), "0")})
        started = job.started_at or job.created_at
        ledger.record(
            feature="finetune",
            backend=billed,
            status="ok",
            latency_s=max(0.0, ((job.finished_at or timezone.now()) - started).total_seconds()),
            prompt_tokens=job.trained_tokens,
            obj=job,
            user=job.created_by,
            model=job.base_model,
        )


def _training_price(model: str):
    from ..app_settings import app_settings

    return app_settings.FINETUNE_PRICES.get(model, {}).get("TRAINING")


def poll(job: FineTuneJob) -> FineTuneJob:
    """Ask the provider how the job is doing and record it."""
    if job.finished or not job.job_id:
        return job
    try:
        client = backend(job.backend).client
    except ConfigurationError as exc:
        return _fail(job, str(exc))
    remote = _call(job, lambda: client.fine_tuning.jobs.retrieve(job.job_id))
    return apply(job, remote) if remote is not None else job


def cancel(job: FineTuneJob) -> FineTuneJob:
    """Ask the provider to stop the job; a job not created there yet is simply cancelled."""
    if job.finished:
        return job
    if not job.job_id:
        job.status = FineTuneJob.Status.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "updated_at"])
        return job
    client = backend(job.backend).client
    try:
        remote = client.fine_tuning.jobs.cancel(job.job_id)
    except openai.OpenAIError as exc:
        raise map_error(exc, job.backend) from exc
    return apply(job, remote)


def poll_active(*, pause: float = 0.0) -> dict[str, int]:
    """Poll every hosted job that is not finished (the periodic task). One job's failure to
    answer does not stop the others: it is counted and polled again next time."""
    counts = {"polled": 0, "unreachable": 0}
    jobs = FineTuneJob.objects.filter(provider=FineTuneJob.Provider.OPENAI).exclude(
        status__in=FineTuneJob.FINAL
    )
    for job in jobs.exclude(job_id=""):
        try:
            poll(job)
            counts["polled"] += 1
        except BackendError as exc:
            logger.warning("Fine-tuning job #%s not polled: %s", job.pk, exc)
            counts["unreachable"] += 1
        if pause:
            time.sleep(pause)
    return counts
