"""Fine-tuned models as backend aliases, merged into ``OSCAR_GPT["BACKENDS"]`` by
:mod:`oscar_gpt.llm.registry`.

A :class:`~oscar_gpt.models.FineTunedModel` row is a backend definition: the class and config
of the alias it was fine-tuned from, with its own model (a folder, or a hosted model id and
that model's price). The features a shop owner picks for it in the dashboard try it first,
then their configured chain. To choose one in settings instead, add the definition that
:func:`settings_snippet` prints to ``BACKENDS`` and name the alias in ``FEATURES``.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from ..app_settings import app_settings

logger = logging.getLogger(__name__)


def is_finetuned_alias(alias: str) -> bool:
    from ..models import FineTunedModel

    return alias.startswith(FineTunedModel.ALIAS_PREFIX)


def definition_for(row) -> dict[str, Any] | None:
    """The ``{"CLASS", "CONFIG"}`` of a fine-tuned model; None when its base alias is gone."""
    base = app_settings.BACKENDS.get(row.base_backend)
    if base is None or "CLASS" not in base:
        return None
    config = copy.deepcopy(base.get("CONFIG") or {})
    config["MODEL"] = row.model
    if row.provider == "local":
        config["GGUF_FILE"] = None  # a saved folder of safetensors, whatever the base was
    else:
        base_model = (row.job.base_model if row.job_id else "") or ""
        prices = app_settings.FINETUNE_PRICES.get(base_model)
        if prices and "INPUT" in prices and "OUTPUT" in prices:
            # "ft:gpt-4o-mini-...:org::id" is in no price table: the ledger prices it here.
            config["PRICE"] = (str(prices["INPUT"]), str(prices["OUTPUT"]))
    return {"CLASS": base["CLASS"], "CONFIG": config}


def backend_definition(alias: str) -> dict[str, Any] | None:
    """The definition of fine-tuned ``alias``, or None (aliases without the prefix are never
    looked up, so an unknown alias costs no query)."""
    if not is_finetuned_alias(alias):
        return None
    from ..models import FineTunedModel

    row = FineTunedModel.objects.select_related("job").filter(alias=alias).first()
    return definition_for(row) if row is not None else None


def _chosen() -> list[tuple[str, list[str], str, str]]:
    from ..models import FineTunedModel

    rows = FineTunedModel.objects.exclude(features=[]).order_by("-created_at", "-id")
    fields = ("alias", "features", "provider", "model")
    if connection.in_atomic_block:
        # A failed read must not break the caller's transaction (PostgreSQL aborts it).
        with transaction.atomic():
            return list(rows.values_list(*fields))
    return list(rows.values_list(*fields))


def chain_for(feature: str, aliases: list[str]) -> list[str]:
    """``aliases`` with the fine-tuned models chosen for ``feature`` in front.

    The dashboard's choice is an overlay on the settings: when it can't be read (no
    database, the table not migrated yet) the configured chain is used as it is; a local
    model whose folder is gone is left out with a warning.
    """
    try:
        chosen = _chosen()
    except (DatabaseError, RuntimeError) as exc:  # RuntimeError: a test without a database
        logger.debug("Fine-tuned models not read for %s: %s", feature, exc)
        return aliases
    front = []
    for alias, features, provider, model in chosen:
        if feature not in (features or []) or alias in aliases or alias in front:
            continue
        if provider == "local" and not (Path(model) / "config.json").is_file():
            logger.warning("Fine-tuned model %s is missing its folder %s; skipped", alias, model)
            continue
        front.append(alias)
    return front + list(aliases)


def settings_snippet(row) -> str:
    """What to add to ``OSCAR_GPT["BACKENDS"]`` to name this model in settings."""
    import pprint

    definition = definition_for(row)
    if definition is None:
        return ""
    return f"{row.alias!r}: {pprint.pformat(definition, sort_dicts=False, width=88)},"


def reset(alias: str | None = None) -> None:
    """Forget the built backend of ``alias`` (all when None), e.g. after its row changed."""
    from ..llm import registry

    if alias is None:
        registry.reset_backends()
    else:
        with registry._lock:
            registry._backends.pop(alias, None)
