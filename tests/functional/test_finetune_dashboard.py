"""A shop owner exports training data, queues a local fine-tune and chooses which features use
a fine-tuned model, in Oscar's dashboard. (The training itself: tests/integration/
test_finetune_local.py; hosted fine-tunes: test_finetune_hosted.py.)"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from oscar_gpt import llm
from oscar_gpt.finetune import service
from oscar_gpt.models import AuditEntry, FineTunedModel, FineTuneJob, TrainingExport
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

PAGE = reverse("oscar_gpt_dashboard:finetune")


@pytest.fixture
def gpt(tmp_path):
    settings = {
        "BACKENDS": {"local": {"CLASS": "oscar_gpt.llm.local.TransformersBackend"}},
        "FEATURES": {"descriptions": ["local"]},
        "FINETUNE_DIR": str(tmp_path / "finetune"),
    }
    with override_settings(OSCAR_GPT=settings):
        yield settings


@pytest.fixture
def shop():
    product_class = headphones_class()
    for i, words in enumerate(["Quiet on trains.", "Light on the head.", "Bass you feel."]):
        headphones(product_class, f"Kestrel {i}", description=f"{words} Thirty hours a charge.")


def test_export_from_the_dashboard(
    client, manager, gpt, shop, eager_celery, django_capture_on_commit_callbacks
):
    page = client.get(PAGE).content.decode()
    assert 'id="export-form"' in page and "Nothing exported yet." in page
    assert f'href="{PAGE}"' in page  # the tab in the app's navigation

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            PAGE, {"action": "export", "kinds": ["description"], "validation_share": "0.4"}
        )
    export = TrainingExport.objects.get()
    assert response["Location"] == reverse("oscar_gpt_dashboard:finetune-export", args=[export.pk])
    assert export.status == TrainingExport.Status.DONE and export.created_by == manager
    assert export.options["kinds"] == ["description"]

    detail = client.get(response["Location"]).content.decode()
    counts = export.summary["counts"]
    assert f"<td>{counts['train']['total']}</td>" in detail
    assert f"${export.summary['hosted_estimate']['cost_usd']}" in detail
    download = client.get(
        reverse("oscar_gpt_dashboard:finetune-export-file", args=[export.pk, "openai_train"])
    )
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert len(lines) == counts["train"]["total"]
    assert [m["role"] for m in json.loads(lines[0])["messages"]] == [
        "system",
        "user",
        "assistant",
    ]
    missing = reverse("oscar_gpt_dashboard:finetune-export-file", args=[export.pk, "secrets"])
    assert client.get(missing).status_code == 404


def test_start_follow_and_cancel_a_local_fine_tune(client, manager, gpt, shop):
    export = service.run_export(service.start_export(enqueue=False, validation_share=0.4).pk)
    page = client.get(PAGE).content.decode()
    assert 'id="local-form"' in page and '<option value="local" selected>local</option>' in page
    assert "No OpenAI backend is configured." in page

    form = {"action": "local", "export": export.pk, "backend": "local", "epochs": "1",
            "max_minutes": "15", "method": "full"}  # fmt: skip
    response = client.post(PAGE, form)  # queued on commit: no worker runs here
    job = FineTuneJob.objects.get()
    assert response["Location"] == reverse("oscar_gpt_dashboard:finetune-job", args=[job.pk])
    assert job.provider == "local" and job.status == FineTuneJob.Status.QUEUED
    assert job.params["epochs"] == 1 and job.params["max_minutes"] == 15
    assert job.params["lora"] is False and job.created_by == manager

    detail = client.get(response["Location"]).content.decode()
    assert "Queued" in detail and 'id="finetune-progress"' in detail
    progress = client.get(reverse("oscar_gpt_dashboard:finetune-job-progress", args=[job.pk]))
    assert progress.json() == {
        "status": "queued",
        "status_display": "Queued",
        "finished": False,
        "progress": {},
        "error": "",
    }

    client.post(response["Location"], {"action": "cancel"})
    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.CANCELLED
    assert AuditEntry.objects.filter(object_id=str(job.pk), after="cancelled").exists()
    assert service.run_local(job.pk).status == FineTuneJob.Status.CANCELLED  # the task: no-op


def test_choose_the_features_that_use_a_fine_tuned_model(client, manager, gpt, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    row = FineTunedModel.objects.create(
        alias="ft-local-41", provider="local", base_backend="local", model=str(folder)
    )
    assert [b.alias for b in llm.get_chain("descriptions")] == ["local"]
    page = client.get(PAGE).content.decode()
    assert 'data-alias="ft-local-41"' in page

    client.post(
        reverse("oscar_gpt_dashboard:finetune-model", args=[row.pk]),
        {f"model{row.pk}-features": ["descriptions", "qa"]},
    )

    row.refresh_from_db()
    assert row.features == ["descriptions", "qa"]
    chain = llm.get_chain("descriptions")
    assert [b.alias for b in chain] == ["ft-local-41", "local"]
    assert chain[0].config["MODEL"] == str(folder) and chain[0].config["GGUF_FILE"] is None
    assert [b.alias for b in llm.get_chain("qa")] == ["ft-local-41", "local"]
    entry = AuditEntry.objects.get(action="setting_changed")
    assert (entry.before, entry.after, entry.user) == ("", "descriptions, qa", manager)
    # a folder that is gone is skipped, not a failure of every call
    (folder / "config.json").unlink()
    assert [b.alias for b in llm.get_chain("descriptions")] == ["local"]
