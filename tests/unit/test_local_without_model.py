"""The local backend's choices that need no model: THREADS, and the system message that
prompts share (read once, llm.local's prefix cache)."""

import pytest

from oscar_gpt.llm import ConfigurationError
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
