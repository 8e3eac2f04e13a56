"""The sandbox's settings with overrides from the environment, for the worker processes that
the fault tests start (``tests/integration/test_faults.py``).

A worker reads its settings once, at start-up (``oscar_gpt.tasks.model_task`` even bakes
``TASK_MAX_RETRIES`` and ``TASK_RETRY_BACKOFF_MAX`` into its tasks when they are defined), so
``override_settings`` in the test process can't reach it. ``OSCAR_GPT_TEST_SETTINGS`` holds
JSON instead::

    {
        "OSCAR_GPT": {"FEATURES": {"descriptions": ["openai", "local"]}},  # merged
        "CELERY_BROKER_TRANSPORT_OPTIONS": {"visibility_timeout": 20},    # replaced
        "DB_APPLICATION_NAME": "oscar-gpt-fault-worker"  # PostgreSQL's application_name
    }

``OSCAR_GPT`` is merged into the sandbox's dict key by key; any other key replaces the
setting of that name. ``DB_APPLICATION_NAME`` tags the worker's database connections, so a
test can find (and terminate) them in ``pg_stat_activity`` without touching anyone else's.
"""

import json
import os

from sandbox.settings import *  # noqa: F403
from sandbox.settings import DATABASES, OSCAR_GPT

_overrides = json.loads(os.environ.get("OSCAR_GPT_TEST_SETTINGS") or "{}")

OSCAR_GPT = {**OSCAR_GPT, **_overrides.pop("OSCAR_GPT", {})}

_application_name = _overrides.pop("DB_APPLICATION_NAME", "")
if _application_name:
    DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = _application_name

globals().update(_overrides)


def _forget_content_types(**kwargs) -> None:
    """A worker outlives the test that started it, and the test database is flushed after
    each test (content types come back with new ids): never use the previous test's."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def _connect_signals() -> None:
    from celery.signals import task_prerun

    task_prerun.connect(_forget_content_types, weak=False)


_connect_signals()
