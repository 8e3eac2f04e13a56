"""The local backend's THREADS setting: how many torch threads a pass gets."""

import pytest

from oscar_gpt.llm import ConfigurationError
from oscar_gpt.llm.local import TransformersBackend, thread_plan


@pytest.mark.parametrize(
    ("cores", "plan"), [(1, (1, 1)), (2, (1, 2)), (4, (3, 4)), (16, (15, 16))]
)
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
