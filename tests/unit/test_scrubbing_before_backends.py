"""Shopper text is scrubbed before an external backend sees it, not before a local one."""

import pytest
from django.test import override_settings

from oscar_gpt import llm
from oscar_gpt.llm.base import Backend, Completion, StreamChunk
from oscar_gpt.models import LedgerEntry

pytestmark = pytest.mark.django_db


class RecordingBackend(Backend):
    """Records what it was sent: this test is about what our code sends, not about a model."""

    seen: list = []

    @property
    def model_name(self):
        return "recording"

    def complete(self, messages, **params):
        RecordingBackend.seen.append(messages)
        return Completion("ok", 1, 1, "recording")

    def stream(self, messages, **params):
        RecordingBackend.seen.append(messages)
        yield StreamChunk("ok")
        yield StreamChunk("", 1, 1, "stop")


def config(external, allow_local=True):
    return {
        "BACKENDS": {
            "b": {"CLASS": f"{__name__}.RecordingBackend", "CONFIG": {"EXTERNAL": external}}
        },
        "ALLOW_RAW_TEXT_LOCAL": allow_local,
    }


QUESTION = "I'm Jane Doe, email jane.doe@example.com or call +44 20 7946 0958. Is SKU 8801643 in?"
SYSTEM = {"role": "system", "content": "Shop assistant. Contact: help@shop.example"}


@pytest.mark.parametrize(
    "external, allow_local, scrubbed",
    [
        (True, True, True),
        (False, True, False),
        (False, False, True),
    ],
)
def test_scrubbing_depends_on_the_backend(external, allow_local, scrubbed):
    RecordingBackend.seen = []
    messages = [SYSTEM, {"role": "user", "content": QUESTION}]
    with override_settings(OSCAR_GPT=config(external, allow_local)):
        llm.chat("qa", messages, shopper_text=True, names=["Jane Doe"])
        list(llm.chat_stream("qa", messages, shopper_text=True, names=["Jane Doe"]))
    for sent in RecordingBackend.seen:
        user = sent[1]["content"]
        assert ("jane.doe@example.com" not in user) is scrubbed
        assert ("7946 0958" not in user) is scrubbed
        assert ("Jane Doe" not in user) is scrubbed
        assert "SKU 8801643" in user  # look-alikes survive
        assert sent[0] == SYSTEM  # the shop's own text is not shopper text
    assert messages[1]["content"] == QUESTION  # the caller's conversation is untouched
    assert LedgerEntry.objects.filter(status="ok").count() == 2


def test_without_shopper_text_nothing_is_scrubbed():
    RecordingBackend.seen = []
    with override_settings(OSCAR_GPT=config(True)):
        llm.chat("descriptions", [{"role": "user", "content": QUESTION}])
    assert RecordingBackend.seen[0][0]["content"] == QUESTION
