"""The local backend's choices that need no model: THREADS, INT4_PROMPTS, and the system
message that prompts share (read once, llm.local's prefix cache)."""

import pytest

from oscar_gpt.llm import ConfigurationError
from oscar_gpt.llm.int4 import prompt_copy_setting
from oscar_gpt.llm.local import TransformersBackend, thread_plan


@pytest.mark.parametrize(("cores", "plan"), [(1, (1, 1)), (2, (1, 2)), (4, (3, 4)), (16, (15, 16))])
def test_auto_leaves_one_core_to_the_rest_of_the_machine_for_a_few_rows(cores, plan):
    assert thread_plan("auto", cores=cores) == plan


def test_a_number_is_used_for_every_pass_and_none_leaves_torch_alone():
    assert thread_plan(3, cores=2) == (3, 3)
    assert thread_plan(None, cores=2) is None


@pytest.mark.parametrize("setting", [0, -2, "two", 1.5, True, "AUTO"])
def test_anything_else_is_a_configuration_error(setting):
    with pytest.raises(ConfigurationError, match="THREADS must be"):
        thread_plan(setting)


def test_the_system_check_names_a_bad_setting():
    backend = TransformersBackend("local", {"THREADS": "all"})
    ids = [message.id for message in backend.check()]
    assert "oscar_gpt.E011" in ids
    assert "oscar_gpt.E011" not in [m.id for m in TransformersBackend("x", {}).check()]


def test_the_default_is_auto():
    assert TransformersBackend("local", {}).config["THREADS"] == "auto"


def test_a_system_message_is_shared_only_where_the_prompt_begins_with_it():
    """The part of a prompt read once for many (llm.local's system-message cache)."""

    class Tokenizer:
        def __init__(self, refuse=False):
            self.refuse = refuse

        def apply_chat_template(self, messages, tokenize=False):
            if self.refuse:  # as a template that wants a user message does
                raise ValueError("Conversation roles must alternate user/assistant")
            return "".join(f"<{m['role']}>{m['content']}</>" for m in messages)

    class Model:
        tokenizer = Tokenizer()

    system = {"role": "system", "content": "Answer from the facts."}
    user = {"role": "user", "content": "How long?"}
    prefix = TransformersBackend._system_prefix
    prompt = "<system>Answer from the facts.</><user>How long?</><assistant>"
    assert prefix(Model, [system, user], prompt) == "<system>Answer from the facts.</>"
    assert prefix(Model, [user], "<user>How long?</>") == ""
    assert prefix(Model, [system], "<system>Answer from the facts.</>") == ""
    assert prefix(Model, [system, user], "<bos>" + prompt) == ""  # the prompt begins otherwise
    Model.tokenizer = Tokenizer(refuse=True)
    assert prefix(Model, [system, user], prompt) == ""


@pytest.mark.parametrize(
    ("setting", "prompt_copy"),
    [("auto", None), ("kernel", False), ("bfloat16", "bfloat16"), ("float32", "float32")],
)
def test_int4_prompts_says_what_prompt_passes_multiply_from(setting, prompt_copy):
    assert prompt_copy_setting(setting) == prompt_copy
    assert "oscar_gpt.E012" not in [
        m.id for m in TransformersBackend("x", {"INT4_PROMPTS": setting}).check()
    ]


@pytest.mark.parametrize("setting", ["float16", None, True, "KERNEL", ""])
def test_another_int4_prompts_is_a_configuration_error_and_a_system_check(setting):
    with pytest.raises(ConfigurationError, match="INT4_PROMPTS must be one of"):
        prompt_copy_setting(setting)
    ids = [m.id for m in TransformersBackend("local", {"INT4_PROMPTS": setting}).check()]
    assert "oscar_gpt.E012" in ids


def test_int4_prompts_reaches_the_packing(monkeypatch):
    """The setting is what loading hands ``pack_int4``, and a model loaded with another
    setting is another model."""
    from oscar_gpt.llm import local

    assert TransformersBackend("local", {}).config["INT4_PROMPTS"] == "auto"
    calls = []

    class Loaded:
        def __init__(self, *args):
            calls.append(args)

    monkeypatch.setattr(local, "LoadedModel", Loaded)
    monkeypatch.setattr(local, "_models", {})
    backend = TransformersBackend("local", {"INT4_PROMPTS": "kernel", "DEVICE": "cpu"})
    monkeypatch.setattr(TransformersBackend, "source", "a source")
    first = backend.loaded
    assert backend.loaded is first and len(calls) == 1
    assert calls[0][-2:] == ("auto", "kernel")  # INT4, INT4_PROMPTS
    other = TransformersBackend("local", {"INT4_PROMPTS": "float32", "DEVICE": "cpu"}).loaded
    assert other is not first and calls[1][-1] == "float32"
