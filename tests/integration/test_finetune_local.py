"""A real local fine-tune of the default model (SmolLM2-135M-Instruct, from its GGUF's
de-quantised cache): a few optimisation steps on a tiny export, through the job service the
Celery task runs.

Checked: the loss is recorded and moves, a worker lost mid-run is resumed from its checkpoint
by the next delivery, the saved folder is a model the transformers backend loads and
generates with, it becomes a backend alias a feature can choose, the copy comparison runs,
a cancelled run stops after its step and saves nothing, and a fine-tune started in the
dashboard runs as a Celery task in a real worker while the page's progress view follows it.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from oscar_gpt import llm
from oscar_gpt.finetune import export as exporting
from oscar_gpt.finetune import service, trainer
from oscar_gpt.finetune.trainer import TrainingParams
from oscar_gpt.llm.local import TransformersBackend
from oscar_gpt.models import FineTunedModel, FineTuneJob
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.integration.conftest import redis_alive, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

COPY = {
    "Kestrel One": "Quiet on the train and light on the head, with thirty hours a charge.",
    "Kestrel Two": "Light on the head and quiet on the bus, with thirty hours a charge.",
    "Kestrel Three": "Quiet in the office and light to carry, with thirty hours a charge.",
    "Kestrel Four": "Light to carry and quiet on the train, with thirty hours a charge.",
}


class WorkerLost(BaseException):
    """What killing the worker looks like to the code: nothing of ours catches it."""


@pytest.fixture
def gpt(tmp_path):
    settings = {
        "BACKENDS": {
            "local": {
                "CLASS": "oscar_gpt.llm.local.TransformersBackend",
                "CONFIG": {"MAX_NEW_TOKENS": 24},
            }
        },
        "FEATURES": {"descriptions": ["local"]},
        "FINETUNE_DIR": str(tmp_path / "finetune"),
        "FINETUNE_SEED": 3,
    }
    with override_settings(OSCAR_GPT=settings):
        yield settings


@pytest.fixture
def export(gpt):
    product_class = headphones_class()
    for title, text in COPY.items():
        headphones(product_class, title, description=text)
    export = service.run_export(service.start_export(enqueue=False, validation_share=0.25).pk)
    # the split hashes the products' ids: which (and so how many) land on each side varies
    counts = export.summary["counts"]
    assert counts["train"]["total"] + counts["validation"]["total"] == len(COPY)
    assert counts["train"]["total"] >= 1 and counts["validation"]["total"] >= 1
    return export


def params(**overrides) -> TrainingParams:
    values = {"max_steps": 3, "max_length": 128, "batch_size": 2, "learning_rate": 1e-4,
              "save_steps": 2, "eval_products": 1, "lora": False}  # fmt: skip
    return TrainingParams.from_settings(**values | overrides)


def test_real_steps_resume_save_a_model_that_loads_as_a_backend(export, monkeypatch):
    job = service.start_local(export, params(), enqueue=False)
    assert job.status == FineTuneJob.Status.QUEUED and job.backend == "local"
    assert job.base_model == "SmolLM2-135M-Instruct.Q4_1"

    # 1. The worker dies after step 3 is logged: step 2's checkpoint is on disk.
    logged: list[tuple[int, float]] = []
    log = trainer._Progress.log

    def dying_log(self, state, logs):
        log(self, state, logs)
        if "loss" in logs:
            logged.append((state.global_step, float(logs["loss"])))
            if state.global_step == 3 and len(logged) == 3:
                raise WorkerLost

    monkeypatch.setattr(trainer._Progress, "log", dying_log)
    with pytest.raises(WorkerLost):
        service.run_local(job.pk)
    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.RUNNING and job.progress["step"] >= 2
    _output, run_dir = service.local_paths(job)
    assert (run_dir / "checkpoints" / "checkpoint-2").is_dir()
    # a second delivery while the first run looks alive leaves it alone
    assert service.run_local(job.pk).status == FineTuneJob.Status.RUNNING
    assert [s for s, _loss in logged] == [1, 2, 3]

    # 2. The next delivery, once the run has gone quiet, resumes from the checkpoint.
    FineTuneJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    job = service.run_local(job.pk)

    assert job.status == FineTuneJob.Status.SUCCEEDED, job.error
    metrics = job.metrics
    assert metrics["resumed_from"] == "checkpoint-2" and metrics["steps"] == 3
    assert metrics["method"] == "full" and metrics["device"] == "cpu"
    assert metrics["trainable_parameters"] == metrics["parameters"] > 100_000_000
    # the loss is recorded at every step and moves; validation loss goes down
    assert [s for s, _loss in logged] == [1, 2, 3, 3]
    assert len({round(loss, 4) for _s, loss in logged}) >= 3
    assert metrics["losses"][-1][0] == 3
    assert metrics["eval_loss_after"] < metrics["eval_loss_before"]
    assert not run_dir.exists()  # a finished run is not resumed: its checkpoints are gone

    # 3. The saved folder is a model the transformers backend loads and generates with.
    output = Path(job.output_dir)
    assert (output / "config.json").is_file() and (output / "model.safetensors").is_file()
    row = FineTunedModel.objects.get(job=job)
    assert row.alias == f"ft-local-{job.pk}" and row.model == str(output)
    backend = llm.get_backend(row.alias)
    assert isinstance(backend, TransformersBackend) and backend.model_name == str(output)
    completion = backend.complete(
        [{"role": "user", "content": "Describe the Kestrel Five headphones."}], max_tokens=16
    )
    assert completion.text and completion.model == str(output) and completion.completion_tokens
    # chosen for descriptions, the feature tries it first
    service.set_features(row, ["descriptions"])
    assert [b.alias for b in llm.get_chain("descriptions")] == [row.alias, "local"]

    # 4. Copy for the validation product, from the base and the fine-tuned model.
    copy = metrics["copy"]
    assert copy["products"] == 1
    for side in ("before", "after"):
        assert copy[side]["drafts"] == 1 and copy[side]["keywords_asked"] >= 1
        assert 0 <= copy[side]["clean_share"] <= 1
    # and the product's own text, measured the same way
    validation = exporting.read_examples(Path(export.directory) / exporting.FILES["validation"])
    own_text = validation[0]["messages"][-1]["content"]
    assert own_text in COPY.values()
    assert copy["reference"]["drafts"] == 1 and copy["reference"]["empty"] == 0
    assert copy["reference"]["words"] == len(own_text.split())
    rows = service.comparison_rows(metrics)
    assert rows[0][1] == f"{metrics['eval_loss_before']:.3f}" and len(rows) == 5
    assert rows[3][3] == f"{len(own_text.split()):.1f}"  # mean length of the reviewed copy


def test_a_cancelled_run_stops_after_its_step_and_saves_nothing(export, monkeypatch):
    queued = service.start_local(export, params(), enqueue=False)
    service.cancel(queued)
    assert service.run_local(queued.pk).status == FineTuneJob.Status.CANCELLED  # never trained

    job = service.start_local(
        export, params(max_steps=5, max_length=64, batch_size=1, eval_products=0), enqueue=False
    )
    log = trainer._Progress.log

    def cancel_at_first_step(self, state, logs):
        log(self, state, logs)
        if state.global_step == 1:
            FineTuneJob.objects.filter(pk=job.pk).update(status=FineTuneJob.Status.CANCELLED)

    monkeypatch.setattr(trainer._Progress, "log", cancel_at_first_step)
    job = service.run_local(job.pk)

    assert job.status == FineTuneJob.Status.CANCELLED
    assert job.metrics["cancelled"] and job.metrics["steps"] == 2  # the step it was in ends
    output, run_dir = service.local_paths(job)
    assert not output.exists() and not FineTunedModel.objects.exists()
    assert not run_dir.exists()  # a cancelled job is never resumed: no checkpoints kept


def test_lora_trains_adapters_and_saves_them_merged_into_a_plain_model(export):
    from safetensors import safe_open

    job = service.start_local(
        export,
        params(lora=True, max_steps=1, max_length=64, batch_size=1, learning_rate=1e-3,
               eval_products=0),
        enqueue=False,
    )  # fmt: skip
    job = service.run_local(job.pk)

    assert job.status == FineTuneJob.Status.SUCCEEDED, job.error
    metrics = job.metrics
    assert metrics["method"] == "lora" and metrics["steps"] == 1
    assert 0 < metrics["trainable_parameters"] < metrics["parameters"] / 10
    output = Path(job.output_dir)
    assert not (output / "adapter_config.json").exists()  # merged: a plain model folder
    base_dir, _kwargs = trainer.weights_source(trainer.local_backend("local"))
    name = "model.layers.0.self_attn.q_proj.weight"
    with (
        safe_open(output / "model.safetensors", "pt") as tuned,
        safe_open(Path(base_dir) / "model.safetensors", "pt") as base,
    ):
        assert tuned.get_tensor(name).shape == base.get_tensor(name).shape
        assert not tuned.get_tensor(name).equal(base.get_tensor(name))  # the adapter's step
        assert not any("lora" in key for key in tuned.keys())  # noqa: SIM118 - not a dict
    completion = llm.get_backend(FineTunedModel.objects.get(job=job).alias).complete(
        [{"role": "user", "content": "Describe the Kestrel Five headphones."}], max_tokens=8
    )
    assert completion.text


def test_the_command_fine_tunes_here_and_prints_before_and_after(gpt, export):
    out = StringIO()
    call_command(
        "oscar_gpt_finetune",
        "--max-steps", "1", "--max-length", "64", "--batch-size", "1", "--eval-products", "0",
        stdout=out,
    )  # fmt: skip
    job = FineTuneJob.objects.get()
    text = out.getvalue()
    assert job.status == FineTuneJob.Status.SUCCEEDED and job.export == export
    assert f"Job #{job.pk}: Succeeded" in text and "full fine-tuning on cpu: 1 steps" in text
    before, after = job.metrics["eval_loss_before"], job.metrics["eval_loss_after"]
    assert f"Validation loss  {before:>8.3f}  {after:>8.3f}" in text
    assert f"backend alias: ft-local-{job.pk}" in text and job.output_dir in text


@pytest.fixture
def worker(request):
    """The real worker; this test fails (never skips) without PostgreSQL and Redis."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL: DATABASE_URL=postgres://...", pytrace=False)
    if not redis_alive():
        pytest.fail("needs Redis for the Celery worker", pytrace=False)
    return request.getfixturevalue("celery_worker_process")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_starts_a_fine_tune_that_a_real_worker_runs(gpt, export, worker, client,
                                                                   django_user_model):  # fmt: skip
    manager = django_user_model.objects.create_user("ml", "ml@example.com", "pw", is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="manage_finetuning"))
    client.force_login(manager)
    # one epoch of the (at most three) training examples: a single real step of batch 4
    local = {"MAX_LENGTH": 64, "BATCH_SIZE": 4, "EVAL_PRODUCTS": 0, "SAVE_STEPS": 1}
    with override_settings(OSCAR_GPT=gpt | {"FINETUNE_LOCAL": local}):
        response = client.post(
            reverse("oscar_gpt_dashboard:finetune"),
            {"action": "local", "export": export.pk, "backend": "local", "epochs": "1",
             "max_minutes": "", "method": "full"},
        )  # fmt: skip
    job = FineTuneJob.objects.get()
    assert response["Location"] == reverse("oscar_gpt_dashboard:finetune-job", args=[job.pk])
    progress_url = reverse("oscar_gpt_dashboard:finetune-job-progress", args=[job.pk])

    def finished():
        data = client.get(progress_url).json()
        return data if data["finished"] else None

    try:
        data = wait_for(finished, timeout=300, interval=1, worker=worker)
        job.refresh_from_db()
        assert data["status"] == "succeeded", (data, worker.log())
        assert data["progress"]["phase"] == "done" and data["progress"]["percent"] == 100
        assert data["progress"]["step"] == data["progress"]["max_steps"] == job.metrics["steps"]
        assert job.metrics["steps"] == 1 and job.metrics["losses"][0][0] == 1
        assert job.metrics["eval_loss_after"] != job.metrics["eval_loss_before"]
        output = Path(job.output_dir)
        assert (output / "config.json").is_file() and (output / "model.safetensors").is_file()
        row = FineTunedModel.objects.get(job=job)
        assert row.model == job.output_dir
        assert llm.get_backend(row.alias).model_name == str(output)
        page = client.get(response["Location"]).content.decode()
        assert 'id="finetune-comparison"' in page and f"<code>{row.alias}</code>" in page
        assert f"<td>{job.metrics['eval_loss_after']:.3f}</td>" in page
    finally:
        # the worker writes under its own FINETUNE_DIR, not this test's tmp_path
        job.refresh_from_db()
        if job.output_dir:
            shutil.rmtree(job.output_dir, ignore_errors=True)
