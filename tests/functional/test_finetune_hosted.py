"""Hosted fine-tuning against recorded responses in the shapes of OpenAI's API.

The real service can't be reached from here, so a small HTTP server in a thread answers the
official ``openai`` client (pointed at it by the backend's ``BASE_URL``) with bodies written
from the client's own types (``openai.types.FileObject``, ``fine_tuning.FineTuningJob``,
the API's error object). What is checked is our side: what we upload and ask for, how the job
row follows the provider's statuses, failures, retries and cancellation, and that the
fine-tuned model becomes a backend the features can use.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from oscar_gpt import llm, tasks
from oscar_gpt.finetune import service
from oscar_gpt.llm import BackendUnavailable
from oscar_gpt.llm.openai import OpenAIBackend
from oscar_gpt.models import FineTunedModel, FineTuneJob, LedgerEntry
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

BASE_MODEL = "gpt-4o-mini-2024-07-18"
JOB_ID = "ftjob-abc123"
FT_MODEL = "ft:gpt-4o-mini-2024-07-18:shop-org::9xKcR2Qe"
JOBS = "/v1/fine_tuning/jobs"


# -- the recorded API --------------------------------------------------------------------------
def file_object(file_id: str, filename: str, size: int) -> dict:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": 1718000000,
        "filename": filename,
        "purpose": "fine-tune",
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }


def job_object(status: str, **fields) -> dict:
    hyperparameters = {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
    return {
        "object": "fine_tuning.job",
        "id": JOB_ID,
        "model": BASE_MODEL,
        "created_at": 1718000100,
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": "org-shop123",
        "result_files": [],
        "status": status,
        "validation_file": "file-val456",
        "training_file": "file-train123",
        "hyperparameters": hyperparameters,
        "trained_tokens": None,
        "error": None,
        "user_provided_suffix": "oscar-gpt",
        "seed": 20240601,
        "estimated_finish": None,
        "integrations": [],
        "metadata": {"oscar_gpt_job": "1"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
    } | fields


def error_object(message: str, code: str, param: str | None = None) -> dict:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def chat_completion(model: str) -> dict:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1718000300,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Quiet, light and ready for trains."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129},
        "system_fingerprint": "fp_3aa7262c27",
    }


class RecordedAPI:
    """Answers each (method, path) with its queued responses in turn (the last one again
    when only it is left) and records every request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: dict[tuple[str, str], list[tuple[int, dict]]] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                queue = api.replies.get((self.command, self.path))
                if not queue:
                    status, payload = 404, error_object("No such route", "not_found")
                else:
                    status, payload = queue[0] if len(queue) == 1 else queue.pop(0)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-request-id", f"req_{len(api.requests)}")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def reply(self, method: str, path: str, *responses: tuple[int, dict]) -> None:
        self.replies[(method, path)] = list(responses)

    def calls(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api():
    server = RecordedAPI()
    server.reply("POST", "/v1/files", (200, file_object("file-train123", "train.jsonl", 900)),
                 (200, file_object("file-val456", "validation.jsonl", 300)))  # fmt: skip
    server.reply("POST", JOBS, (200, job_object("validating_files")))
    yield server
    server.close()


@pytest.fixture
def gpt(api, tmp_path, monkeypatch, settings):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    config = {"MODEL": "gpt-4o-mini", "BASE_URL": api.base_url, "MAX_RETRIES": 0, "TIMEOUT": 10}
    gpt_settings = {
        "BACKENDS": {
            "local": {"CLASS": "oscar_gpt.llm.local.TransformersBackend", "CONFIG": {}},
            "openai": {"CLASS": "oscar_gpt.llm.openai.OpenAIBackend", "CONFIG": config},
        },
        "FEATURES": {"descriptions": ["openai"]},
        "FINETUNE_DIR": str(tmp_path / "finetune"),
    }
    with override_settings(OSCAR_GPT=gpt_settings):
        yield gpt_settings


@pytest.fixture
def export(gpt):
    product_class = headphones_class()
    for i, words in enumerate(["Quiet on trains.", "Light on the head.", "Bass you feel."]):
        headphones(product_class, f"Kestrel {i}", description=f"{words} Thirty hours a charge.")
    export = service.run_export(service.start_export(enqueue=False, validation_share=0.4).pk)
    counts = export.summary["counts"]
    assert counts["train"]["total"] and counts["validation"]["total"]
    return export


@pytest.fixture
def job(export):
    return service.start_hosted(export, enqueue=False)


def submitted(job) -> FineTuneJob:
    service.submit_hosted(job.pk)
    job.refresh_from_db()
    return job


# -- starting ----------------------------------------------------------------------------------
def test_the_files_are_uploaded_and_the_job_created(api, export, job):
    assert job.status == FineTuneJob.Status.QUEUED and job.base_model == BASE_MODEL
    estimate = job.params["estimate"]
    assert estimate["model"] == BASE_MODEL and Decimal(estimate["cost_usd"]) > 0

    job = submitted(job)

    uploads = api.calls("POST", "/v1/files")
    assert len(uploads) == 2
    directory = Path(export.directory)
    for upload, name in zip(
        uploads, ["openai-train.jsonl", "openai-validation.jsonl"], strict=True
    ):
        assert upload["headers"]["authorization"] == "Bearer sk-test-key"
        assert upload["headers"]["content-type"].startswith("multipart/form-data")
        assert b'name="purpose"\r\n\r\nfine-tune' in upload["body"]
        assert f'filename="{name}"'.encode() in upload["body"]
        assert (directory / name).read_bytes() in upload["body"]
    (create,) = api.calls("POST", JOBS)
    request = json.loads(create["body"])
    assert request == {
        "model": BASE_MODEL,
        "training_file": "file-train123",
        "validation_file": "file-val456",
        "seed": 20240601,
        "suffix": "oscar-gpt",
        "metadata": {"oscar_gpt_job": str(job.pk)},
    }
    assert (job.training_file_id, job.validation_file_id) == ("file-train123", "file-val456")
    assert job.job_id == JOB_ID and job.status == FineTuneJob.Status.VALIDATING_FILES
    assert job.started_at is not None and job.error == ""
    # submitting again (a redelivered task) changes nothing and sends nothing
    service.submit_hosted(job.pk)
    assert len(api.requests) == 3


def test_the_periodic_task_follows_the_job_until_its_model_is_a_backend(api, job, gpt):
    job = submitted(job)
    path = f"{JOBS}/{JOB_ID}"
    api.reply(
        "GET",
        path,
        (200, job_object("queued")),
        (200, job_object("running", estimated_finish=1718003700)),
        (200, job_object("succeeded", fine_tuned_model=FT_MODEL, trained_tokens=40734,
                         finished_at=1718003600, result_files=["file-result789"])),
    )  # fmt: skip

    seen = []
    for _ in range(3):
        assert tasks.poll_finetune_jobs() == {"polled": 1, "unreachable": 0}
        job.refresh_from_db()
        seen.append(job.status)
    assert seen == ["queued", "running", "succeeded"]
    assert job.fine_tuned_model == FT_MODEL and job.trained_tokens == 40734
    assert job.finished_at.timestamp() == 1718003600
    assert tasks.poll_finetune_jobs() == {"polled": 0, "unreachable": 0}  # finished: left alone
    assert len(api.calls("GET", path)) == 3

    # the training is in the ledger, at the price table's training price
    (training,) = LedgerEntry.objects.filter(feature="finetune")
    assert training.model == BASE_MODEL and training.prompt_tokens == 40734
    assert training.cost == Decimal("40734") * Decimal("3.00") / 1_000_000
    assert training.content_object == job

    # the fine-tuned model is a backend alias, priced as a fine-tuned gpt-4o-mini
    row = FineTunedModel.objects.get(job=job)
    assert row.alias == f"ft-openai-{job.pk}" and row.model == FT_MODEL
    backend = llm.get_backend(row.alias)
    assert isinstance(backend, OpenAIBackend)
    assert backend.config["MODEL"] == FT_MODEL and backend.config["BASE_URL"] == api.base_url
    assert llm.get_chain("descriptions")[0].alias == "openai"
    # chosen for descriptions in the dashboard: the feature tries it first
    service.set_features(row, ["descriptions"])
    assert [b.alias for b in llm.get_chain("descriptions")] == [row.alias, "openai"]
    api.reply("POST", "/v1/chat/completions", (200, chat_completion(FT_MODEL)))
    completion = llm.chat("descriptions", [{"role": "user", "content": "Describe it."}])
    assert completion.text == "Quiet, light and ready for trains."
    assert json.loads(api.calls("POST", "/v1/chat/completions")[0]["body"])["model"] == FT_MODEL
    call = LedgerEntry.objects.get(feature="descriptions")
    assert call.backend == row.alias and call.model == FT_MODEL
    assert call.cost == (Decimal("0.30") * 120 + Decimal("1.20") * 9) / 1_000_000
    service.set_features(row, [])
    assert [b.alias for b in llm.get_chain("descriptions")] == ["openai"]


def test_a_failed_job_keeps_the_providers_reason(api, job):
    job = submitted(job)
    error = {"code": "invalid_training_file", "param": "training_file",
             "message": "The job failed due to an invalid training file."}  # fmt: skip
    api.reply("GET", f"{JOBS}/{JOB_ID}", (200, job_object("failed", error=error,
                                                          finished_at=1718000900)))  # fmt: skip

    service.poll_hosted()

    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.FAILED and job.finished
    assert job.error == "invalid_training_file: The job failed due to an invalid training file."
    assert not FineTunedModel.objects.exists() and not LedgerEntry.objects.exists()


def test_a_refused_upload_fails_the_job_and_creates_nothing(api, job):
    refusal = error_object(
        "Invalid file format for Fine-Tuning API. Must be .jsonl", "invalid_file_format", "file"
    )
    api.reply("POST", "/v1/files", (400, refusal))

    job = submitted(job)

    assert job.status == FineTuneJob.Status.FAILED and job.finished_at is not None
    assert "Invalid file format for Fine-Tuning API" in job.error
    assert job.training_file_id == "" and job.job_id == ""
    assert api.calls("POST", JOBS) == []


def test_a_passing_failure_is_raised_for_a_retry_that_uploads_nothing_twice(api, job):
    api.reply("POST", "/v1/files", (200, file_object("file-train123", "train.jsonl", 900)),
              (503, error_object("The server is overloaded.", "server_error")),
              (200, file_object("file-val456", "validation.jsonl", 300)))  # fmt: skip

    with pytest.raises(BackendUnavailable):
        service.submit_hosted(job.pk)
    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.QUEUED and "overloaded" in job.error
    assert job.training_file_id == "file-train123" and job.validation_file_id == ""

    job = submitted(job)  # the task's retry

    uploads = api.calls("POST", "/v1/files")
    assert len(uploads) == 3 and b'filename="openai-validation.jsonl"' in uploads[-1]["body"]
    assert job.status == FineTuneJob.Status.VALIDATING_FILES and job.job_id == JOB_ID
    assert job.validation_file_id == "file-val456" and job.error == ""


def test_an_unreachable_provider_leaves_the_job_for_the_next_poll(api, job):
    job = submitted(job)
    api.reply("GET", f"{JOBS}/{JOB_ID}", (500, error_object("Internal error", "server_error")))
    assert service.poll_hosted() == {"polled": 0, "unreachable": 1}
    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.VALIDATING_FILES and not job.finished


def test_cancelling(api, export):
    waiting = service.start_hosted(export, enqueue=False)
    service.cancel(waiting)  # not at the provider yet: nothing to ask
    waiting.refresh_from_db()
    assert waiting.status == FineTuneJob.Status.CANCELLED and api.requests == []

    job = submitted(service.start_hosted(export, enqueue=False))
    api.reply("POST", f"{JOBS}/{JOB_ID}/cancel", (200, job_object("cancelled")))
    service.cancel(job)
    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.CANCELLED and job.finished_at is not None
    assert len(api.calls("POST", f"{JOBS}/{JOB_ID}/cancel")) == 1
    with pytest.raises(service.FineTuneError):
        service.cancel(job)


# -- the dashboard -----------------------------------------------------------------------------
def test_a_shop_owner_starts_follows_and_cancels_a_hosted_fine_tune(
    client, manager, api, export, eager_celery, django_capture_on_commit_callbacks
):
    page = client.get(reverse("oscar_gpt_dashboard:finetune"))
    assert page.status_code == 200
    assert 'id="hosted-form"' in page.content.decode()
    assert f"${export.summary['hosted_estimate']['cost_usd']}" in page.content.decode()

    form = {"action": "hosted", "export": export.pk, "backend": "openai", "model": BASE_MODEL,
            "epochs": "3"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("oscar_gpt_dashboard:finetune"), form)
    job = FineTuneJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("oscar_gpt_dashboard:finetune-job", args=[job.pk])
    assert job.created_by == manager and job.status == FineTuneJob.Status.VALIDATING_FILES
    request = json.loads(api.calls("POST", JOBS)[0]["body"])
    assert request["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 3}},
    }
    detail = client.get(response["Location"]).content.decode()
    assert JOB_ID in detail and "Validating files" in detail
    progress = client.get(reverse("oscar_gpt_dashboard:finetune-job-progress", args=[job.pk]))
    assert progress.json()["status"] == "validating_files"

    api.reply("POST", f"{JOBS}/{JOB_ID}/cancel", (200, job_object("cancelled")))
    client.post(response["Location"], {"action": "cancel"})
    job.refresh_from_db()
    assert job.status == FineTuneJob.Status.CANCELLED


def test_the_hosted_form_says_what_is_wrong(client, manager, export):
    bad = {"action": "hosted", "export": export.pk, "backend": "openai", "model": BASE_MODEL,
           "epochs": "lots"}  # fmt: skip
    response = client.post(reverse("oscar_gpt_dashboard:finetune"), bad)
    assert response.status_code == 400
    assert "A number from 1 to 50, or auto." in response.content.decode()
    assert not FineTuneJob.objects.exists()


def test_the_pages_need_the_permission(client, django_user_model, export):
    staff = django_user_model.objects.create_user("s", "s@example.com", "pw", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("oscar_gpt_dashboard:finetune")).status_code == 403
    url = reverse("oscar_gpt_dashboard:finetune-export-file", args=[export.pk, "openai_train"])
    assert client.get(url).status_code == 403


# -- the command -------------------------------------------------------------------------------
def test_the_command_starts_follows_and_cancels_a_hosted_fine_tune(api, export):
    out = StringIO()
    call_command("oscar_gpt_finetune", "--provider", "openai", "--epochs", "2", stdout=out)
    job = FineTuneJob.objects.get()
    text = out.getvalue()
    assert f"Hosted fine-tune of {BASE_MODEL} (job #{job.pk})" in text
    assert f"estimated ${job.params['estimate']['cost_usd']}" in text
    assert f"Job #{job.pk}: Validating files" in text and JOB_ID in text
    assert json.loads(api.calls("POST", JOBS)[0]["body"])["method"]["supervised"] == {
        "hyperparameters": {"n_epochs": 2}
    }

    api.reply("GET", f"{JOBS}/{JOB_ID}", (200, job_object("succeeded", fine_tuned_model=FT_MODEL,
                                                          trained_tokens=1000)))  # fmt: skip
    out = StringIO()
    call_command("oscar_gpt_finetune", "--status", str(job.pk), stdout=out)
    text = out.getvalue()
    assert f"Job #{job.pk}: Succeeded" in text
    assert f"backend alias: ft-openai-{job.pk}" in text and FT_MODEL in text

    with pytest.raises(CommandError, match="already finished"):
        call_command("oscar_gpt_finetune", "--cancel", str(job.pk))
    with pytest.raises(CommandError, match="No fine-tuning job #999"):
        call_command("oscar_gpt_finetune", "--status", "999")
