"""Settings for ``bench/bench_qa.py``'s and ``bench/load_qa.py``'s throwaway shops: the
sandbox's, with six changes.

The benchmark process, its Celery worker and its web server all run with
``DJANGO_SETTINGS_MODULE=qa_settings`` (``bench/`` on ``PYTHONPATH``), the database
(``DATABASE_URL``: a fresh SQLite file, or a throwaway PostgreSQL database) and everything
else the sandbox writes (``SANDBOX_VAR_DIR``) in a temporary folder:

* ``QA_REFRESH_IN_BACKGROUND`` off: loading a catalogue would queue one refresh task per
  product; the benchmark builds every product's evidence itself before it asks anything;
* the shopper rate limits lifted: the benchmark's shoppers all come from 127.0.0.1, where
  real ones each have their own address and session;
* SQLite transactions that wait for the write lock instead of failing (see below);
* Haystack's index is not updated on each save (the benchmark never browses the catalogue);
* one URL more, the framework's floor for ``bench_qa.py``'s cache hits (``bench/qa_urls.py``);
* the worker listens on a queue of its own (``BENCH_QA_QUEUE``), so a shared Redis can carry
  other work at the same time, and keeps no task results.

Two switches from the environment, for ``bench/load_qa.py``:

* ``BENCH_RATE_LIMITS=shipped`` keeps the app's shipped ``RATE_LIMITS`` (its shoppers each
  connect from a loopback address of their own);
* ``BENCH_CACHE_URL=redis://...`` puts Django's cache (the rate limiter's counters) in Redis,
  shared by all gunicorn workers, as ``docs/deployment.md`` asks (the sandbox's ``locmem``
  cache is one per process); ``BENCH_CACHE_PREFIX`` keeps the run's keys apart;
* ``BENCH_SESSION_ENGINE=django.contrib.sessions.backends.cached_db`` reads sessions from
  the cache first (with ``BENCH_CACHE_URL``: a cache the web processes share), for
  ``bench_ask_cpu.py --sessions``;
* ``BENCH_FAST_REFUSALS=0`` leaves ``oscar_gpt.middleware.RateLimitedClientsMiddleware`` out
  (``load_qa.py --no-fast-refusals``).
* ``BENCH_CONN_MAX_AGE=60`` keeps database connections open between requests (the sandbox
  opens one per request: ``conn_max_age=0``), for ``bench_qa.py --conn-max-age``.
* ``BENCH_QA_MAX_NEW_TOKENS=40`` sets ``QA_MAX_NEW_TOKENS``, for ``bench_qa.py
  --max-new-tokens``.
* ``BENCH_DECODE_DTYPE=auto`` (or ``float16``...) sets the local backend's ``DECODE_DTYPE``,
  for ``bench_qa.py --decode-dtype``.
* ``BENCH_LOCAL_CONFIG='{"THREADS": null}'`` (JSON) is merged into the local backend's
  ``CONFIG``, for a comparison with another setting, e.g. torch's own thread count;
* ``BENCH_QA_BACKEND=openai`` answers with the sandbox's "openai" backend (``OPENAI_BASE_URL``:
  ``bench_qa.py --backend llama-cpp``'s server on this machine, so not external).
"""

import json
import os

from sandbox.settings import *  # noqa: F403
from sandbox.settings import OSCAR_GPT

OSCAR_GPT = {
    **OSCAR_GPT,
    "QA_REFRESH_IN_BACKGROUND": False,
    "RATE_LIMITS": {"qa_ip": None, "qa_session": None, "qa_user": None},
    "TASK_QUEUES": {},  # every task on the benchmark's queue
}
ROOT_URLCONF = "qa_urls"
if os.environ.get("BENCH_QA_MAX_NEW_TOKENS"):
    OSCAR_GPT["QA_MAX_NEW_TOKENS"] = int(os.environ["BENCH_QA_MAX_NEW_TOKENS"])
if os.environ.get("BENCH_DECODE_DTYPE"):
    _local = OSCAR_GPT["BACKENDS"]["local"]
    _decode = os.environ["BENCH_DECODE_DTYPE"]
    OSCAR_GPT["BACKENDS"] = {
        **OSCAR_GPT["BACKENDS"],
        "local": {
            **_local,
            "CONFIG": {**_local["CONFIG"], "DECODE_DTYPE": None if _decode == "none" else _decode},
        },
    }
if os.environ.get("BENCH_LOCAL_CONFIG"):
    _local = OSCAR_GPT["BACKENDS"]["local"]
    OSCAR_GPT["BACKENDS"] = {
        **OSCAR_GPT["BACKENDS"],
        "local": {
            **_local,
            "CONFIG": {**_local["CONFIG"], **json.loads(os.environ["BENCH_LOCAL_CONFIG"])},
        },
    }
if os.environ.get("BENCH_QA_BACKEND") == "openai":
    _openai = OSCAR_GPT["BACKENDS"]["openai"]
    OSCAR_GPT["BACKENDS"] = {
        **OSCAR_GPT["BACKENDS"],
        "openai": {**_openai, "CONFIG": {**_openai["CONFIG"], "EXTERNAL": False}},
    }
    OSCAR_GPT["FEATURES"] = {**OSCAR_GPT["FEATURES"], "qa": ["openai"]}
if os.environ.get("BENCH_RATE_LIMITS") == "shipped":
    del OSCAR_GPT["RATE_LIMITS"]
if os.environ.get("BENCH_FAST_REFUSALS") == "0":  # the Q&A limits without the middleware
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.endswith("RateLimitedClientsMiddleware")]  # noqa: F405
if os.environ.get("BENCH_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["BENCH_CACHE_URL"],
            "KEY_PREFIX": os.environ.get("BENCH_CACHE_PREFIX", "bench"),
        }
    }
if os.environ.get("BENCH_SESSION_ENGINE"):  # e.g. ...cached_db, with BENCH_CACHE_URL
    SESSION_ENGINE = os.environ["BENCH_SESSION_ENGINE"]
# Concurrent shoppers: Django's SQLite transactions start deferred, so two requests that read
# and then write (ATOMIC_REQUESTS; a session, a question) fail at once with "database is
# locked" instead of waiting for the lock; IMMEDIATE takes the write lock at the start and
# waits for it (the "timeout" option).
if os.environ.get("BENCH_CONN_MAX_AGE"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])  # noqa: F405
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"  # noqa: F405
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QA_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
# A failed request's traceback in the web server's log (the sandbox shows it only with DEBUG).
LOGGING = {
    **LOGGING,  # noqa: F405
    "loggers": {
        **LOGGING["loggers"],  # noqa: F405
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
