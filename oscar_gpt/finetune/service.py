"""Fine-tuning: every door (the commands, the dashboard, the Celery tasks) calls these.

::

    export = start_export(user=request.user)            # a worker runs run_export(pk)
    job = start_local(export, TrainingParams.from_settings(epochs=1), user=request.user)
    # ... a worker runs run_local(job.pk): progress on the row, checkpoints on disk ...
    job.metrics["eval_loss_before"], job.metrics["eval_loss_after"], job.metrics["copy"]
    set_features(job.fine_tuned_model_row, ["descriptions"], user=request.user)

    job = start_hosted(export, user=request.user)      # a worker uploads and creates it
    # ... the periodic task polls it; on success its model becomes a backend alias ...
"""

from __future__ import annotations

import gc
import logging
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit
from ..app_settings import FEATURE_NAMES, app_settings
from ..models import FineTunedModel, FineTuneJob, TrainingExport
from . import export as exporting
from . import hosted
from .registry import reset as reset_backend
from .trainer import TrainingParams

logger = logging.getLogger(__name__)

#: Features a fine-tuned model can be chosen for (the dashboard's checkboxes).
SELECTABLE_FEATURES = tuple(f for f in FEATURE_NAMES if f != "finetune")
#: A running local job whose row has not been touched for this long lost its worker.
STALE_AFTER = timedelta(minutes=3)
#: How often a running local job says it is alive.
HEARTBEAT_S = 30


class FineTuneError(Exception):
    """Something a shop owner must be told, in words they can act on."""


def _person(user):
    return user if getattr(user, "is_authenticated", False) else None


def root() -> Path:
    return Path(app_settings.FINETUNE_DIR)


# -- exports ---------------------------------------------------------------------------------


def start_export(
    *, user=None, enqueue: bool = True, directory: str | Path | None = None, **options: Any
) -> TrainingExport:
    """Record an export and queue it once the transaction commits (``enqueue=False``: the
    caller runs :func:`run_export` itself, as the command does)."""
    kinds = options.get("kinds") or list(exporting.KINDS)
    unknown = [k for k in kinds if k not in exporting.KINDS]
    if unknown:
        raise FineTuneError(_("Unknown kind(s) of example: %s.") % ", ".join(unknown))
    export = TrainingExport.objects.create(
        created_by=_person(user),
        options={**options, "kinds": list(kinds)},
        directory=str(directory) if directory else "",
    )
    if enqueue:
        from ..tasks import export_training_data

        transaction.on_commit(lambda: export_training_data.delay(export.pk))
    return export


def run_export(export_id: int) -> TrainingExport:
    """The export's work (the task's body): write the files and keep the summary."""
    export = TrainingExport.objects.get(pk=export_id)
    if export.status == TrainingExport.Status.DONE:
        return export
    directory = Path(export.directory) if export.directory else root() / "exports" / str(export.pk)
    export.status, export.directory = TrainingExport.Status.RUNNING, str(directory)
    export.save(update_fields=["status", "directory"])
    try:
        summary = exporting.export(directory, **export.options)
    except Exception as exc:
        logger.exception("Training data export #%s failed", export.pk)
        export.status, export.error = TrainingExport.Status.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        export.status, export.summary, export.error = TrainingExport.Status.DONE, summary, ""
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "summary", "error", "finished_at"])
    return export


def export_file(export: TrainingExport, key: str) -> Path:
    """One of an export's files (``train``, ``openai_train``, ``summary`` ...)."""
    if key not in exporting.FILES or not export.directory:
        raise FineTuneError(_("No such file."))
    path = Path(export.directory) / exporting.FILES[key]
    if not path.is_file():
        raise FineTuneError(_("The file is not there (any more)."))
    return path


def latest_export() -> TrainingExport | None:
    return TrainingExport.objects.filter(status=TrainingExport.Status.DONE).first()


def _ready(export: TrainingExport | None) -> TrainingExport:
    if export is None or export.status != TrainingExport.Status.DONE:
        raise FineTuneError(_("Export the training data first."))
    if not export.summary.get("counts", {}).get("train", {}).get("total"):
        raise FineTuneError(_("The export has no training examples."))
    return export


# -- local fine-tunes ------------------------------------------------------------------------


def start_local(
    export: TrainingExport, params: TrainingParams, *, user=None, enqueue: bool = True
) -> FineTuneJob:
    """Record a local fine-tune of ``params.base`` on ``export``; queue it (``enqueue``)."""
    from .trainer import local_backend

    _ready(export)
    try:
        base = local_backend(params.base)
    except Exception as exc:
        raise FineTuneError(str(exc)) from exc
    job = FineTuneJob.objects.create(
        provider=FineTuneJob.Provider.LOCAL,
        export=export,
        backend=params.base,
        base_model=base.model_name,
        params=params.as_dict(),
        created_by=_person(user),
    )
    if enqueue:
        from ..tasks import finetune_local

        transaction.on_commit(lambda: finetune_local.delay(job.pk))
    return job


def local_paths(job: FineTuneJob) -> tuple[Path, Path]:
    """The model folder a local job writes, and its working folder (checkpoints).

    Named by the job's id and creation time: a job of a database that was reset reuses an
    id, and must neither resume another job's checkpoints nor overwrite its model."""
    name = f"job-{job.pk}-{job.created_at:%Y%m%d%H%M%S}"
    return root() / "models" / name, root() / "runs" / name


class _Heartbeat:
    """Touches the job's row every ``HEARTBEAT_S`` while a run is alive, so a second delivery
    of the task (a broker's visibility timeout) sees the run and leaves it alone."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="oscar-gpt-finetune", daemon=True)

    def run(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_S):
                FineTuneJob.objects.filter(pk=self.job_id).update(updated_at=timezone.now())
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join()


def _claim(job_id: int) -> FineTuneJob | None:
    """The job, marked running, unless it is finished or another worker is running it."""
    with transaction.atomic():
        job = FineTuneJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        if job.status == FineTuneJob.Status.RUNNING and job.updated_at > timezone.now() - (
            STALE_AFTER
        ):
            logger.info("Fine-tuning job #%s is running elsewhere", job.pk)
            return None
        job.status = FineTuneJob.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.progress = {**job.progress, "phase": "training"}
        job.save(update_fields=["status", "started_at", "progress", "updated_at"])
        return job


def run_local(job_id: int, *, progress_bar: bool = False) -> FineTuneJob | None:
    """A local fine-tune's work (the task's body); resumes from the last checkpoint."""
    from . import trainer

    job = _claim(job_id)
    if job is None:
        return FineTuneJob.objects.filter(pk=job_id).first()
    params = TrainingParams.from_dict(job.params)
    output_dir, run_dir = local_paths(job)
    last_report = [0.0]

    def report(progress: dict) -> None:
        now = time.monotonic()
        if now - last_report[0] < 2 and progress.get("step") != progress.get("max_steps"):
            return
        last_report[0] = now
        FineTuneJob.objects.filter(pk=job.pk).update(
            progress={**progress, "phase": "training"}, updated_at=timezone.now()
        )

    def cancelled() -> bool:
        return FineTuneJob.objects.filter(pk=job.pk, status=FineTuneJob.Status.CANCELLED).exists()

    try:
        with _Heartbeat(job.pk):
            result = trainer.train(
                job.export.directory,
                output_dir,
                params,
                run_dir=run_dir,
                report=report,
                should_stop=cancelled,
                progress_bar=progress_bar,
            )
    except Exception as exc:
        logger.exception("Fine-tuning job #%s failed", job.pk)
        FineTuneJob.objects.filter(pk=job.pk).exclude(status__in=FineTuneJob.FINAL).update(
            status=FineTuneJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )
        # A failed job is never run again: its checkpoints (model and optimiser state, a
        # gigabyte or more) would only fill the disk. A lost worker (no exception reaches
        # here) leaves them for the next delivery to resume from.
        shutil.rmtree(run_dir, ignore_errors=True)
        job.refresh_from_db()
        return job
    gc.collect()  # the training model and its optimiser state, before two models load
    job.refresh_from_db()
    job.metrics = result
    if result["cancelled"]:
        shutil.rmtree(run_dir, ignore_errors=True)  # nothing is kept of a cancelled run
        job.save(update_fields=["metrics", "updated_at"])
        return job
    job.output_dir = str(output_dir)
    job.progress = {**job.progress, "phase": "evaluating"}
    job.save(update_fields=["metrics", "output_dir", "progress", "updated_at"])
    row = register_model(job, model=str(output_dir))
    try:
        with _Heartbeat(job.pk):
            job.metrics["copy"] = compare_copy(job, params, row.alias)
    except Exception as exc:  # the model is saved and usable; the comparison is a bonus
        logger.exception("Comparing copy for fine-tuning job #%s failed", job.pk)
        job.metrics["copy_error"] = f"{type(exc).__name__}: {exc}"
    job.status = FineTuneJob.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.progress = {**job.progress, "phase": "done", "percent": 100}
    job.save()
    return job


def compare_copy(job: FineTuneJob, params: TrainingParams, alias: str) -> dict[str, Any] | None:
    """Copy for the validation products from the base and the fine-tuned model."""
    from ..llm.registry import get_backend
    from . import evaluation

    if not params.eval_products:
        return None
    records = exporting.read_examples(Path(job.export.directory) / exporting.FILES["validation"])
    prompts = evaluation.prompts_for(records, limit=params.eval_products)
    if not prompts:
        return None
    tuned = get_backend(alias)
    try:
        return evaluation.compare(get_backend(params.base), tuned, prompts)
    finally:
        forget_local_model(tuned)


def forget_local_model(backend) -> None:
    """Drop a local backend's model from this process (a worker that fine-tunes often would
    otherwise keep every model it evaluated); it is loaded again when it is used."""
    from ..llm import local

    source = backend.source
    with local._models_lock:
        for key in [k for k in local._models if k[0] == source]:
            del local._models[key]
    reset_backend(backend.alias)


# -- hosted fine-tunes -----------------------------------------------------------------------


def start_hosted(
    export: TrainingExport,
    *,
    backend: str | None = None,
    model: str | None = None,
    epochs: int | str | None = None,
    suffix: str | None = None,
    user=None,
    enqueue: bool = True,
) -> FineTuneJob:
    """Record a hosted fine-tune; a worker uploads the files and creates the provider's job
    (``enqueue=False``: the caller runs :func:`submit_hosted`)."""
    _ready(export)
    settings_ = app_settings.FINETUNE_OPENAI
    alias = backend or settings_["BACKEND"]
    try:
        hosted.backend(alias)
    except Exception as exc:
        raise FineTuneError(str(exc)) from exc
    job = FineTuneJob.objects.create(
        provider=FineTuneJob.Provider.OPENAI,
        export=export,
        backend=alias,
        base_model=model or settings_["MODEL"],
        params={
            "epochs": settings_["EPOCHS"] if epochs is None else epochs,
            "suffix": (settings_["SUFFIX"] if suffix is None else suffix)[:64],
            "seed": app_settings.FINETUNE_SEED,
            "estimate": exporting.hosted_estimate(
                export.summary["counts"]["train"]["tokens"],
                export.summary["counts"]["train"]["total"],
                model=model or settings_["MODEL"],
                epochs=settings_["EPOCHS"] if epochs is None else epochs,
            ),
        },
        created_by=_person(user),
    )
    if enqueue:
        from ..tasks import submit_hosted_finetune

        transaction.on_commit(lambda: submit_hosted_finetune.delay(job.pk))
    return job


def submit_hosted(job_id: int) -> FineTuneJob | None:
    job = FineTuneJob.objects.select_related("export").filter(pk=job_id).first()
    return hosted.submit(job) if job is not None else None


def poll_hosted() -> dict[str, int]:
    return hosted.poll_active()


# -- both ------------------------------------------------------------------------------------


def cancel(job: FineTuneJob, *, user=None) -> FineTuneJob:
    """Stop a job: a local run stops after its current step (nothing is saved); a hosted
    one is cancelled at the provider."""
    if job.finished:
        raise FineTuneError(_("The job has already finished."))
    if job.provider == FineTuneJob.Provider.OPENAI:
        job = hosted.cancel(job)
    else:
        FineTuneJob.objects.filter(pk=job.pk).exclude(status__in=FineTuneJob.FINAL).update(
            status=FineTuneJob.Status.CANCELLED, finished_at=timezone.now()
        )
        job.refresh_from_db()
    audit.record(audit.Action.SETTING_CHANGED, job, user=user, after="cancelled")
    return job


def register_model(job: FineTuneJob, *, model: str) -> FineTunedModel:
    """The job's model as a backend alias (``ft-local-7``, ``ft-openai-8``)."""
    row, _created = FineTunedModel.objects.update_or_create(
        job=job,
        defaults={
            "alias": f"{FineTunedModel.ALIAS_PREFIX}{job.provider}-{job.pk}",
            "name": f"{job.base_model} #{job.pk}",
            "provider": job.provider,
            "base_backend": job.backend,
            "model": model,
        },
    )
    reset_backend(row.alias)
    return row


def set_features(row: FineTunedModel, features: list[str], *, user=None) -> FineTunedModel:
    """Choose the features that try this model first (before their configured chain)."""
    unknown = [f for f in features if f not in SELECTABLE_FEATURES]
    if unknown:
        raise FineTuneError(_("Unknown feature(s): %s.") % ", ".join(unknown))
    before = ", ".join(row.features)
    row.features = [f for f in SELECTABLE_FEATURES if f in features]
    row.save(update_fields=["features"])
    audit.record(
        audit.Action.SETTING_CHANGED,
        row,
        user=user,
        before=before,
        after=", ".join(row.features),
        reason=f"Features using {row.alias}",
    )
    reset_backend(row.alias)
    return row


def comparison_rows(metrics: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """Before and after, side by side, and the reviewed texts of the same products:
    ``[(label, before, after, reviewed)]`` for tables and logs."""

    def share(value):
        return f"{100 * value:.0f}%" if value is not None else "-"

    def number(value, digits=3):
        return f"{value:.{digits}f}" if isinstance(value, int | float) else "-"

    rows = [
        (_("Validation loss"), number(metrics.get("eval_loss_before")),
         number(metrics.get("eval_loss_after")), "-"),
    ]  # fmt: skip
    copy = metrics.get("copy") or {}
    before, after = copy.get("before"), copy.get("after")
    if before and after:
        reference = copy.get("reference") or {}
        rows += [
            (_("Drafts without unsupported claims"), share(before["clean_share"]),
             share(after["clean_share"]), share(reference.get("clean_share"))),
            (_("Empty drafts"), share(before["empty_share"]), share(after["empty_share"]),
             share(reference.get("empty_share"))),
            (_("Mean length (words; %(target)s asked)") % {"target": number(
                before["target_words"], 0)}, number(before["words"], 1),
             number(after["words"], 1), number(reference.get("words"), 1)),
            (_("Keywords used"), share(before["keyword_share"]), share(after["keyword_share"]),
             share(reference.get("keyword_share"))),
        ]  # fmt: skip
    return rows


def comparison_table(metrics: dict[str, Any]) -> list[str]:
    """:func:`comparison_rows` as lines of plain text (the command's and the bench's)."""
    rows = comparison_rows(metrics)
    reviewed = bool((metrics.get("copy") or {}).get("reference"))
    width = max(len(str(row[0])) for row in rows)
    last = _("reviewed copy")
    head = f"{'':<{width}}  {_('before'):>8}  {_('after'):>8}"
    lines = [head + (f"  {last}" if reviewed else "")]
    for label, before, after, reference in rows:
        line = f"{label!s:<{width}}  {before:>8}  {after:>8}"
        lines.append(line + (f"  {reference:>{len(last)}}" if reviewed else ""))
    return lines
