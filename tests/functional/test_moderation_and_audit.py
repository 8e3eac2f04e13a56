"""Shopper questions go through an OpenAI backend's moderation endpoint; people's decisions
are in the audit log.

The moderation endpoint of OpenAI's API can't be reached from here: a local HTTP server
answers ``POST /v1/moderations`` with the API's documented response shape.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oscar_gpt import llm
from oscar_gpt.models import AuditEntry, Draft, LedgerEntry, Question
from oscar_gpt.qa import service
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = [pytest.mark.django_db]


class _Moderations(BaseHTTPRequestHandler):
    seen: list

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body))
        flagged = "hate" in body["input"]
        reply = {
            "id": "modr-1",
            "model": "omni-moderation-2024-09-26",
            "results": [
                {
                    "flagged": flagged,
                    "categories": {"harassment": flagged, "violence": False, "self-harm": False},
                    "category_scores": {"harassment": 0.9 if flagged else 0.01},
                    "category_applied_input_types": {"harassment": ["text"]},
                }
            ],
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def moderation_api():
    handler = type("Handler", (_Moderations,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler.seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def moderated(settings, moderation_api, monkeypatch):
    url, seen = moderation_api
    monkeypatch.setenv("OSCAR_GPT_TEST_KEY", "sk-test")
    backends = settings.OSCAR_GPT["BACKENDS"] | {
        "openai": {
            "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
            "CONFIG": {
                "BASE_URL": url,
                "API_KEY_ENV": "OSCAR_GPT_TEST_KEY",
                "MODERATION": True,
                "MAX_RETRIES": 0,
            },
        }
    }
    # Moderation by the OpenAI backend; the answers themselves by the local model.
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "BACKENDS": backends,
        "FEATURES": {"qa": ["local", "openai"]},
    }
    return seen


def test_flagged_questions_are_not_answered(moderated, django_user_model):
    product = headphones(headphones_class())
    shopper = django_user_model.objects.create_user(
        "ann", "ann@example.com", "pw", first_name="Ann", last_name="Smith"
    )
    question = service.ask(
        product, "I hate you, Ann Smith at ann@example.com", user=shopper, enqueue=False
    )
    question = service.answer(question.pk)
    assert question.status == Question.Status.REJECTED
    assert question.trace["moderation"] == ["harassment"]
    assert service.status_payload(question)["message"] == "This question won't be answered."
    # The moderation service saw no personal data, and the call is in the ledger.
    [(path, body)] = moderated
    assert path == "/v1/moderations" and body["model"] == "omni-moderation-latest"
    assert "ann@example.com" not in body["input"] and "Ann Smith" not in body["input"]
    row = LedgerEntry.objects.get(kind="moderation")
    assert row.backend == "openai" and row.status == "ok" and row.cost == 0
    assert row.object_id == str(question.pk)


def test_clean_questions_go_on_to_the_gate(moderated):
    product = headphones(headphones_class())
    question = service.ask(product, "Is it waterproof?", enqueue=False)
    question = service.answer(question.pk)
    assert question.status == Question.Status.NEEDS_STAFF  # the facts don't say
    assert len(moderated) == 1


def test_moderation_is_off_for_compatible_servers_by_default(settings):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "BACKENDS": {
            "vllm": {
                "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
                "CONFIG": {"BASE_URL": "http://127.0.0.1:9/v1"},
            },
            "api": {"CLASS": "oscar_gpt.llm.openai.OpenAIBackend", "CONFIG": {}},
        }
    }
    assert not llm.get_backend("vllm").moderates
    assert llm.get_backend("api").moderates


def test_a_failing_moderation_service_does_not_block_the_shopper(settings, monkeypatch):
    monkeypatch.setenv("OSCAR_GPT_TEST_KEY", "sk-test")
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "BACKENDS": settings.OSCAR_GPT["BACKENDS"]
        | {
            "openai": {
                "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
                "CONFIG": {
                    "BASE_URL": "http://127.0.0.1:9/v1",
                    "API_KEY_ENV": "OSCAR_GPT_TEST_KEY",
                    "MODERATION": True,
                    "MAX_RETRIES": 0,
                    "TIMEOUT": 2,
                },
            }
        },
        "FEATURES": {"qa": ["local", "openai"]},
    }
    verdict = llm.moderate("qa", "Is it waterproof?")
    assert not verdict.flagged
    assert LedgerEntry.objects.get(kind="moderation").status == "error"


def test_decisions_are_in_the_audit_log(django_user_model):
    from oscar_gpt.descriptions import service as descriptions

    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw")
    product = headphones(headphones_class(), description="Old text.")
    draft = Draft.objects.create(
        product=product,
        field="description",
        text="New text.",
        language="en-gb",
        params={},
        params_hash="x",
        backend="local",
        model="m",
    )
    descriptions.approve(draft, user=staff, text="New text, edited.")
    revision = product.gpt_revisions.get()
    descriptions.restore(revision, user=staff)
    question = service.ask(product, "Does it fold?", enqueue=False)
    service.staff_answer(question, "Yes.", user=staff, publish=True)
    service.set_published(question, False, user=staff)
    spam = service.ask(product, "Buy cheap watches", enqueue=False)
    service.reject(spam, "spam", user=staff)

    log = list(AuditEntry.objects.order_by("id"))
    assert [entry.action for entry in log] == [
        "draft_edited",
        "draft_approved",
        "revision_restored",
        "question_answered",
        "question_published",
        "question_unpublished",
        "question_rejected",
    ]
    assert all(entry.user == staff and entry.user_repr == "staff" for entry in log)
    edited, approved, restored = log[:3]
    assert (edited.before, edited.after) == ("New text.", "New text, edited.")
    # Published as escaped HTML (Oscar shows descriptions unescaped).
    assert (approved.before, approved.after) == ("Old text.", "<p>New text, edited.</p>")
    assert (restored.before, restored.after) == ("<p>New text, edited.</p>", "Old text.")
    assert log[-1].reason == "spam" and log[-1].object_id == str(spam.pk)
    # The log outlives the account that acted.
    staff.delete()
    assert AuditEntry.objects.filter(user_repr="staff", user=None).count() == len(log)


def test_customer_data_export_and_anonymise(django_user_model):
    import io
    import json as json_module

    from django.core.management import call_command

    shopper = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    product = headphones(headphones_class())
    service.ask(product, "Does it fold?", user=shopper, enqueue=False)
    out = io.StringIO()
    call_command("oscar_gpt_customer_data", "ANN@example.com", stdout=out)
    exported = json_module.loads(out.getvalue())
    assert [q["question"] for q in exported["questions"]] == ["Does it fold?"]
    call_command("oscar_gpt_customer_data", "ann@example.com", "--anonymise", stdout=io.StringIO())
    assert Question.objects.get().user is None
    assert django_user_model.objects.filter(pk=shopper.pk).exists()  # the account stays
