"""The OSCAR_GPT setting, the backend registry and the system checks."""

from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from oscar_gpt.app_settings import app_settings
from oscar_gpt.checks import TAG
from oscar_gpt.llm import ConfigurationError, get_backend, get_chain
from oscar_gpt.llm.local import TransformersBackend
from oscar_gpt.llm.openai import OpenAIBackend

LOCAL = {"CLASS": "oscar_gpt.llm.local.TransformersBackend", "CONFIG": {}}
OPENAI = {"CLASS": "oscar_gpt.llm.openai.OpenAIBackend", "CONFIG": {"MODEL": "gpt-4o-mini"}}


def check_ids():
    return sorted(message.id for message in run_checks(tags=[TAG]))


def test_settings_are_read_lazily():
    with override_settings(OSCAR_GPT={"BACKENDS": {"a": LOCAL}, "FEATURES": {"qa": "a"}}):
        assert app_settings.feature_chain("qa") == ["a"]
        assert app_settings.feature_chain("descriptions") == ["a"]  # first alias by default
    with override_settings(
        OSCAR_GPT={"BACKENDS": {"a": LOCAL, "b": OPENAI}, "FEATURES": {"qa": ["b", "a"]}}
    ):
        assert app_settings.feature_chain("qa") == ["b", "a"]
    with override_settings(OSCAR_GPT={}):
        assert list(app_settings.BACKENDS) == ["local"]


def test_backends_are_cached_and_rebuilt_when_settings_change(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with override_settings(
        OSCAR_GPT={"BACKENDS": {"a": LOCAL, "b": OPENAI}, "FEATURES": {"qa": ["b", "a"]}}
    ):
        first = get_backend("a")
        assert get_backend("a") is first
        chain = get_chain("qa")
        assert [type(b) for b in chain] == [OpenAIBackend, TransformersBackend]
    with override_settings(OSCAR_GPT={"BACKENDS": {"a": {**LOCAL, "CONFIG": {"BATCH_SIZE": 3}}}}):
        rebuilt = get_backend("a")
        assert rebuilt is not first and rebuilt.config["BATCH_SIZE"] == 3


def test_unknown_alias_is_a_configuration_error():
    with override_settings(OSCAR_GPT={"BACKENDS": {"a": LOCAL}}):
        with pytest.raises(ConfigurationError, match="Unknown backend alias 'zzz'"):
            get_backend("zzz")


def test_the_sandbox_configuration_passes_the_checks():
    assert [m for m in run_checks(tags=[TAG]) if m.is_serious()] == []


def test_unknown_backend_class():
    with override_settings(OSCAR_GPT={"BACKENDS": {"x": {"CLASS": "nowhere.Backend"}}}):
        assert check_ids() == ["oscar_gpt.E002"]
    with override_settings(OSCAR_GPT={"BACKENDS": {"x": {"CLASS": "decimal.Decimal"}}}):
        assert check_ids() == ["oscar_gpt.E002"]


def test_empty_backends():
    with override_settings(OSCAR_GPT={"BACKENDS": {}}):
        assert check_ids() == ["oscar_gpt.E001"]


def test_feature_naming_an_unknown_alias():
    with override_settings(
        OSCAR_GPT={"BACKENDS": {"local": LOCAL}, "FEATURES": {"qa": ["local", "gpt"]}}
    ):
        messages = run_checks(tags=[TAG])
        assert [m.id for m in messages] == ["oscar_gpt.E003"]
        assert "'gpt'" in messages[0].msg and "local" in messages[0].hint


def test_misspelt_feature_is_a_warning():
    with override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}, "FEATURES": {"q_a": "local"}}):
        assert check_ids() == ["oscar_gpt.W003"]


def test_openai_without_an_api_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with override_settings(OSCAR_GPT={"BACKENDS": {"openai": OPENAI}}):
        messages = run_checks(tags=[TAG])
        assert [m.id for m in messages] == ["oscar_gpt.E004"]
        assert "OPENAI_API_KEY" in messages[0].msg
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    with override_settings(OSCAR_GPT={"BACKENDS": {"openai": OPENAI}}):
        assert check_ids() == []


def test_key_from_another_variable_and_never_echoed(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("SHOP_OPENAI_KEY", "sk-secret-value")
    config = {**OPENAI, "CONFIG": {"MODEL": "gpt-4o-mini", "API_KEY_ENV": "SHOP_OPENAI_KEY"}}
    with override_settings(OSCAR_GPT={"BACKENDS": {"openai": config}}):
        backend = get_backend("openai")
        assert backend.api_key == "sk-secret-value"
        assert "sk-secret-value" not in repr(backend.describe())
        assert check_ids() == []


def test_openai_compatible_server_without_key_is_only_a_warning(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = {**OPENAI, "CONFIG": {"MODEL": "llama", "BASE_URL": "http://127.0.0.1:8080/v1"}}
    with override_settings(OSCAR_GPT={"BACKENDS": {"vllm": config}}):
        assert check_ids() == ["oscar_gpt.W002"]


def test_local_backend_with_a_missing_model_file(tmp_path):
    config = {**LOCAL, "CONFIG": {"MODEL": str(tmp_path / "missing.gguf")}}
    with override_settings(OSCAR_GPT={"BACKENDS": {"local": config}}):
        messages = run_checks(tags=[TAG])
        assert [m.id for m in messages] == ["oscar_gpt.E006"]
        assert "missing.gguf" in messages[0].msg


def test_local_backend_without_torch(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real_find_spec(name, *a),
    )
    with override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}}):
        messages = run_checks(tags=[TAG])
        assert [m.id for m in messages] == ["oscar_gpt.E005"]
        assert "torch" in messages[0].msg


def test_celery_not_configured(monkeypatch):
    from celery import current_app

    monkeypatch.setattr(current_app.conf, "broker_url", None)
    with override_settings(CELERY_BROKER_URL=None, CELERY_TASK_ALWAYS_EAGER=False):
        assert "oscar_gpt.W001" in check_ids()
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0"):
        assert "oscar_gpt.W001" not in check_ids()


def test_price_table_and_cost():
    backend = OpenAIBackend("openai", {"MODEL": "gpt-4o-mini"})
    # 0.15 USD per million in, 0.60 per million out
    assert str(backend.cost(1_000_000, 0)) == "0.15"
    assert backend.cost(1000, 500) == Decimal("0.00045")
    with override_settings(OSCAR_GPT={"PRICES": {"gpt-4o-mini": ("1", "2")}}):
        assert backend.cost(1_000_000, 1_000_000) == 3
    assert TransformersBackend("local", {}).cost(10**6, 10**6) == 0


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"BUDGETS": {"qa": {"DAILY": "1.00", "MONTHLY": 20}}}, []),
        ({"BUDGETS": {"*": {"MONTHLY": "5"}}}, []),
        ({"BUDGETS": {"q_a": {"DAILY": "1"}}}, ["oscar_gpt.W004"]),
        ({"BUDGETS": {"qa": {"WEEKLY": "1"}}}, ["oscar_gpt.E008"]),
        ({"BUDGETS": {"qa": {"DAILY": "lots"}}}, ["oscar_gpt.E008"]),
        ({"BUDGETS": {"qa": {"DAILY": "-1"}}}, ["oscar_gpt.E008"]),
        ({"RATE_LIMITS": {"qa_ip": "5/min", "qa_session": None}}, []),
        ({"RATE_LIMITS": {"qa_ip": "five a minute"}}, ["oscar_gpt.E009"]),
        ({"RATE_LIMITS": {"qa_ip": "5/fortnight"}}, ["oscar_gpt.E009"]),
        ({"QA_ON_FAILED_CHECK": "shrug"}, ["oscar_gpt.E010"]),
    ],
)
def test_budgets_rate_limits_and_qa_choices_are_checked(extra, expected):
    with override_settings(OSCAR_GPT={"BACKENDS": {"local": LOCAL}} | extra):
        assert check_ids() == expected
