"""Backends by alias, built once per process from ``OSCAR_GPT["BACKENDS"]``."""

from __future__ import annotations

import threading

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..app_settings import app_settings
from .base import Backend
from .errors import ConfigurationError

_backends: dict[str, Backend] = {}
_lock = threading.Lock()


def backend_class(dotted_path: str) -> type[Backend]:
    try:
        cls = import_string(dotted_path)
    except ImportError as exc:
        raise ConfigurationError(f"Cannot import backend class {dotted_path!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise ConfigurationError(f"{dotted_path!r} is not a subclass of oscar_gpt.llm.base.Backend")
    return cls


def build_backend(alias: str) -> Backend:
    """A new backend instance for ``alias`` (not cached)."""
    definition = app_settings.BACKENDS.get(alias)
    if definition is None:
        # Fine-tuned models (oscar_gpt.finetune) are backends too: their "ft-" aliases name
        # rows of FineTunedModel. Settings win: an alias defined there is never looked up.
        from ..finetune.registry import backend_definition

        definition = backend_definition(alias)
    if definition is None:
        known = ", ".join(sorted(app_settings.BACKENDS)) or "none"
        raise ConfigurationError(f"Unknown backend alias {alias!r} (configured: {known}).")
    if "CLASS" not in definition:
        raise ConfigurationError(f"Backend {alias!r} has no CLASS.")
    return backend_class(definition["CLASS"])(alias, definition.get("CONFIG") or {})


def get_backend(alias: str) -> Backend:
    """The process-wide instance of the backend named ``alias``."""
    with _lock:
        if alias not in _backends:
            _backends[alias] = build_backend(alias)
        return _backends[alias]


def get_chain(feature: str) -> list[Backend]:
    """The backends ``feature`` tries, in order."""
    # Fine-tuned models chosen for the feature in the dashboard go first (oscar_gpt.finetune).
    from ..finetune.registry import chain_for

    return [get_backend(alias) for alias in chain_for(feature, app_settings.feature_chain(feature))]


def reset_backends() -> None:
    with _lock:
        _backends.clear()


@receiver(setting_changed)
def _reset_on_setting_changed(setting, **kwargs):
    if setting == "OSCAR_GPT":
        reset_backends()
        from .embeddings import reset_embedder

        reset_embedder()
