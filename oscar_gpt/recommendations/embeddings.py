"""Product embeddings: one vector per product, for the finder's semantic search and for
similar-product recommendations.

A product's vector embeds :func:`product_text` (title, class, categories, attribute facts,
the start of the description). :func:`refresh_vectors` embeds only products whose text or
embedding model changed since their vector was stored; :func:`vector_matrix` keeps every
stored vector in memory as one matrix, rebuilt when the table changes; :func:`nearest`
finds the products closest to a vector in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.html import strip_tags
from oscar.core.loading import get_model

from ..descriptions.facts import attribute_facts, facts_from_rows
from ..models import ProductVector

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")

#: Characters of the description that go into a product's text: the start says what it is.
DESCRIPTION_CHARS = 400

#: Rows from which :func:`nearest` first ranks on a projection of the vectors (a few
#: principal components), then scores its best candidates exactly: a full scan of 100,000
#: x 384 float32 values reads 150 MB per query, too slow for a shopper on two cores.
PROJECTION_FROM_ROWS = 20_000
#: Dimensions of the projection.
PROJECTION_DIMENSIONS = 96
#: Candidates per result (at least :data:`PROJECTION_MIN_CANDIDATES`) scored exactly.
PROJECTION_CANDIDATES_PER_RESULT = 16
PROJECTION_MIN_CANDIDATES = 512

#: Seconds a process searches the vectors it holds before asking the table whether they
#: changed (a count over every row: ~10 ms at 100,000 products, too dear for each search).
#: Vectors written by this process are seen at once; another process's within this time.
RECHECK_SECONDS = 1.0


def product_text(product, category_paths: dict[int, str] | None = None) -> str:
    """What a product is, in words, as it is embedded: stable for an unchanged product.

    ``category_paths`` remembers each category's "A > B > C" across calls (one query per
    category instead of one per product and category). :func:`product_texts` gives the same
    texts for many products at once."""
    parent = product.parent if product.is_child else None
    product_class = product.get_product_class()
    paths = category_paths if category_paths is not None else {}
    categories = []
    for category in product.get_categories():  # a queryset, or a prefetched list
        if category.pk not in paths:
            paths[category.pk] = " > ".join(c.name for c in category.get_ancestors_and_self())
        categories.append(paths[category.pk])
    facts = attribute_facts(product)
    if parent is not None:  # a variant shares its parent's facts unless it overrides them
        codes = {fact.code for fact in facts}
        facts += [fact for fact in attribute_facts(parent) if fact.code not in codes]
    return _compose(
        product.get_title(),
        product_class.name if product_class is not None else "",
        categories,
        [fact.text for fact in facts],
        product.description or (parent.description if parent else ""),
    )


def _compose(
    title: str, class_name: str, categories: list[str], facts: list[str], description: str
) -> str:
    lines = [title, class_name, *sorted(categories), *sorted(facts)]
    description = " ".join(strip_tags(description or "").split())
    if description:
        if len(description) > DESCRIPTION_CHARS:
            description = description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0]
        lines.append(description)
    return "\n".join(str(line) for line in lines if line)


#: Attribute types whose value is one column of the value row, read with ``values_list``.
_VALUE_COLUMNS = {
    "text": "value_text",
    "integer": "value_integer",
    "boolean": "value_boolean",
    "float": "value_float",
    "richtext": "value_richtext",
    "date": "value_date",
    "datetime": "value_datetime",
    "option": "value_option__option",
}
_VALUE_CELL = {kind: cell for cell, kind in enumerate(_VALUE_COLUMNS)}
#: Attribute types that say nothing in words (as :func:`attribute_facts` has them).
_WORDLESS_TYPES = frozenset({"entity", "file", "image"})


def product_texts(pks: Sequence[int], category_paths: dict[int, str] | None = None) -> dict:
    """``{product id: product_text(product)}`` for many products, read as plain rows with a
    few queries instead of model instances with prefetched relations (which build a queryset
    per product and relation): less Python work in the thread that reads while the model
    embeds, on the cores the model needs. Byte for byte what :func:`product_text` gives
    (stored fingerprints depend on it); a product with an attribute type this does not know
    is read the slow way."""
    ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
    ProductCategory = get_model("catalogue", "ProductCategory")
    paths = category_paths if category_paths is not None else {}
    rows = list(
        Product.objects.filter(pk__in=list(pks)).values_list(
            "pk",
            "structure",
            "parent_id",
            "title",
            "description",
            "product_class__name",
            "parent__title",
            "parent__description",
            "parent__product_class__name",
        )
    )
    owners = {pk for pk, *_ in rows} | {parent for _, _, parent, *_ in rows if parent}
    categories: dict[int, list[tuple[int, str, int]]] = {}
    for owner, pk, path, depth in ProductCategory.objects.filter(
        product_id__in=owners, category__is_public=True, category__ancestors_are_public=True
    ).values_list("product_id", "category_id", "category__path", "category__depth"):
        categories.setdefault(owner, []).append((pk, path, depth))
    _fill_paths(
        {pk: (path, depth) for found in categories.values() for pk, path, depth in found}, paths
    )
    values: dict[int, list[tuple[str, str, str, object]]] = {}
    multi: dict[int, tuple[int, str, str]] = {}
    unknown = set()
    columns = list(_VALUE_COLUMNS.values())
    value_rows = ProductAttributeValue.objects.filter(product_id__in=owners).values_list(
        "product_id", "pk", "attribute__code", "attribute__name", "attribute__type", *columns
    )
    for owner, value_id, code, name, kind, *cells in value_rows:
        if kind in _VALUE_COLUMNS:
            value = cells[_VALUE_CELL[kind]]
            if kind == "richtext":
                value = strip_tags(value or "").strip()
            values.setdefault(owner, []).append((code, name, kind, value))
        elif kind == "multi_option":
            multi[value_id] = (owner, code, name)
        elif kind not in _WORDLESS_TYPES:
            unknown.add(owner)
    if multi:
        options: dict[int, list[str]] = {value_id: [] for value_id in multi}
        through = ProductAttributeValue.value_multi_option.through
        for value_id, option in (
            through.objects.filter(productattributevalue_id__in=list(multi))
            .order_by("attributeoption_id")  # as attribute_facts has them
            .values_list("productattributevalue_id", "attributeoption__option")
        ):
            options[value_id].append(str(option))
        for value_id, (owner, code, name) in multi.items():
            values.setdefault(owner, []).append((code, name, "multi_option", options[value_id]))
    texts = {}
    for pk, structure, parent, title, description, class_name, *parents in rows:
        parent_title, parent_description, parent_class = parents
        if pk in unknown or parent in unknown:
            texts[pk] = product_text(Product.objects.get(pk=pk), paths)
            continue
        child = structure == Product.CHILD and parent is not None
        owner = parent if child else pk
        if child:
            # A variant's values override its parent's, code by code; a value it leaves
            # empty falls back to the parent's (get_attribute_values, then product_text).
            merged = {code: value for code, *value in values.get(parent, [])}
            merged.update({code: value for code, *value in values.get(pk, [])})
            facts = facts_from_rows((code, *value) for code, value in merged.items())
            codes = {fact.code for fact in facts}
            facts += [f for f in facts_from_rows(values.get(parent, [])) if f.code not in codes]
        else:
            facts = facts_from_rows(values.get(pk, []))
        texts[pk] = _compose(
            title or (parent_title if parent else ""),
            (parent_class if child else class_name) or "",
            [paths[category] for category, _, _ in categories.get(owner, []) if category in paths],
            [fact.text for fact in facts],
            description or (parent_description if child else ""),
        )
    return texts


def fingerprint(text: str, model_name: str) -> str:
    return hashlib.sha256(model_name.encode() + b"\0" + text.encode()).hexdigest()


def model_name(embedder) -> str:
    return str(getattr(embedder, "name", "") or type(embedder).__name__)


def _embedder():
    from ..llm.embeddings import get_embedder

    return get_embedder()


def embed_query(text: str, *, embedder=None) -> np.ndarray:
    """A shopper's words as a unit vector comparable with the products' (same model)."""
    embedder = embedder or _embedder()
    return _normalised(np.asarray(embedder.embed([text]), dtype=np.float32))[0]


def refresh_vectors(
    product_ids: Iterable[int] | None = None, batch_size: int = 256, *, embedder=None
) -> int:
    """Bring the stored vectors of ``product_ids`` (default: every browsable product) up to
    date; returns how many products were embedded. Unchanged products cost no embedding.

    The model embeds one batch in a thread of its own (torch releases the GIL) while this
    thread reads the next batch from the database and writes the previous one: the database
    stays in this thread, and its round trips no longer add to the model's time."""
    embedder = embedder or _embedder()
    name = model_name(embedder)
    if product_ids is None:
        queryset = Product.objects.browsable()
    else:
        queryset = Product.objects.filter(pk__in=list(product_ids))
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    embedded = 0
    category_paths: dict[int, str] = {}
    pending: tuple[Future, list] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="oscar-gpt-embed") as pool:
        try:
            for start in range(0, len(pks), batch_size):
                stale = _stale(pks[start : start + batch_size], name, category_paths)
                submitted = None
                if stale:
                    texts = [text for _, text, _ in stale]
                    submitted = (pool.submit(embedder.embed, texts), stale)
                if pending is not None:
                    embedded += _store(*pending, name)
                pending = submitted
            if pending is not None:
                embedded += _store(*pending, name)
                pending = None
        finally:
            if pending is not None:  # a failure elsewhere: don't leave the model running
                pending[0].cancel()
    return embedded


def _stale(chunk: list[int], name: str, category_paths: dict) -> list[tuple]:
    """``(product id, text, fingerprint)`` of the products in ``chunk`` whose stored vector
    is missing or was made from another text or model."""
    texts = product_texts(chunk, category_paths)
    stored = dict(
        ProductVector.objects.filter(product_id__in=chunk).values_list("product_id", "fingerprint")
    )
    stale = []
    for pk in chunk:
        if pk in texts:
            current = fingerprint(texts[pk], name)
            if stored.get(pk) != current:
                stale.append((pk, texts[pk], current))
    return stale


def _fill_paths(categories: dict[int, tuple[str, int]], paths: dict[int, str]) -> None:
    """Put the "A > B > C" of every category in ``categories`` (``{id: (path, depth)}``) not
    in ``paths`` yet into it, with one query for all their ancestors (treebeard's
    materialised paths: an ancestor's path is a prefix), as :func:`product_text` writes it
    one query per category."""
    missing = {pk: found for pk, found in categories.items() if pk not in paths}
    if not missing:
        return
    step = Category.steplen
    prefixes = {
        path[: step * level] for path, depth in missing.values() for level in range(1, depth + 1)
    }
    names = dict(Category.objects.filter(path__in=prefixes).values_list("path", "name"))
    for pk, (path, depth) in missing.items():
        ancestors = [path[: step * level] for level in range(1, depth + 1)]
        if all(ancestor in names for ancestor in ancestors):
            paths[pk] = " > ".join(names[ancestor] for ancestor in ancestors)
        else:  # a broken tree: as product_text reads it
            category = Category.objects.get(pk=pk)
            paths[pk] = " > ".join(c.name for c in category.get_ancestors_and_self())


def _store(embedding: Future, stale: list[tuple], name: str) -> int:
    """Write the vectors of one batch once the model has them; returns how many."""
    vectors = _normalised(np.asarray(embedding.result(), dtype=np.float32))
    now = timezone.now()
    rows = [
        ProductVector(
            product_id=pk,
            vector=np.ascontiguousarray(vector).tobytes(),
            dimension=int(vector.shape[0]),
            embedding_model=name,
            fingerprint=current,
            updated_at=now,
        )
        for (pk, _, current), vector in zip(stale, vectors, strict=True)
    ]
    if not _copy_upsert(rows):
        # One statement per batch, and safe against a concurrent refresh of the same products.
        ProductVector.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["product"],
            update_fields=list(_VECTOR_COLUMNS[1:]),
        )
    mark_changed()
    return len(rows)


_VECTOR_COLUMNS = (
    "product_id",
    "vector",
    "dimension",
    "embedding_model",
    "fingerprint",
    "updated_at",
)


def _copy_upsert(rows: list[ProductVector]) -> bool:
    """Write ``rows`` with PostgreSQL's COPY into a temporary table and one upsert from it:
    a batch's 256 vectors as one big INSERT spend more time being built and parsed than
    written. False where COPY isn't there (another database, another driver)."""
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    if not callable(getattr(connection.connection, "cursor", None)):
        return False
    table = connection.ops.quote_name(ProductVector._meta.db_table)
    columns = ", ".join(_VECTOR_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _VECTOR_COLUMNS[1:])
    with transaction.atomic(), connection.cursor() as cursor:
        raw = getattr(cursor, "cursor", cursor)
        if not hasattr(raw, "copy"):
            return False
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS oscar_gpt_vector_batch ON COMMIT DELETE ROWS"
            f" AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with raw.copy(f"COPY oscar_gpt_vector_batch ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (
                        row.product_id,
                        row.vector,
                        row.dimension,
                        row.embedding_model,
                        row.fingerprint,
                        row.updated_at,
                    )
                )
        # Safe against a concurrent refresh of the same products, as bulk_create's upsert.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM oscar_gpt_vector_batch"
            f" ON CONFLICT (product_id) DO UPDATE SET {updates}"
        )
        # Emptied at commit too, but an enclosing transaction (a test's, a caller's) would
        # keep this batch's rows for the next one.
        cursor.execute("DELETE FROM oscar_gpt_vector_batch")
    return True


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return (matrix / norms).astype(np.float32, copy=False)


@dataclass
class _Index:
    key: tuple
    ids: np.ndarray
    matrix: np.ndarray
    #: The embedding model of every row.
    model: str = ""
    #: Built on first use: ``(components d x p, projected n x p)`` or ``None`` (exact scan).
    projection: tuple[np.ndarray, np.ndarray] | None = None
    projection_built: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_index: _Index | None = None
_index_lock = threading.Lock()
#: When this process last compared its index with the table (``time.monotonic()``).
_checked_at = float("-inf")


def mark_changed(**_kwargs) -> None:
    """Vectors were written or deleted here: the next search looks at the table again."""
    global _checked_at
    _checked_at = float("-inf")


# Saves and deletions through the ORM (a product deleted takes its vector with it); bulk
# writes call mark_changed themselves. Only a process that imported this module holds an index.
post_save.connect(mark_changed, sender=ProductVector, dispatch_uid="oscar_gpt_vectors_saved")
post_delete.connect(mark_changed, sender=ProductVector, dispatch_uid="oscar_gpt_vectors_deleted")


def _table_key() -> tuple:
    """Changes whenever a vector is added, changed or deleted: one small query per search."""
    state = ProductVector.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    return (state["count"], state["latest"])


def _load(key: tuple) -> _Index:
    """The vectors of the embedding model most recently used (a model change leaves older
    vectors behind until they are refreshed; they are never mixed in one matrix)."""
    model = (
        ProductVector.objects.order_by("-updated_at", "-id")
        .values_list("embedding_model", flat=True)
        .first()
    )
    rows = (
        ProductVector.objects.filter(embedding_model=model or "")
        .order_by("product_id")
        .values_list("product_id", "dimension", "vector")
    )
    ids, vectors, dimension = [], [], None
    for product_id, row_dimension, vector in rows.iterator(chunk_size=2000):
        if dimension is None:
            dimension = row_dimension
        if row_dimension != dimension or not row_dimension:
            continue
        ids.append(product_id)
        vectors.append(bytes(vector))
    if not ids:
        return _Index(key, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))
    matrix = np.frombuffer(b"".join(vectors), dtype=np.float32).reshape(len(ids), dimension)
    return _Index(key, np.asarray(ids, dtype=np.int64), _normalised(matrix.copy()), model or "")


#: A vector written this long before the newest one seen is still looked for when patching:
#: a write's timestamp is taken before its transaction commits.
PATCH_OVERLAP = dt.timedelta(seconds=60)


def _patched(old: _Index, key: tuple) -> _Index | None:
    """``old`` with the vectors written since it was loaded, or None when only a full load
    will do (deletions, another model, many changes). A product edited in a shop of 100,000
    reads one row, not 150 MB."""
    count, latest = key
    old_count, old_latest = old.key
    if latest is None or old_latest is None or len(old.ids) != old_count or not len(old.ids):
        return None
    rows = list(
        ProductVector.objects.filter(updated_at__gt=old_latest - PATCH_OVERLAP)
        .order_by("product_id")
        .values_list("product_id", "dimension", "embedding_model", "vector")[:1001]
    )
    if len(rows) > 1000:
        return None
    dimension = old.matrix.shape[1]
    if any(model != old.model or size != dimension for _, size, model, _ in rows):
        return None
    changed = np.asarray([pk for pk, _, _, _ in rows], dtype=np.int64)
    vectors = _normalised(
        np.frombuffer(b"".join(bytes(v) for _, _, _, v in rows), dtype=np.float32).reshape(
            len(rows), dimension
        )
    )
    positions = np.searchsorted(old.ids, changed)
    known = (positions < len(old.ids)) & (
        old.ids[np.minimum(positions, len(old.ids) - 1)] == changed
    )
    if old_count + int((~known).sum()) != count:
        return None  # a vector was deleted too
    new = ~known
    matrix = old.matrix.copy()  # readers may hold the old one
    matrix[positions[known]] = vectors[known]
    projection = None
    if old.projection_built and old.projection is not None:
        # The principal directions barely move for a few rows: project only those.
        components, projected = old.projection
        projected = projected.copy()
        projected[positions[known]] = vectors[known] @ components
        projection = (components, projected)
    ids = old.ids
    if new.any():
        ids = np.concatenate([ids, changed[new]])
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        matrix = np.ascontiguousarray(np.concatenate([matrix, vectors[new]])[order])
        if projection is not None:
            components, projected = projection
            projected = np.concatenate([projected, vectors[new] @ components])[order]
            projection = (components, np.ascontiguousarray(projected))
    patched = _Index(key, ids, matrix, old.model)
    if old.projection_built:
        patched.projection, patched.projection_built = projection, True
    return patched


def _current_index() -> _Index:
    global _index, _checked_at
    with _index_lock:
        now = time.monotonic()
        if _index is not None and now - _checked_at < RECHECK_SECONDS:
            return _index
        _checked_at = now
        key = _table_key()
        if _index is None or _index.key != key:
            _index = (_patched(_index, key) if _index is not None else None) or _load(key)
        return _index


def vector_matrix() -> tuple[np.ndarray, np.ndarray]:
    """Every stored vector of the current embedding model: ``(product ids ascending, int64;
    unit rows, float32)``. Cached in the process; reloaded when the table changes."""
    index = _current_index()
    return index.ids, index.matrix


def clear_cache() -> None:
    global _index, _checked_at
    with _index_lock:
        _index = None
        _checked_at = float("-inf")


def nearest(
    vector: Sequence[float] | np.ndarray,
    k: int,
    exclude: Iterable[int] = (),
    *,
    among: Iterable[int] | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` products whose vectors are closest to ``vector`` (cosine, best first), as
    ``[(product_id, score)]``; products in ``exclude`` are left out and, when ``among`` is
    given, only those products are considered."""
    index = _current_index()
    return search(index.ids, index.matrix, vector, k, exclude, among=among, index=index)


def _projection(index: _Index) -> tuple[np.ndarray, np.ndarray] | None:
    if index.projection_built:
        return index.projection
    with index.lock:
        if not index.projection_built:
            n, d = index.matrix.shape
            if n >= PROJECTION_FROM_ROWS and d > PROJECTION_DIMENSIONS:
                rng = np.random.default_rng(0)
                sample = index.matrix[rng.choice(n, size=min(n, 20_000), replace=False)]
                # Principal directions of the vectors (uncentred: scores are dot products),
                # from the d x d second-moment matrix: far cheaper than an SVD of the rows.
                _, directions = np.linalg.eigh(sample.T @ sample)
                components = np.ascontiguousarray(directions[:, ::-1][:, :PROJECTION_DIMENSIONS])
                index.projection = (components, np.ascontiguousarray(index.matrix @ components))
            index.projection_built = True
    return index.projection


def search(
    ids: np.ndarray,
    matrix: np.ndarray,
    vector: Sequence[float] | np.ndarray,
    k: int,
    exclude: Iterable[int] = (),
    *,
    among: Iterable[int] | None = None,
    index: _Index | None = None,
) -> list[tuple[int, float]]:
    """:func:`nearest` over any ``(ids ascending, unit rows)``; with ``index``, large matrices
    are ranked on their projection first and the best candidates scored exactly."""
    if k <= 0 or not len(ids):
        return []
    query = np.asarray(vector, dtype=np.float32).ravel()
    if query.shape[0] != matrix.shape[1]:
        raise ValueError(f"vector has {query.shape[0]} dimensions, the matrix {matrix.shape[1]}")
    norm = float(np.linalg.norm(query))
    if not norm:
        return []
    query = query / norm
    allowed = None
    if among is not None:
        allowed = _positions(ids, among)
        if not len(allowed):
            return []
    excluded = _positions(ids, exclude)
    projection = _projection(index) if index is not None and allowed is None else None
    if projection is not None:
        components, projected = projection
        coarse = projected @ (query @ components)
        coarse[excluded] = -np.inf
        wanted = min(len(ids), max(k * PROJECTION_CANDIDATES_PER_RESULT, PROJECTION_MIN_CANDIDATES))
        rows = _top(coarse, wanted)
        rows = rows[np.isfinite(coarse[rows])]
        scores = matrix[rows] @ query
    elif allowed is not None:
        rows = np.setdiff1d(allowed, excluded, assume_unique=True)
        scores = matrix[rows] @ query
    else:
        scores = matrix @ query
        scores[excluded] = -np.inf
        rows = None
    best = _top(scores, k)
    best = best[np.isfinite(scores[best])]
    picked = best if rows is None else rows[best]
    return [(int(ids[row]), float(scores[i])) for i, row in zip(best, picked, strict=True)]


def _positions(ids: np.ndarray, wanted: Iterable[int]) -> np.ndarray:
    """Rows of ``wanted`` product ids in ``ids`` (ascending); unknown ids are skipped."""
    wanted = np.unique(np.fromiter((int(i) for i in wanted), dtype=np.int64))
    if not len(wanted):
        return np.zeros(0, dtype=np.int64)
    rows = np.searchsorted(ids, wanted)
    rows = rows[rows < len(ids)]
    return rows[np.isin(ids[rows], wanted)]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, highest first."""
    k = min(k, len(scores))
    if not k:
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        top = np.argpartition(scores, len(scores) - k)[len(scores) - k :]
    else:
        top = np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]
