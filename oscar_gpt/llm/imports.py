"""Imports of the machine-learning libraries, one thread at a time.

transformers builds its top-level namespace lazily, and a second thread that imports from it
while the first is still building it can fail with "cannot import name 'AutoModelForCausalLM'
from 'transformers'" (sentence-transformers, peft and the Trainer all import transformers).
Workers run tasks in several threads: the ``threads`` pool by design, and the ``solo`` pool
runs countdown/ETA tasks in its timer thread while the main thread runs another task. So
every import of these libraries in the app goes through :func:`import_names`, and every
model is built under :func:`loading`.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

_lock = threading.RLock()


def import_names(module: str, *names: str) -> tuple[Any, ...]:
    """``from module import *names`` under the process-wide import lock, as a tuple.

    The attributes are resolved inside the lock too: with a lazy module that is where the
    submodules are imported."""
    with _lock:
        imported = importlib.import_module(module)
        try:
            return tuple(getattr(imported, name) for name in names)
        except AttributeError as exc:
            raise ImportError(f"cannot import name {exc.name!r} from {module!r}") from exc


def loading() -> threading.RLock:
    """Hold while a model is built (``with loading(): ...``): transformers and accelerate
    build weights on the "meta" device through process-wide switches while a model loads,
    so a model built in another thread at that moment gets weights without data ("Cannot
    copy out of meta tensor"). The same lock as the imports' (re-entrant)."""
    return _lock


def import_name(module: str, name: str) -> Any:
    """One name from ``module``, as :func:`import_names`."""
    return import_names(module, name)[0]
