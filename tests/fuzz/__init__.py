"""Fuzz tests: schemathesis against the REST API, hypothesis against the pure functions.

Reproducible by default: every test is derandomized (the same examples on every run, no
example database), so CI never goes red on a draw of the dice. For a longer, random search
on a developer's machine::

    OSCAR_GPT_FUZZ_EXPLORE=1 python -m pytest tests/fuzz
"""

import os

from hypothesis import HealthCheck, settings

#: A random search (and 10x the examples) instead of the fixed one.
EXPLORE = os.environ.get("OSCAR_GPT_FUZZ_EXPLORE", "") not in ("", "0")


def fuzz_settings(max_examples: int, **extra) -> settings:
    """Hypothesis settings for one fuzz test: bounded, no deadline (the first call of a
    checker builds its vocabulary), derandomized unless exploring."""
    return settings(
        max_examples=max_examples * (10 if EXPLORE else 1),
        deadline=None,
        derandomize=not EXPLORE,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
        **extra,
    )
