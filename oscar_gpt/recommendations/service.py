"""Recommendations: computed ahead of time, kept fresh as shoppers act, served by lookup.

Every door (the storefront tag, the API, the management commands, the Celery tasks) calls
these functions::

    rebuild()                       # refit every model, rewrite every list
    update()                        # the lists that events since the last build touched
    refresh_products([pk, ...])     # after a merchant's rule or hand-picked change
    recommendations_for(product=product, user=request.user, limit=4)

A rebuild reads Oscar's signals (:mod:`.events`), fits the models (:mod:`.recommenders`),
blends them, applies the business rules (never the product itself, nothing Oscar's strategy
says can't be bought, merchant pins, boosts and exclusions, Oscar's hand-picked
recommendations first) and stores one :class:`~oscar_gpt.models.RecommendationList` row per
product and per shopper. Rendering never computes: :func:`recommendations_for` reads the rows
it needs with one indexed query and the products with one more (and their images and stock
records, prefetched).

The process that last built or updated keeps the fitted state in memory; an update in a
process without it refits the co-occurrence models from the events first (seconds on a large
shop), then carries on as a warm one would.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language
from oscar.core.loading import get_class, get_model

from ..app_settings import app_settings
from ..models import RecommendationBuild, RecommendationList, RecommendationRule
from . import events as signals_data
from .reasons import BEHAVIOUR_REASONS, reason_text
from .recommenders import (
    REASON_CODES,
    CoOccurrence,
    Dataset,
    Neighbours,
    blend,
    default_models,
    rank_by_row,
    reason_code,
    shopper_lists,
)

logger = logging.getLogger(__name__)

FEATURE = "recommendations"

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductRecommendation = get_model("catalogue", "ProductRecommendation")

#: Candidates kept per product before the rules pick the list (excluded and unavailable
#: products leave room for the next ones).
DEPTH_MARGIN = 10
#: Reciprocal-rank constant when the storefront merges lists (product, basket, shopper).
MERGE_RANK_OFFSET = 3
#: Weight of the shopper's own list beside the product's on a product page.
PERSONAL_WEIGHT = 0.5
PICKED = reason_code("picked")
POPULAR = reason_code("popular")
SIMILAR = reason_code("similar")
#: A shopper's strongest signal on a product (1 + kind) -> how their own list words it.
SHOPPER_REASONS = {1: "viewed", 2: "basket", 3: "bought"}
#: Stages of a rebuild, for progress bars.
STAGES = (
    "events",
    "catalogue",
    "models",
    "content",
    "availability",
    "product lists",
    "shopper lists",
    "saving",
)

Progress = Callable[[str, int, int], None]


class RecommendationError(RuntimeError):
    """Recommendations can't be built (no catalogue, a model failed); the message says why."""


# -- what the shop says -------------------------------------------------------------------


@dataclass
class Catalogue:
    """The browsable products, each one's category (the first it is in) and their names."""

    product_ids: np.ndarray
    categories: dict[int, int]
    category_names: dict[int, str]


def many_ids(ids: Iterable[int]):
    """What an ``__in`` filter on thousands of ids takes: on PostgreSQL one array parameter
    (``IN (SELECT unnest(%s))``), since Django and the driver handle a parameter per id
    (a tenth of a second per ten thousand); elsewhere the list itself."""
    ids = [int(i) for i in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return ids


def load_catalogue(product_ids: Iterable[int] | None = None) -> Catalogue:
    queryset = Product.objects.browsable()
    links = ProductCategory.objects.order_by("product_id", "pk")
    if product_ids is not None:
        wanted = list(product_ids)
        queryset = queryset.filter(pk__in=wanted)
        links = links.filter(product_id__in=wanted)
    ids = np.array(sorted(queryset.values_list("pk", flat=True)), dtype=np.int64)
    categories: dict[int, int] = {}
    for product_id, category_id in links.values_list("product_id", "category_id").iterator(
        chunk_size=10_000
    ):
        categories.setdefault(product_id, category_id)
    names = dict(Category.objects.filter(pk__in=set(categories.values())).values_list("pk", "name"))
    return Catalogue(ids, categories, names)


def unavailable_products(product_ids: Sequence[int], chunk: int = 2000) -> set[int]:
    """The products Oscar's strategy says can't be bought now (asked once, at build time)."""
    Selector = get_class("partner.strategy", "Selector")
    strategy = Selector().strategy()
    children = Prefetch(
        "children",
        queryset=Product.objects.public().prefetch_related("stockrecords"),
        to_attr="_prefetched_public_children",
    )
    unavailable = set()
    ids = list(product_ids)
    for start in range(0, len(ids), chunk):
        products = Product.objects.filter(pk__in=ids[start : start + chunk]).select_related(
            "product_class"
        )
        parents = products.filter(structure=Product.PARENT).prefetch_related(children)
        others = products.exclude(structure=Product.PARENT).prefetch_related("stockrecords")
        for product in [*others, *parents]:
            try:
                available = strategy.fetch_for_product(product).availability.is_available_to_buy
            except Exception:  # noqa: BLE001 - a shop's strategy failing on one product
                logger.warning("Oscar's strategy failed on product %s", product.pk, exc_info=True)
                available = False
            if not available:
                unavailable.add(product.pk)
    return unavailable


def hand_picked(product_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    """Oscar's hand-picked recommendations (``product.recommended_products``), best first;
    a variant stands for its parent."""
    rows = ProductRecommendation.objects.annotate(
        target=Coalesce("recommendation__parent_id", "recommendation_id")
    ).order_by("primary_id", "-ranking", "pk")
    if product_ids is not None:
        rows = rows.filter(primary_id__in=many_ids(product_ids))
    result: dict[int, list[int]] = {}
    for primary, target in rows.values_list("primary_id", "target"):
        picked = result.setdefault(primary, [])
        if target != primary and target not in picked:
            picked.append(target)
    return result


@dataclass
class Rules:
    """The merchant's rules: per product id, ``None`` meaning everywhere."""

    pins: dict[int | None, list[int]] = field(default_factory=dict)
    boosts: dict[int | None, dict[int, float]] = field(default_factory=dict)
    excludes: dict[int | None, set[int]] = field(default_factory=dict)

    def products(self) -> set[int]:
        return {key for table in (self.pins, self.boosts, self.excludes) for key in table} - {None}


def load_rules() -> Rules:
    rules = Rules()
    for rule in RecommendationRule.objects.order_by("-weight", "pk"):
        if rule.kind == RecommendationRule.Kind.PIN:
            rules.pins.setdefault(rule.product_id, []).append(rule.target_id)
        elif rule.kind == RecommendationRule.Kind.BOOST:
            rules.boosts.setdefault(rule.product_id, {})[rule.target_id] = rule.weight
        else:
            rules.excludes.setdefault(rule.product_id, set()).add(rule.target_id)
    return rules


def _anonymous_views(events: signals_data.Events) -> dict[int, float]:
    """Views by anonymous shoppers: the analytics app counts every view, signed-in or not;
    the signed-in ones are already among the events."""
    try:
        ProductRecord = get_model("analytics", "ProductRecord")
    except LookupError:
        return {}
    signed_in = events.products[events.kinds == signals_data.VIEW]
    counted = dict(zip(*np.unique(signed_in, return_counts=True), strict=True))
    weight = float(app_settings.RECOMMENDATIONS_SIGNAL_WEIGHTS.get("view", 0))
    result = {}
    rows = ProductRecord.objects.annotate(
        item=Coalesce("product__parent_id", "product_id")
    ).values_list("item", "num_views")
    for product_id, views in rows.iterator(chunk_size=10_000):
        anonymous = views - counted.get(product_id, 0)
        if anonymous > 0:
            result[product_id] = result.get(product_id, 0.0) + anonymous * weight
    return result


# -- the fitted state ---------------------------------------------------------------------


@dataclass
class State:
    """What a rebuild fitted, kept in the process for the updates that follow."""

    build_id: int
    watermarks: dict[str, int]
    data: Dataset
    models: dict
    weights: dict[str, float]
    depth: int
    #: Per model, per column: its neighbours (co-occurrence rows are refreshed by updates;
    #: ALS and content rows stay as the rebuild left them, new products aside).
    tables: dict[str, Neighbours]
    #: When content neighbours were last computed: vectors stored later are new.
    content_at: datetime
    #: Per column: the stored list (after the rules), columns and reason codes.
    final: Neighbours
    browsable: np.ndarray
    unavailable: np.ndarray
    category_names: dict[int, str]
    popularity_ranking: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def grow(self) -> None:
        """New columns (products) appended to the dataset get empty rows everywhere."""
        n = self.data.n_products
        self.final = _grown(self.final, n)
        self.tables = {name: _grown(table, n) for name, table in self.tables.items()}
        for name in ("browsable", "unavailable"):
            mask = getattr(self, name)
            if len(mask) < n:
                setattr(self, name, np.concatenate([mask, np.zeros(n - len(mask), dtype=bool)]))


def _grown(table: Neighbours, n: int) -> Neighbours:
    missing = n - table.ids.shape[0]
    if missing <= 0:
        return table
    extra = Neighbours.empty(missing, table.ids.shape[1])
    reasons = None
    if table.reasons is not None:
        reasons = np.concatenate(
            [table.reasons, np.full(extra.ids.shape, -1, dtype=table.reasons.dtype)]
        )
    return Neighbours(
        np.concatenate([table.ids, extra.ids]),
        np.concatenate([table.scores, extra.scores]),
        reasons,
    )


def _table(model, data: Dataset, columns: np.ndarray, k: int) -> Neighbours:
    """A model's neighbours of ``columns`` in a table with a row per column of ``data``."""
    table = Neighbours.empty(data.n_products, k)
    if len(columns):
        found = model.neighbours(columns, k)
        table.ids[columns], table.scores[columns] = found.ids, found.scores
    return table


_state: State | None = None
_state_lock = threading.Lock()


def forget_state() -> None:
    """Drop the fitted state kept in this process (tests; after a failed update)."""
    global _state
    with _state_lock:
        _state = None


# -- building -------------------------------------------------------------------------------


class _Stages:
    """Timings per stage, and the caller's progress callback."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.timings: dict[str, float] = {}
        #: Seconds of each model within the "models" stage.
        self.detail: dict[str, float] = {}
        self._started = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._started, 3)
        self._started = now
        if self.progress is not None:
            self.progress(stage, STAGES.index(stage) + 1, len(STAGES))


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while lists are built: a build makes hundreds
    of thousands of short-lived lists (no cycles; reference counting frees them), and each
    of the collections they trigger walks every object of the process (about a tenth of
    an update in ``bench/bench_recs.py``'s shop, more in a worker that holds models)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rebuild(
    progress: Progress | None = None, *, recheck_stock: bool = False
) -> RecommendationBuild:
    """Refit every model on every event and rewrite every list.

    ``progress(stage, done, total)`` is called after each stage (:data:`STAGES`).
    ``recheck_stock`` asks Oscar's strategy about every product, not only those whose
    stock changed since the previous build.
    """
    global _state
    build = RecommendationBuild.objects.create()
    stages = _Stages(progress)
    try:
        with _collector_paused():
            state = _fit(build, stages, recheck_stock)
            counts = _write_all(state, stages)
        build.artefact = _artefact(state)
        build.status = RecommendationBuild.Status.DONE
        build.finished_at = timezone.now()
        build.watermarks = state.watermarks
        build.stats = counts | {"seconds": stages.timings, "model_seconds": stages.detail}
        build.save()
        stages.done("saving")
    except Exception as exc:
        build.status = RecommendationBuild.Status.FAILED
        build.finished_at = timezone.now()
        build.stats = {"error": f"{type(exc).__name__}: {exc}", "seconds": stages.timings}
        build.save(update_fields=["status", "finished_at", "stats"])
        raise
    RecommendationBuild.objects.exclude(pk=build.pk).exclude(artefact=b"").update(artefact=b"")
    with _state_lock:
        _state = state
    return build


def _availability(product_ids: np.ndarray, build, *, recheck_all: bool) -> set[int]:
    """The products that can't be bought. Oscar's strategy is asked about every product on
    a first build (or with ``recheck_all``); later builds ask it only about products that
    are new, changed, or whose stock records changed since the previous build, and keep
    the previous answer for the rest (a shop of 100,000 products is asked in seconds)."""
    previous = (
        RecommendationBuild.objects.filter(status=RecommendationBuild.Status.DONE)
        .exclude(pk=build.pk)
        .exclude(artefact=b"")
        .order_by("-finished_at", "-pk")
        .first()
    )
    archive = None
    if previous is not None and not recheck_all:
        try:
            archive = np.load(io.BytesIO(bytes(previous.artefact)), allow_pickle=False)
            known, was_unavailable = archive["catalogue"], archive["unavailable"]
        except (KeyError, ValueError, OSError):
            archive = None
    if archive is None:
        return unavailable_products(product_ids.tolist())
    StockRecord = get_model("partner", "StockRecord")
    since = previous.started_at
    changed = set(
        StockRecord.objects.filter(date_updated__gte=since)
        .annotate(item=Coalesce("product__parent_id", "product_id"))
        .values_list("item", flat=True)
    )
    changed |= set(
        Product.objects.filter(date_updated__gte=since)
        .annotate(item=Coalesce("parent_id", "id"))
        .values_list("item", flat=True)
    )
    recheck = set(np.setdiff1d(product_ids, known).tolist()) | (changed & set(product_ids.tolist()))
    kept = set(np.intersect1d(was_unavailable, product_ids).tolist()) - recheck
    return kept | unavailable_products(sorted(recheck))


def _prepare(events):
    """The catalogue, the settings, the interaction data of ``events``, which of its products
    are browsable, and the (unfitted) models."""
    catalogue = load_catalogue()
    weights = dict(app_settings.RECOMMENDATIONS_HYBRID_WEIGHTS)
    depth = app_settings.RECOMMENDATIONS_LIST_LENGTH
    data = Dataset.from_events(
        events,
        app_settings.RECOMMENDATIONS_SIGNAL_WEIGHTS,
        product_ids=catalogue.product_ids,
        categories=catalogue.categories,
    )
    browsable = np.zeros(data.n_products, dtype=bool)
    browsable[data.positions(catalogue.product_ids)] = True
    models, _hybrid = default_models(
        weights=weights,
        als=app_settings.RECOMMENDATIONS_ALS,
        popularity_extra=_anonymous_views(events),
        depth=depth,
    )
    return catalogue, weights, depth, data, browsable, models


def _fit(build: RecommendationBuild, stages: _Stages, recheck_stock: bool = False) -> State:
    events, watermarks = signals_data.load_events()
    stages.done("events")
    catalogue, weights, depth, data, browsable, models = _prepare(events)
    stages.done("catalogue")
    columns = np.flatnonzero(browsable)
    models["popularity"].fit(data)
    tables = {}
    for name in ("bought_with", "viewed_with", "als"):
        if weights.get(name, 0) > 0:
            started = time.perf_counter()
            models[name].fit(data)
            tables[name] = _table(models[name], data, columns, depth + DEPTH_MARGIN)
            stages.detail[name] = round(time.perf_counter() - started, 3)
    stages.done("models")
    content_at = timezone.now()
    if weights.get("content", 0) > 0:
        tables["content"] = _content_table(data, models, columns, depth, build, tables)
    stages.done("content")
    unavailable = np.zeros(data.n_products, dtype=bool)
    unavailable[~browsable] = True
    gone = _availability(catalogue.product_ids, build, recheck_all=recheck_stock)
    if gone:
        unavailable[data.positions(list(gone))] = True
    stages.done("availability")
    state = State(
        build_id=build.pk,
        watermarks=watermarks,
        data=data,
        models=models,
        weights=weights,
        depth=depth,
        tables=tables,
        content_at=content_at,
        final=Neighbours.empty(data.n_products, depth),
        browsable=browsable,
        unavailable=unavailable,
        category_names=catalogue.category_names,
    )
    state.final.reasons = np.full(state.final.ids.shape, -1, dtype=np.int8)
    _recompute_products(state, columns, hand_picked(), load_rules())
    stages.done("product lists")
    return state


#: Above this many products with vectors, a product's content neighbours are looked for in
#: its own category only: an exact search of every vector for every product would take
#: minutes on two cores (a shop's categories are where "similar" is looked for anyway).
CONTENT_EXACT_UP_TO = 20_000


def _content_table(data, models, columns, depth, build, tables) -> Neighbours:
    """Content neighbours for the products with too few behavioural ones: new products and
    those too rarely seen; reused from the previous build where the vector is unchanged."""
    table = Neighbours.empty(data.n_products, depth)
    try:
        models["content"].fit(data)
    except Exception:  # noqa: BLE001 - no vectors table, no embeddings installed
        logger.warning("No product vectors for content similarity", exc_info=True)
        return table
    counts = np.zeros(len(columns), dtype=np.int64)
    for name in ("bought_with", "viewed_with", "als"):
        if name in tables:
            counts = np.maximum(counts, (tables[name].ids[columns] >= 0).sum(axis=1))
    cold = columns[counts < app_settings.RECOMMENDATIONS_CONTENT_FOR]
    cold = cold[models["content"].rows[cold] >= 0]
    reused = _reuse_content(data, table, cold, build)
    _content_rows(data, models["content"], table, np.setdiff1d(cold, reused), depth)
    return table


def embed_missing() -> int:
    """Embed the browsable products that have no vector yet (a new shop, products bulk-loaded
    without their save signals), for content similarity; changed products are re-embedded by
    their save signal's task. Returns how many were embedded."""
    from .embeddings import refresh_vectors

    missing = list(
        Product.objects.browsable().filter(gpt_vector__isnull=True).values_list("pk", flat=True)
    )
    return refresh_vectors(missing) if missing else 0


def _content_rows(data, model, table, columns, depth) -> None:
    if not len(columns):
        return
    if len(model.matrix) <= CONTENT_EXACT_UP_TO or data.categories is None:
        found = model.neighbours(columns, depth)
    else:
        found = model.neighbours(columns, depth, groups=data.categories)
    table.ids[columns], table.scores[columns] = found.ids, found.scores


def _reuse_content(data, table, cold, build) -> np.ndarray:
    """Fill ``table`` for cold columns from the previous build's content neighbours where the
    product's vector has not changed since; return the columns filled."""
    from ..models import ProductVector

    previous = (
        RecommendationBuild.objects.filter(status=RecommendationBuild.Status.DONE)
        .exclude(pk=build.pk)
        .exclude(artefact=b"")
        .order_by("-finished_at", "-pk")
        .first()
    )
    if previous is None:
        return np.zeros(0, dtype=np.int64)
    try:
        archive = np.load(io.BytesIO(bytes(previous.artefact)), allow_pickle=False)
        owners = archive["content_products"]
        neighbours = archive["content_neighbours"]
        scores = archive["content_scores"]
        since = datetime.fromisoformat(str(archive["content_at"]))
    except (KeyError, ValueError, OSError):
        return np.zeros(0, dtype=np.int64)
    changed = set(
        ProductVector.objects.filter(updated_at__gt=since).values_list("product_id", flat=True)
    )
    owner_columns = data.positions(owners)
    keep = np.isin(owner_columns, cold) & ~np.isin(owners, list(changed))
    rows = owner_columns[keep]
    found = data.positions(neighbours[keep].ravel()).reshape(-1, neighbours.shape[1])
    found[neighbours[keep] < 0] = -1
    width = min(found.shape[1], table.ids.shape[1])
    table.ids[rows, :width] = found[:, :width]
    table.scores[rows, :width] = np.where(found[:, :width] >= 0, scores[keep][:, :width], 0)
    return rows


def _component_tables(state: State, columns: np.ndarray) -> list[tuple[Neighbours, float, int]]:
    depth = state.depth + DEPTH_MARGIN
    parts = []
    for name in ("bought_with", "viewed_with", "als", "content"):
        weight = state.weights.get(name, 0)
        table = state.tables.get(name)
        if weight > 0 and table is not None:
            parts.append(
                (
                    Neighbours(table.ids[columns].copy(), table.scores[columns]),
                    weight,
                    reason_code(state.models[name].reason),
                )
            )
    weight = state.weights.get("popularity", 0)
    if weight > 0:
        parts.append((state.models["popularity"].neighbours(columns, depth), weight, POPULAR))
    for table, _weight, _reason in parts:  # never an unavailable product
        table.ids[(table.ids >= 0) & state.unavailable[np.maximum(table.ids, 0)]] = -1
    return parts


def _recompute_products(state: State, columns: np.ndarray, picked, rules: Rules) -> None:
    """Blend, apply the rules and fill the stored lists of ``columns`` in ``state.final``."""
    if not len(columns):
        return
    depth = state.depth
    blended = blend(_component_tables(state, columns), len(columns), depth + DEPTH_MARGIN)
    data = state.data
    # Shop-wide exclusions and boosts, vectorised.
    blocked = state.unavailable.copy()
    everywhere = rules.excludes.get(None, set())
    if everywhere:
        found = data.positions(list(everywhere))
        blocked[found[found >= 0]] = True
    ids, scores, reasons = blended.ids, blended.scores, blended.reasons
    ids[(ids >= 0) & blocked[np.maximum(ids, 0)]] = -1
    boost = np.zeros(data.n_products, dtype=np.float32)
    for target, weight in rules.boosts.get(None, {}).items():
        position = int(data.positions([target])[0])
        if position >= 0:
            boost[position] = weight
    scores = np.where(ids >= 0, scores * (1 + boost[np.maximum(ids, 0)]), -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")
    ids = np.take_along_axis(ids, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    reasons = np.take_along_axis(reasons, order, axis=1)
    top = np.where(ids[:, :1] >= 0, scores[:, :1], 1.0)
    top[top <= 0] = 1.0
    scores = np.where(ids >= 0, scores / top, 0).astype(np.float32)
    special = set(picked) | rules.products() | ({None} if rules.pins.get(None) else set())
    popular = state.models["popularity"].by_category(depth + 1)
    column_ids = data.product_ids[columns]
    categories = data.categories if data.categories is not None else None
    out_ids = np.full((len(columns), depth), -1, dtype=np.int64)
    out_scores = np.zeros((len(columns), depth), dtype=np.float32)
    out_reasons = np.full((len(columns), depth), -1, dtype=np.int8)
    needs_loop = np.isin(column_ids, [key for key in special if key is not None])
    if None in special:
        needs_loop[:] = True
    simple = ~needs_loop
    out_ids[simple] = ids[simple, :depth]
    out_scores[simple] = scores[simple, :depth]
    out_reasons[simple] = reasons[simple, :depth]
    # Rows with gaps, hand-picked recommendations or rules of their own: one at a time.
    gaps = (out_ids < 0).any(axis=1)
    for row in np.flatnonzero(needs_loop | gaps):
        column = int(columns[row])
        category = int(categories[column]) if categories is not None else -1
        entries = _assemble_row(
            data,
            column,
            (ids[row], scores[row], reasons[row]),
            picked=picked,
            rules=rules,
            blocked=blocked,
            popular=[*popular.get(category, ()), *popular.get(-1, ())],
            depth=depth,
        )
        out_ids[row], out_scores[row], out_reasons[row] = -1, 0, -1
        for place, (position, score, reason) in enumerate(entries):
            out_ids[row, place] = position
            out_scores[row, place] = score
            out_reasons[row, place] = reason
    state.final.ids[columns] = out_ids
    state.final.scores[columns] = out_scores
    state.final.reasons[columns] = out_reasons


def _assemble_row(data, column, ranked, *, picked, rules, blocked, popular, depth):
    """One product's list: hand-picked, then pinned, then the blend (with the product's own
    boosts and exclusions), then popular products; never the product itself."""
    product_id = int(data.product_ids[column])
    excluded = rules.excludes.get(product_id, set())
    boosts = rules.boosts.get(product_id, {})
    entries: list[tuple[int, float, int]] = []
    taken = {column}

    def add(position: int, score: float, reason: int) -> None:
        if position < 0 or position in taken or blocked[position]:
            return
        if int(data.product_ids[position]) in excluded:
            return
        taken.add(position)
        entries.append((position, score, reason))

    targets = [*picked.get(product_id, ()), *rules.pins.get(product_id, ())]
    for target in [*targets, *rules.pins.get(None, ())]:
        add(int(data.positions([target])[0]), 1.0, PICKED)
    blended = [
        (int(i), float(s) * (1 + boosts.get(int(data.product_ids[i]), 0.0)), int(r))
        for i, s, r in zip(*ranked, strict=True)
        if i >= 0
    ]
    blended.sort(key=lambda entry: -entry[1])
    for position, score, reason in blended:
        add(position, score, reason)
    for position in popular:
        if len(entries) >= depth:
            break
        add(int(position), 0.0, POPULAR)
    return entries[:depth]


def _pair_lookup(matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for many pairs at once (0 where absent), by searching
    sorted pair keys: much faster than sparse fancy indexing."""
    coo = matrix.tocoo()
    width = np.int64(matrix.shape[1])
    keys = coo.row.astype(np.int64) * width + coo.col
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], coo.data[order]
    wanted = rows.astype(np.int64) * width + cols
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = (keys[at] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, values[at] if len(keys) else 0, 0)


def _shopper_rows(state: State, shopper_rows: np.ndarray) -> dict[int, tuple[list, list]]:
    """``{user id: (items, excluded)}`` for the signed-in shoppers among ``shopper_rows``:
    their history's product lists merged, worded by what they did ("Because you viewed /
    bought X"), filled with what is popular; built from whole arrays at once."""
    data = state.data
    shopper_rows = shopper_rows[data.shopper_ids[shopper_rows] > 0]
    if not len(shopper_rows):
        return {}
    existing = np.fromiter(
        get_user_model()
        .objects.filter(pk__in=many_ids(data.shopper_ids[shopper_rows].tolist()))
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    shopper_rows = shopper_rows[np.isin(data.shopper_ids[shopper_rows], existing)]
    history = data.matrix()[shopper_rows]
    kinds = data.strongest_kinds()[shopper_rows]
    depth = state.depth
    lists = shopper_lists(history, state.final, depth)
    rules = load_rules()
    blocked = state.unavailable.copy()
    everywhere = rules.excludes.get(None, set())
    if everywhere:
        found = data.positions(list(everywhere))
        blocked[found[found >= 0]] = True
    ids = lists.ids
    valid = (ids >= 0) & ~blocked[np.maximum(ids, 0)]
    # Reasons: the behaviour models' are worded by the shopper's strongest signal on "via".
    n = len(shopper_rows)
    row_index = np.repeat(np.arange(n), depth)
    strongest = _pair_lookup(kinds, row_index, np.maximum(lists.via, 0).ravel()).reshape(n, depth)
    codes = np.array([*REASON_CODES, "popular"], dtype=object)
    reasons = codes[np.where(lists.reasons >= 0, lists.reasons, -1)]
    behaviour = np.isin(reasons, list(BEHAVIOUR_REASONS))
    worded = np.array(["viewed", "viewed", "basket", "bought"], dtype=object)[strongest]
    reasons = np.where(behaviour, worded, reasons)
    top = np.where(valid, lists.scores, 0).max(axis=1, initial=0)
    top[top <= 0] = 1
    scores = np.round((lists.scores / top[:, None]).astype(np.float64), 4)
    via_ids = np.where(lists.via >= 0, data.product_ids[np.maximum(lists.via, 0)], -1)
    product_ids = np.where(valid, data.product_ids[np.maximum(ids, 0)], -1)
    popular = [
        int(c) for c in state.models["popularity"].ranking[: depth * 3] if not blocked[int(c)]
    ]
    exclude_bought = app_settings.RECOMMENDATIONS_EXCLUDE_PURCHASED
    ids_l, scores_l, reasons_l = product_ids.tolist(), scores.tolist(), reasons.tolist()
    via_l, valid_l = via_ids.tolist(), valid.tolist()
    result = {}
    for row, shopper_row in enumerate(shopper_rows.tolist()):
        items = [
            [pid, score, reason, via if via >= 0 else None, ""]
            for pid, score, reason, via, ok in zip(
                ids_l[row], scores_l[row], reasons_l[row], via_l[row], valid_l[row], strict=True
            )
            if ok
        ]
        if len(items) < depth:
            seen = set(history.indices[history.indptr[row] : history.indptr[row + 1]].tolist())
            present = {item[0] for item in items}
            for column in popular:
                if len(items) >= depth:
                    break
                pid = int(data.product_ids[column])
                if column not in seen and pid not in present:
                    items.append(_entry(state, column, 0.0, "popular", -1))
                    present.add(pid)
        bought = []
        if exclude_bought:
            start, end = kinds.indptr[row], kinds.indptr[row + 1]
            mine = kinds.indices[start:end][kinds.data[start:end] == signals_data.ORDER + 1]
            bought = data.product_ids[mine].tolist()
        result[int(data.shopper_ids[shopper_row])] = (items, bought)
    return result


def _entry(state: State, column: int, score: float, reason: str, via: int) -> list:
    """One stored recommendation: ``[product id, score, reason, via product id, label]``."""
    data = state.data
    label = ""
    if reason == "popular":
        via_id = None
        if data.categories is not None:
            label = state.category_names.get(int(data.categories[column]), "")
    else:
        via_id = int(data.product_ids[via]) if via >= 0 else None
    return [int(data.product_ids[column]), score, reason, via_id, label]


def _product_rows(state: State, columns: np.ndarray) -> list[tuple[int, list[list]]]:
    """``(product id, stored items)`` for ``columns``, built from whole arrays at once (a
    hundred thousand lists in a couple of seconds)."""
    data, final = state.data, state.final
    ids = final.ids[columns]
    valid = ids >= 0
    products = np.where(valid, data.product_ids[np.maximum(ids, 0)], -1).tolist()
    scores = np.round(final.scores[columns].astype(np.float64), 4).tolist()
    codes = np.array([*REASON_CODES, "popular"], dtype=object)
    reasons = codes[np.where(final.reasons[columns] >= 0, final.reasons[columns], -1)]
    popular = reasons == "popular"
    labels = np.full(ids.shape, "", dtype=object)
    if data.categories is not None and popular.any():
        names = state.category_names
        categories = data.categories[np.maximum(ids[popular], 0)]
        labels[popular] = [names.get(int(c), "") for c in categories]
    owners = data.product_ids[columns].tolist()
    lengths = valid.sum(axis=1).tolist()
    reasons, labels, popular = reasons.tolist(), labels.tolist(), popular.tolist()
    rows = []
    for row, owner in enumerate(owners):
        n = lengths[row]
        rows.append(
            (
                owner,
                [
                    [pid, score, reason, None if is_popular else owner, label]
                    for pid, score, reason, label, is_popular in zip(
                        products[row][:n],
                        scores[row][:n],
                        reasons[row][:n],
                        labels[row][:n],
                        popular[row][:n],
                        strict=True,
                    )
                ],
            )
        )
    return rows


def _popular_items(state: State) -> list[list]:
    items = []
    for column in state.models["popularity"].ranking:
        if len(items) >= state.depth:
            break
        if not state.unavailable[column]:
            items.append(_entry(state, int(column), 0.0, "popular", -1))
    return items


def _write_all(state: State, stages: _Stages) -> dict[str, int]:
    """Every list of the state, replacing all stored lists in one transaction."""
    columns = np.flatnonzero(state.browsable)
    product_rows = _product_rows(state, columns)
    shopper_rows = _shopper_rows(state, np.arange(len(state.data.shopper_ids)))
    stages.done("shopper lists")
    now = timezone.now()
    with transaction.atomic():
        _delete(RecommendationList.objects.all())
        _insert(
            [(RecommendationList.Kind.POPULAR, None, None, _popular_items(state), [], now)]
            + [
                (RecommendationList.Kind.PRODUCT, pid, None, items, [], now)
                for pid, items in product_rows
            ]
            + [
                (RecommendationList.Kind.SHOPPER, None, uid, items, excluded, now)
                for uid, (items, excluded) in shopper_rows.items()
            ]
        )
    return {
        "products": len(product_rows),
        "shoppers": len(shopper_rows),
        "events": len(state.data.events),
    }


def _delete(queryset) -> None:
    """Delete list rows in one statement: ``QuerySet.delete()`` would load every row (and
    parse its JSON) first, because some app listens to every model's deletions."""
    table = connection.ops.quote_name(RecommendationList._meta.db_table)
    try:
        sql, params = queryset.values("pk").query.sql_with_params()
    except EmptyResultSet:  # filtered on empty ``__in`` lists: nothing to delete
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({sql})", params)


#: Lists as JSON for COPY: compact, and no check for circular references (plain lists).
_to_json = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode


def _insert(rows: list[tuple]) -> None:
    """Insert list rows ``(kind, product id, user id, items, excluded, built at)``: with
    PostgreSQL's COPY where it is there (a hundred thousand rows in seconds)."""
    table = RecommendationList._meta.db_table
    if connection.vendor == "postgresql" and hasattr(connection.connection, "cursor"):
        connection.ensure_connection()
        with connection.cursor() as cursor:
            raw = getattr(cursor, "cursor", cursor)
            if hasattr(raw, "copy"):
                columns = "kind, product_id, user_id, items, excluded, built_at"
                with raw.copy(
                    f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN"
                ) as copy:
                    for kind, product_id, user_id, items, excluded, built_at in rows:
                        copy.write_row(
                            (
                                kind,
                                product_id,
                                user_id,
                                _to_json(items),
                                _to_json(excluded),
                                built_at,
                            )
                        )
                return
    RecommendationList.objects.bulk_create(
        [
            RecommendationList(
                kind=kind,
                product_id=product_id,
                user_id=user_id,
                items=items,
                excluded=excluded,
                built_at=built_at,
            )
            for kind, product_id, user_id, items, excluded, built_at in rows
        ],
        batch_size=2000,
    )


def _artefact(state: State) -> bytes:
    """What a later build or a cold update reuses, as a NumPy archive."""
    data = state.data
    arrays = {
        "content_at": np.array(state.content_at.isoformat()),
        "catalogue": data.product_ids[state.browsable],
        "unavailable": data.product_ids[state.unavailable & state.browsable],
    }
    for name in ("als", "content"):
        table = state.tables.get(name, Neighbours.empty(data.n_products, 1))
        owners = np.flatnonzero((table.ids >= 0).any(axis=1))
        arrays[f"{name}_products"] = data.product_ids[owners]
        arrays[f"{name}_neighbours"] = np.where(
            table.ids[owners] >= 0, data.product_ids[np.maximum(table.ids[owners], 0)], -1
        ).astype(np.int64)
        arrays[f"{name}_scores"] = table.scores[owners]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # compressing tens of megabytes costs more than storing them
    return buffer.getvalue()


# -- keeping fresh --------------------------------------------------------------------------


def latest_build() -> RecommendationBuild | None:
    return (
        RecommendationBuild.objects.filter(status=RecommendationBuild.Status.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def _cold_state(build: RecommendationBuild) -> State:
    """The state of ``build`` in a process that did not fit it: the co-occurrence models are
    refitted on the events the build had read; ALS and content neighbours come from its
    archive."""
    events, watermarks = signals_data.load_events(until=build.watermarks)
    catalogue, weights, depth, data, browsable, models = _prepare(events)
    columns = np.flatnonzero(browsable)
    models["popularity"].fit(data)
    tables = {}
    for name in ("bought_with", "viewed_with"):
        if weights.get(name, 0) > 0:
            models[name].fit(data)
            tables[name] = _table(models[name], data, columns, depth + DEPTH_MARGIN)
    archive = np.load(io.BytesIO(bytes(build.artefact)), allow_pickle=False)
    for name in ("als", "content"):
        if weights.get(name, 0) <= 0:
            continue
        table = Neighbours.empty(data.n_products, depth + DEPTH_MARGIN)
        owners = data.positions(archive[f"{name}_products"])
        neighbours = archive[f"{name}_neighbours"]
        found = data.positions(neighbours.ravel()).reshape(neighbours.shape)
        found[neighbours < 0] = -1
        keep = owners >= 0
        width = min(table.ids.shape[1], found.shape[1])
        table.ids[owners[keep], :width] = found[keep, :width]
        table.scores[owners[keep], :width] = archive[f"{name}_scores"][keep, :width]
        tables[name] = table
    unavailable = ~browsable
    gone = data.positions(archive["unavailable"])
    unavailable[gone[gone >= 0]] = True
    state = State(
        build_id=build.pk,
        watermarks={k: int(v) for k, v in (build.watermarks or watermarks).items()},
        data=data,
        models=models,
        weights=weights,
        depth=depth,
        tables=tables,
        content_at=datetime.fromisoformat(str(archive["content_at"])),
        final=Neighbours.empty(data.n_products, depth),
        browsable=browsable,
        unavailable=unavailable,
        category_names=catalogue.category_names,
    )
    state.final.reasons = np.full(state.final.ids.shape, -1, dtype=np.int8)
    _recompute_products(state, np.flatnonzero(browsable), hand_picked(), load_rules())
    return state


def _warm_state(build: RecommendationBuild) -> State:
    global _state
    with _state_lock:
        state = _state
    if state is None or state.build_id != build.pk:
        state = _cold_state(build)
        with _state_lock:
            _state = state
    return state


def update(product_ids: Iterable[int] = ()) -> dict:
    """Bring the stored lists up to date with the events since the last build or update.

    The co-occurrence rows of the products the new events touched (and of everything their
    shoppers had touched) are recomputed, their lists rewritten, and so are the lists of
    those shoppers; new products get content neighbours. ``product_ids``' lists are
    rewritten too (after a rule or hand-picked change). Popular products (seen by more
    than ``RECOMMENDATIONS_UPDATE_MAX_SHOPPERS`` shoppers) keep their rows until the next
    rebuild: one event barely moves them.
    """
    started = time.perf_counter()
    with transaction.atomic():
        build = (
            RecommendationBuild.objects.select_for_update()
            .defer("artefact")  # megabytes, read only by a process without the state
            .filter(status=RecommendationBuild.Status.DONE)
            .order_by("-finished_at", "-pk")
            .first()
        )
        if build is None:
            return {"skipped": "no build yet"}
        try:
            with _collector_paused():
                state = _warm_state(build)
                result = _apply_update(state, build, list(product_ids))
        except Exception:
            forget_state()  # half-applied: the next update starts from the stored build
            raise
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _apply_update(state: State, build: RecommendationBuild, product_ids: list[int]) -> dict:
    from ..models import ProductVector

    data = state.data
    new, watermarks = signals_data.load_events(since=state.watermarks)
    vector_changed = list(
        ProductVector.objects.filter(updated_at__gt=state.content_at).values_list(
            "product_id", flat=True
        )
    )
    if not len(new) and not product_ids and not vector_changed:
        return {"events": 0, "products": 0, "shoppers": 0}
    mentioned = np.unique(
        np.concatenate(
            [
                new.products,
                np.asarray(product_ids, dtype=np.int64),
                np.asarray(vector_changed, dtype=np.int64),
            ]
        )
    )
    unknown = mentioned[data.positions(mentioned) < 0].tolist()
    catalogue = load_catalogue(unknown) if unknown else None
    new_columns = data.extend(
        new,
        product_ids=catalogue.product_ids if catalogue else (),
        categories=catalogue.categories if catalogue else None,
    )
    state.grow()
    if catalogue is not None:
        state.category_names.update(catalogue.category_names)
        fresh = data.positions(catalogue.product_ids)
        state.browsable[fresh] = True
        state.unavailable[new_columns] = True
        buyable = np.setdiff1d(
            catalogue.product_ids, list(unavailable_products(catalogue.product_ids.tolist()))
        )
        state.unavailable[data.positions(buyable)] = False
    touched = np.unique(data.positions(np.unique(new.products)))
    touched = touched[touched >= 0]
    shoppers = data.shopper_rows(np.unique(new.shoppers))
    matrix = data.matrix()
    counts = np.bincount(matrix.indices, minlength=matrix.shape[1])  # shoppers per product
    touched = touched[counts[touched] <= app_settings.RECOMMENDATIONS_UPDATE_MAX_SHOPPERS]
    history = np.unique(matrix[shoppers].indices)
    others = np.setdiff1d(history[state.browsable[history]], touched)
    fresh_pairs = _new_pairs(matrix, new, data, others, touched)
    changed = set(touched.tolist())
    for name in ("bought_with", "viewed_with"):
        model = state.models[name]
        if not isinstance(model, CoOccurrence) or name not in state.tables:
            continue
        table = state.tables[name]
        # The touched products' rows anew; in the rows of what their shoppers had touched
        # before, the new pairs only.
        model.refresh_rows(data, touched)
        fresh = touched[state.browsable[touched]]
        if len(fresh):
            found = model.neighbours(fresh, table.ids.shape[1])
            table.ids[fresh], table.scores[fresh] = found.ids, found.scores
        pairs = model.pair_scores(data, others, touched)
        # Only the pairs the new events made (a shopper's earlier product with a new one);
        # older pairs keep their place until the next rebuild.
        keys = pairs.row.astype(np.int64) * len(touched) + pairs.col
        new_pairs = np.isin(keys, fresh_pairs)
        moved = _place(
            table,
            others[pairs.row[new_pairs]],
            touched[pairs.col[new_pairs]],
            pairs.data[new_pairs],
        )
        changed.update(moved.tolist())
    state.models["popularity"].fit(data)
    content_columns = np.zeros(0, dtype=np.int64)
    if state.weights.get("content", 0) > 0 and (vector_changed or len(new_columns)):
        content_columns = _refresh_content(state, vector_changed, new_columns)
    requested = data.positions(product_ids) if product_ids else np.zeros(0, dtype=np.int64)
    always = np.concatenate([new_columns, content_columns, requested]).astype(np.int64)
    columns = np.unique(np.concatenate([np.fromiter(changed, dtype=np.int64), always]))
    columns = columns[(columns >= 0) & state.browsable[columns]]
    before = (state.final.ids[columns].copy(), state.final.reasons[columns].copy())
    picked = hand_picked(data.product_ids[columns].tolist())
    _recompute_products(state, columns, picked, load_rules())
    # Only the lists that came out different are written.
    differs = (state.final.ids[columns] != before[0]).any(axis=1) | (
        state.final.reasons[columns] != before[1]
    ).any(axis=1)
    columns = columns[differs | np.isin(columns, always)]
    shopper_items = _shopper_rows(state, shoppers)
    now = timezone.now()
    product_rows = _product_rows(state, columns)
    # Two statements: each by its own index (an OR of the two makes PostgreSQL read them all).
    _delete(RecommendationList.objects.filter(product_id__in=many_ids(p for p, _ in product_rows)))
    _delete(RecommendationList.objects.filter(user_id__in=many_ids(shopper_items)))
    _insert(
        [
            (RecommendationList.Kind.PRODUCT, pid, None, items, [], now)
            for pid, items in product_rows
        ]
        + [
            (RecommendationList.Kind.SHOPPER, None, uid, items, excluded, now)
            for uid, (items, excluded) in shopper_items.items()
        ]
    )
    state.watermarks = watermarks
    build.watermarks = watermarks
    build.updated_at = now
    build.updates += 1
    build.save(update_fields=["watermarks", "updated_at", "updates"])
    return {
        "events": len(new),
        "products": len(columns),
        "shoppers": len(shopper_items),
    }


def _new_pairs(matrix, new, data, others: np.ndarray, touched: np.ndarray) -> np.ndarray:
    """Keys (``others`` position x len(touched) + ``touched`` position) of the pairs the new
    events made: each new product with everything its shopper had touched."""
    rows = data.shopper_rows(new.shoppers)
    columns = np.searchsorted(touched, data.positions(new.products))
    ok = (rows >= 0) & (columns < len(touched))
    ok[ok] &= touched[columns[ok]] == data.positions(new.products[ok])
    rows, columns = rows[ok], columns[ok].astype(np.int64)
    # Each event's shopper's products (their CSR row), gathered for all events at once.
    starts = matrix.indptr[rows].astype(np.int64)
    counts = matrix.indptr[rows + 1].astype(np.int64) - starts
    total = int(counts.sum())
    if not total or not len(others):
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    mine = matrix.indices[np.arange(total, dtype=np.int64) + offsets]
    column = np.repeat(columns, counts)
    at = np.searchsorted(others, mine)
    inside = at < len(others)
    inside[inside] &= others[at[inside]] == mine[inside]
    return np.unique(at[inside].astype(np.int64) * len(touched) + column[inside])


def _place(table: Neighbours, rows, columns, scores) -> np.ndarray:
    """Put each ``columns[i]`` with ``scores[i]`` into row ``rows[i]`` of a neighbour table
    (best first, fixed width; pairs unique): a column already in its row takes the new
    score, a new one goes in if it beats the row's last. Ties keep what was there first.
    Returns the rows whose order changed. All rows at once: an update places tens of
    thousands of pairs."""
    rows = np.asarray(rows, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float32)
    keep = rows != columns  # never the product itself
    rows, columns, scores = rows[keep], columns[keep], scores[keep]
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    affected, local = np.unique(rows, return_inverse=True)
    width = table.ids.shape[1]
    old_ids = table.ids[affected]
    merged_scores = table.scores[affected].copy()
    # A column already in its row: the new score, in its place.
    match = old_ids[local] == columns[:, None]
    present = match.any(axis=1)
    merged_scores[local[present], match[present].argmax(axis=1)] = scores[present]
    # Everything in one list per row: what is there (by place), then the new columns.
    where = np.nonzero(old_ids >= 0)
    new = ~present
    entry_rows = np.concatenate([where[0], local[new]])
    entry_cols = np.concatenate([old_ids[where], columns[new]])
    entry_scores = np.concatenate([merged_scores[where], scores[new]])
    placed = rank_by_row(entry_rows, entry_cols, entry_scores, len(affected), width)
    table.ids[affected], table.scores[affected] = placed.ids, placed.scores
    return affected[(placed.ids != old_ids).any(axis=1)]


def _refresh_content(state: State, product_ids: list[int], new_columns: np.ndarray) -> np.ndarray:
    """Content neighbours of products with new vectors and of new products."""
    data = state.data
    model = state.models["content"]
    model.vectors = None  # the stored vectors, as they are now
    try:
        model.fit(data)
    except Exception:  # noqa: BLE001 - no vectors table, no embeddings installed
        logger.warning("No product vectors for content similarity", exc_info=True)
        return np.zeros(0, dtype=np.int64)
    state.content_at = timezone.now()
    columns = np.union1d(data.positions(product_ids), new_columns)
    columns = columns[(columns >= 0) & (model.rows[np.maximum(columns, 0)] >= 0)]
    if "content" not in state.tables:
        state.tables["content"] = Neighbours.empty(data.n_products, state.depth)
    _content_rows(data, model, state.tables["content"], columns, state.depth)
    return columns


def refresh_products(product_ids: Iterable[int]) -> dict:
    """Rewrite the lists of ``product_ids`` (a merchant's rule or hand-picked change)."""
    return update(product_ids=list(product_ids))


# -- serving ------------------------------------------------------------------------------


@dataclass
class Recommendation:
    """One recommended product, why, and (optionally) a model-written sentence."""

    product: object
    reason: str
    via: object | None = None
    label: str = ""
    score: float = 0.0
    sentence: str = ""

    @property
    def text(self) -> str:
        return reason_text(
            self.reason,
            item=self.via.get_title() if self.via is not None else "",
            category=self.label,
        )


def _browsable_id(product) -> int | None:
    if product is None:
        return None
    return (
        product.parent_id
        if getattr(product, "is_child", False) and product.parent_id
        else product.pk
    )


def recommendations_for(
    *,
    product=None,
    user=None,
    basket_products: Sequence = (),
    viewed: Sequence[int] = (),
    limit: int = 4,
    lazy: bool = False,
) -> list[Recommendation] | RecommendationRow:
    """What to show: on a product page (``product``), a basket page (``basket_products``) or
    anywhere else, for a signed-in ``user`` (their own list) or an anonymous shopper whose
    recently viewed products (Oscar's cookie, most recent last) are ``viewed``.

    Two indexed queries: the lists, then the products (with their images and stock records
    prefetched). ``lazy``: the :class:`RecommendationRow` of :func:`recommendation_row`
    instead of a list (the storefront tag's, for the cached row).
    """
    row = recommendation_row(
        product=product,
        user=user,
        basket_products=basket_products,
        viewed=viewed,
        limit=limit,
    )
    return row if lazy else list(row)


def recommendation_row(
    *,
    product=None,
    user=None,
    basket_products: Sequence = (),
    viewed: Sequence[int] = (),
    limit: int = 4,
) -> RecommendationRow:
    """:func:`recommendations_for`'s choice, from the stored lists alone (one query); the
    products are loaded only when the row is first iterated, which a cached row never is."""
    if limit <= 0:
        return RecommendationRow([], 0, [])
    product_id = _browsable_id(product)
    basket_ids = [pid for pid in (_browsable_id(p) for p in basket_products) if pid]
    viewed_ids = [int(pid) for pid in reversed(list(viewed)) if str(pid).isdigit()][:10]
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    keys = [pid for pid in [product_id, *basket_ids, *viewed_ids] if pid]
    query = Q(kind=RecommendationList.Kind.POPULAR, product__isnull=True, user__isnull=True)
    if keys:
        query |= Q(kind=RecommendationList.Kind.PRODUCT, product_id__in=keys)
    if user_id:
        query |= Q(kind=RecommendationList.Kind.SHOPPER, user_id=user_id)
    lists = {"popular": [], "products": {}, "shopper": None, "excluded": []}
    for kind, pid, uid, items, excluded in RecommendationList.objects.filter(query).values_list(
        "kind", "product_id", "user_id", "items", "excluded"
    ):
        if kind == RecommendationList.Kind.POPULAR:
            lists["popular"] = items
        elif kind == RecommendationList.Kind.SHOPPER and uid == user_id:
            lists["shopper"], lists["excluded"] = items, excluded
        elif kind == RecommendationList.Kind.PRODUCT:
            lists["products"][pid] = items
    excluded = {pid for pid in [product_id, *basket_ids] if pid} | set(lists["excluded"])
    merged = _Merge(excluded)
    if product_id:
        merged.take(lists["products"].get(product_id, []), 1.0, lock=True)
    for pid in basket_ids:
        merged.take(lists["products"].get(pid, []), 1.0, lock=True)
    personal = PERSONAL_WEIGHT if (product_id or basket_ids) else 1.0
    if lists["shopper"] is not None:
        merged.take(lists["shopper"], personal)
    else:
        for position, pid in enumerate(viewed_ids):
            if pid in (product_id, *basket_ids):
                continue
            merged.take(lists["products"].get(pid, []), personal / (1 + position), relabel="viewed")
    merged.take(lists["popular"], 0.01)
    chosen = merged.best(limit * 2)
    return RecommendationRow(chosen, limit, [p for p in [product, *basket_products] if p])


#: The catalogue's version, part of every cached row's key: any product, stock record or
#: product image saved or deleted bumps it (:mod:`.signals`), so no row renders old data.
ROW_VERSION_KEY = "oscar_gpt:recs:row-version"


def _new_row_version() -> int:
    # Random, not 1: a version lost (evicted, cache cleared) must not come back as one that
    # stale rows are still stored under.
    return secrets.randbits(48)


def bump_row_version() -> None:
    """Every cached recommendation row is stale (a shop that changes products, prices or
    images with ``QuerySet.update()``, which sends no signal, calls this). Never raises."""
    try:
        try:
            cache.incr(ROW_VERSION_KEY)
        except ValueError:  # not there yet (or evicted): a fresh version is as good
            if not cache.add(ROW_VERSION_KEY, _new_row_version(), timeout=None):
                cache.incr(ROW_VERSION_KEY)
    except Exception:  # noqa: BLE001 - the cache is down: rows expire by their timeout
        logger.warning("Could not bump the recommendation rows' version", exc_info=True)


class RecommendationRow(Sequence):
    """A row of :class:`Recommendation`, chosen but not yet loaded: the products (and their
    images and stock records) are loaded on first iteration, ``len()``, truth test or index.

    ``cache_key`` names what the row would render (the chosen products, reasons and the
    products they came from, the limit, the catalogue version, the active language, the
    sentences setting and, with it on, the cached sentences): ``row.html`` caches its HTML
    under it for ``cache_seconds``. Empty ("") for an empty row, or when the cache is down.
    """

    def __init__(self, chosen: list[tuple[int, dict]], limit: int, known: Sequence):
        self.chosen = chosen
        self.limit = limit
        self.known = known
        self._items: list[Recommendation] | None = None

    @property
    def entries(self) -> list[tuple[int, str, int | None, str]]:
        """``(product id, reason, via id, label)`` of the chosen candidates, best first."""
        return [
            (pid, e.get("reason", "popular"), e.get("via") or None, e.get("label", ""))
            for pid, e in self.chosen
        ]

    @property
    def cache_seconds(self) -> int:
        return max(int(app_settings.RECOMMENDATIONS_ROW_CACHE_SECONDS or 0), 0)

    @cached_property
    def cache_key(self) -> str:
        if not self.chosen:
            return ""
        entries = self.entries
        sentences = app_settings.RECOMMENDATIONS_SENTENCES
        wanted = [sentence_key(pid, via) for pid, _, via, _ in entries if via] if sentences else []
        try:
            found = cache.get_many([ROW_VERSION_KEY, *wanted])
            version = found.get(ROW_VERSION_KEY)
            if version is None:
                version = _new_row_version()
                if not cache.add(ROW_VERSION_KEY, version, timeout=None):
                    version = cache.get(ROW_VERSION_KEY)
        except Exception:  # noqa: BLE001 - the cache is down: render afresh
            logger.warning("Could not read the recommendation rows' version", exc_info=True)
            return ""
        if version is None:
            return ""
        facts = [
            entries,
            self.limit,
            sorted(p.pk for p in self.known),
            version,
            get_language(),
            bool(sentences),
            [found.get(key) or "" for key in wanted],
        ]
        digest = hashlib.blake2b(json.dumps(facts, default=str).encode(), digest_size=12)
        return digest.hexdigest()

    def _list(self) -> list[Recommendation]:
        if self._items is None:
            self._items = _materialise(self.chosen, self.limit, self.known) if self.chosen else []
        return self._items

    def __iter__(self):
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __bool__(self) -> bool:
        return bool(self._list())

    def __getitem__(self, index):
        if not isinstance(index, (int, slice)):
            # Django's templates try ``row["cache_key"]`` before the attribute: no loading.
            raise TypeError(f"{type(self).__name__} indices must be integers or slices")
        return self._list()[index]

    def __repr__(self) -> str:
        loaded = "loaded" if self._items is not None else "not loaded"
        return f"<{type(self).__name__} of {len(self.chosen)} candidates, {loaded}>"


class _Merge:
    """Reciprocal-rank fusion of stored lists; hand-picked and pinned products first."""

    def __init__(self, excluded: set[int]):
        self.excluded = excluded
        self.entries: dict[int, dict] = {}

    def take(self, items, weight: float, *, lock: bool = False, relabel: str = "") -> None:
        for rank, (pid, _score, reason, via, label) in enumerate(items):
            if pid in self.excluded:
                continue
            if relabel and reason in BEHAVIOUR_REASONS:
                reason = relabel
            term = weight / (MERGE_RANK_OFFSET + rank)
            entry = self.entries.get(pid)
            if entry is None:
                entry = self.entries[pid] = {"score": 0.0, "best": -1.0, "locked": None}
            entry["score"] += term
            if term > entry["best"]:
                entry.update(best=term, reason=reason, via=via, label=label)
            if lock and reason == "picked":
                entry["locked"] = rank if entry["locked"] is None else min(entry["locked"], rank)

    def best(self, n: int) -> list[tuple[int, dict]]:
        def key(item):
            pid, entry = item
            locked = entry["locked"]
            return (locked is None, locked or 0, -entry["score"], pid)

        return sorted(self.entries.items(), key=key)[:n]


def _materialise(chosen, limit: int, known: Sequence) -> list[Recommendation]:
    known_by_id = {p.pk: p for p in known}
    wanted = [pid for pid, _ in chosen]
    vias = {entry["via"] for _, entry in chosen if entry.get("via")} - set(known_by_id)
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=[*wanted, *vias], is_public=True)
        .select_related("product_class", "parent")
        .prefetch_related("images", "stockrecords")
    }
    products.update(known_by_id)
    result = []
    for pid, entry in chosen:
        product = products.get(pid)
        if product is None or pid in known_by_id:
            continue
        via = products.get(entry.get("via")) if entry.get("via") else None
        result.append(
            Recommendation(
                product=product,
                reason=entry.get("reason", "popular"),
                via=via,
                label=entry.get("label", ""),
                score=round(entry["score"], 4),
            )
        )
        if len(result) >= limit:
            break
    if app_settings.RECOMMENDATIONS_SENTENCES and result:
        _attach_sentences(result)
    return result


def shopper_recommendations(user, limit: int = 10) -> list[Recommendation]:
    """A signed-in shopper's own list (new shoppers: what is popular)."""
    return recommendations_for(user=user, limit=limit)


def product_recommendations(product, user=None, limit: int = 10) -> list[Recommendation]:
    return recommendations_for(product=product, user=user, limit=limit)


# -- optional sentences ---------------------------------------------------------------------

#: How long a written sentence is kept (per product pair).
SENTENCE_TTL_S = 30 * 24 * 3600
SENTENCE_MAX_WORDS = 20


def sentence_key(product_id: int, via_id: int) -> str:
    return f"oscar_gpt:recs:sentence:{via_id}:{product_id}"


def _attach_sentences(recommendations: list[Recommendation]) -> None:
    """Cached sentences go beside their reasons; missing ones are queued, never written here."""
    pairs = {sentence_key(r.product.pk, r.via.pk): r for r in recommendations if r.via is not None}
    if not pairs:
        return
    found = cache.get_many(list(pairs))
    for key, recommendation in pairs.items():
        if found.get(key):
            recommendation.sentence = found[key]
            continue
        if cache.add(f"{key}:queued", 1, timeout=600):
            product_id, via_id = recommendation.product.pk, recommendation.via.pk
            transaction.on_commit(lambda p=product_id, v=via_id: _enqueue_sentence(p, v))


def _enqueue_sentence(product_id: int, via_id: int) -> None:
    from ..tasks import write_recommendation_sentence

    try:
        write_recommendation_sentence.delay(product_id, via_id)
    except Exception:  # noqa: BLE001 - the broker is down: the reason alone is shown
        logger.warning("Could not queue a recommendation sentence")


def write_sentence(product_id: int, via_id: int) -> str:
    """One short sentence on why ``product`` goes with ``via``, from their facts; cached."""
    from .. import llm
    from .embeddings import product_text

    products = Product.objects.in_bulk([product_id, via_id])
    product, via = products.get(product_id), products.get(via_id)
    if product is None or via is None:
        return ""
    messages = [
        {
            "role": "system",
            "content": (
                "You write one short sentence for a shop's product page, saying why a "
                "shopper looking at the first product may like the second. Use only the "
                f"facts given. At most {SENTENCE_MAX_WORDS} words. No prices, no claims "
                "the facts don't make."
            ),
        },
        {
            "role": "user",
            "content": f"First product:\n{product_text(via)}\n\nSecond product:\n"
            f"{product_text(product)}",
        },
    ]
    completion = llm.chat(FEATURE, messages, obj=product, max_tokens=48, temperature=0.3)
    text = " ".join(completion.text.split())
    words = text.split()
    if not words:
        return ""
    if len(words) > SENTENCE_MAX_WORDS:
        text = " ".join(words[:SENTENCE_MAX_WORDS]).rstrip(",;:") + "…"
    cache.set(sentence_key(product_id, via_id), text, timeout=SENTENCE_TTL_S)
    return text


# -- privacy ------------------------------------------------------------------------------


def forget_shopper(user) -> None:
    """A deleted account leaves no list behind (the row cascades; this says so at once)."""
    RecommendationList.objects.filter(user_id=user.pk).delete()
