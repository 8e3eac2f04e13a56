"""The model service with the real local model: ledger rows, fallbacks, the check command."""

import socket

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from oscar_gpt import llm
from oscar_gpt.models import LedgerEntry

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LOCAL = {"CLASS": "oscar_gpt.llm.local.TransformersBackend", "CONFIG": {"MAX_NEW_TOKENS": 12}}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_openai():
    return {
        "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
        "CONFIG": {
            "MODEL": "gpt-4o-mini",
            "BASE_URL": f"http://127.0.0.1:{closed_port()}/v1",
            "MAX_RETRIES": 0,
            "TIMEOUT": 5,
        },
    }


MESSAGES = [{"role": "user", "content": "My email is jane@example.com. Say hi."}]


@override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}})
def test_chat_writes_a_ledger_row_without_the_prompt(local_backend, django_user_model):
    user = django_user_model.objects.create_user("shopper", "s@example.com", "pw")
    completion = llm.chat("qa", MESSAGES, obj=user, user=user)
    entry = LedgerEntry.objects.get()
    assert completion.extra["ledger_id"] == entry.pk
    assert (entry.feature, entry.backend, entry.status) == ("qa", "local", "ok")
    assert entry.model == "SmolLM2-135M-Instruct.Q4_1"
    assert entry.prompt_tokens == completion.prompt_tokens > 0
    assert entry.completion_tokens == completion.completion_tokens > 0
    assert entry.cost == 0 and entry.latency_ms > 0
    assert entry.content_object == user and entry.user == user
    assert len(entry.prompt_hash) == 64
    stored = " ".join(str(getattr(entry, f.attname)) for f in entry._meta.fields)
    assert "jane@example.com" not in stored


@override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}})
def test_batch_writes_one_row_per_conversation(local_backend):
    conversations = [[{"role": "user", "content": f"Say the word {w}."}] for w in ("tea", "cup")]
    completions = llm.chat_batch("descriptions", conversations)
    assert len(completions) == 2
    rows = LedgerEntry.objects.filter(feature="descriptions", status="ok")
    assert rows.count() == 2
    assert sorted(r.completion_tokens for r in rows) == sorted(
        c.completion_tokens for c in completions
    )


@override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}})
def test_stream_writes_a_row_at_the_end(local_backend):
    chunks = list(llm.chat_stream("qa", [{"role": "user", "content": "Describe tea."}]))
    text = "".join(c.delta for c in chunks)
    assert text.strip()
    entry = LedgerEntry.objects.get(kind="stream")
    assert entry.completion_tokens == chunks[-1].completion_tokens > 0


def test_fallback_to_the_next_backend_when_the_first_is_down(local_backend):
    config = {
        "BACKENDS": {"remote": dead_openai(), "local": LOCAL},
        "FEATURES": {"qa": ["remote", "local"]},
    }
    with override_settings(OSCAR_GPT=config):
        completion = llm.chat("qa", MESSAGES)
    assert completion.extra["backend"] == "local" and completion.text
    failed, ok = LedgerEntry.objects.order_by("id")
    assert (failed.backend, failed.status, failed.error_class) == (
        "remote",
        "error",
        "BackendUnavailable",
    )
    assert (ok.backend, ok.status) == ("local", "ok")


def test_whole_chain_down_raises_a_retryable_error():
    config = {"BACKENDS": {"a": dead_openai(), "b": dead_openai()}, "FEATURES": {"qa": ["a", "b"]}}
    with override_settings(OSCAR_GPT=config):
        with pytest.raises(llm.BackendUnavailable) as caught:
            llm.chat("qa", MESSAGES)
    assert caught.value.retryable
    assert list(LedgerEntry.objects.values_list("backend", "status")) == [
        ("b", "error"),
        ("a", "error"),
    ]


def test_a_final_error_is_not_passed_down_the_chain(local_backend):
    config = {"BACKENDS": {"local": LOCAL, "other": LOCAL}, "FEATURES": {"qa": ["local", "other"]}}
    with override_settings(OSCAR_GPT=config):
        with pytest.raises(llm.BadRequest):
            llm.chat("qa", [])
    assert list(LedgerEntry.objects.values_list("backend", "error_class")) == [
        ("local", "BadRequest")
    ]


@override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}})
def test_check_command_reports_the_local_backend(local_backend, capsys):
    call_command("oscar_gpt_check")
    out = capsys.readouterr().out
    assert "local" in out and "SmolLM2-135M-Instruct" in out and "cpu" in out
    entry = LedgerEntry.objects.get(feature="check")
    assert entry.status == "ok" and f"{entry.completion_tokens:>5}" in out


def test_check_command_fails_with_the_reason(local_backend, capsys):
    with override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL, "remote": dead_openai()}}):
        with pytest.raises(CommandError, match="remote"):
            call_command("oscar_gpt_check")
        out = capsys.readouterr().out
        assert "BackendUnavailable" in out and "SmolLM2" in out
        with pytest.raises(CommandError, match="Unknown backend"):
            call_command("oscar_gpt_check", backend=["nope"])


def test_check_command_stops_on_configuration_errors(tmp_path):
    config = {"CLASS": LOCAL["CLASS"], "CONFIG": {"MODEL": str(tmp_path / "gone.gguf")}}
    with override_settings(OSCAR_GPT={"BACKENDS": {"local": config}}):
        with pytest.raises(CommandError, match="configuration error"):
            call_command("oscar_gpt_check")
    assert not LedgerEntry.objects.exists()


@override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}})
def test_an_abandoned_stream_is_still_recorded(local_backend):
    stream = llm.chat_stream("qa", [{"role": "user", "content": "Describe tea in detail."}])
    assert next(stream).delta
    stream.close()  # the shopper closed the page
    entry = LedgerEntry.objects.get(kind="stream")
    assert (entry.status, entry.error_class) == ("error", "GeneratorExit")
