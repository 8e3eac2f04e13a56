"""Django system checks: misconfiguration shows at start-up, with a hint, not at the first
shopper request."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .app_settings import FEATURE_NAMES, app_settings

TAG = "oscar_gpt"


@register(TAG, Tags.compatibility)
def check_backends(app_configs=None, **kwargs):
    from .llm.errors import ConfigurationError
    from .llm.registry import build_backend

    messages = []
    backends = app_settings.BACKENDS
    if not isinstance(backends, dict) or not backends:
        return [
            Error(
                "OSCAR_GPT['BACKENDS'] must be a non-empty dict of backends by alias.",
                hint='{"local": {"CLASS": "oscar_gpt.llm.local.TransformersBackend"}}',
                id="oscar_gpt.E001",
            )
        ]
    for alias in backends:
        try:
            backend = build_backend(alias)
        except ConfigurationError as exc:
            messages.append(
                Error(
                    str(exc),
                    hint="CLASS must be the dotted path of an oscar_gpt.llm.base.Backend "
                    "subclass, e.g. oscar_gpt.llm.openai.OpenAIBackend.",
                    obj=alias,
                    id="oscar_gpt.E002",
                )
            )
            continue
        messages.extend(backend.check())
    for feature, chain in app_settings.FEATURES.items():
        aliases = [chain] if isinstance(chain, str) else list(chain)
        for alias in aliases:
            if alias not in backends:
                messages.append(
                    Error(
                        f"Feature {feature!r} uses backend {alias!r}, which is not in "
                        "OSCAR_GPT['BACKENDS'].",
                        hint=f"Configured aliases: {', '.join(sorted(backends))}.",
                        obj=feature,
                        id="oscar_gpt.E003",
                    )
                )
        if feature not in FEATURE_NAMES:
            messages.append(
                Warning(
                    f"OSCAR_GPT['FEATURES'] names {feature!r}, which is not a feature.",
                    hint=f"Features: {', '.join(FEATURE_NAMES)}.",
                    id="oscar_gpt.W003",
                )
            )
    return messages


@register(TAG)
def check_celery(app_configs=None, **kwargs):
    broker = getattr(settings, "CELERY_BROKER_URL", None)
    eager = getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    if broker or eager:
        return []
    try:
        from celery import current_app

        broker = current_app.conf.broker_url
    except Exception:  # pragma: no cover - celery is a dependency
        broker = None
    if broker:
        return []
    return [
        Warning(
            "Celery is not configured: generation, answering and bulk jobs are queued as "
            "Celery tasks and will not run.",
            hint="Define a Celery app for your project (see README) and set CELERY_BROKER_URL, "
            "e.g. 'redis://127.0.0.1:6379/0', or 'filesystem://' for a single machine.",
            id="oscar_gpt.W001",
        )
    ]


@register(TAG)
def check_feature_settings(app_configs=None, **kwargs):
    """Budgets, rate limits and the Q&A's choices: mistakes found at start-up, not at the
    first shopper's request."""
    from decimal import Decimal, InvalidOperation

    from rest_framework.throttling import SimpleRateThrottle

    from .app_settings import app_settings

    messages = []
    budgets = app_settings.BUDGETS
    if not isinstance(budgets, dict):
        budgets = {"BUDGETS": budgets}
    for feature, caps in budgets.items():
        if feature != "*" and feature not in FEATURE_NAMES:
            messages.append(
                Warning(
                    f"OSCAR_GPT['BUDGETS'] names {feature!r}, which is not a feature.",
                    hint=f"Features: {', '.join(FEATURE_NAMES)}, or '*' for all.",
                    id="oscar_gpt.W004",
                )
            )
        if not isinstance(caps, dict) or set(caps) - {"DAILY", "MONTHLY"}:
            messages.append(
                Error(
                    f"OSCAR_GPT['BUDGETS'][{feature!r}] must be a dict with DAILY and/or MONTHLY.",
                    hint='For example {"DAILY": "1.00", "MONTHLY": "20.00"} (USD).',
                    id="oscar_gpt.E008",
                )
            )
            continue
        for period, cap in caps.items():
            try:
                ok = cap is None or Decimal(str(cap)) >= 0
            except InvalidOperation:
                ok = False
            if not ok:
                messages.append(
                    Error(
                        f"OSCAR_GPT['BUDGETS'][{feature!r}][{period!r}] = {cap!r} is not an "
                        "amount.",
                        hint='Use a non-negative number of USD, as a string: "20.00".',
                        id="oscar_gpt.E008",
                    )
                )
    for scope, rate in app_settings.RATE_LIMITS.items():
        if rate is None:
            continue
        try:
            SimpleRateThrottle.parse_rate(None, rate)
        except (ValueError, KeyError, AttributeError, TypeError):
            messages.append(
                Error(
                    f"OSCAR_GPT['RATE_LIMITS'][{scope!r}] = {rate!r} is not a rate.",
                    hint='Use DRF\'s notation: "6/min", "100/hour", "1000/day", or None.',
                    id="oscar_gpt.E009",
                )
            )
    if app_settings.QA_ON_FAILED_CHECK not in ("quote", "handoff"):
        messages.append(
            Error(
                "OSCAR_GPT['QA_ON_FAILED_CHECK'] must be 'quote' or 'handoff'.",
                id="oscar_gpt.E010",
            )
        )
    return messages
