"""The recommendation models, each behind one interface (:class:`Recommender`).

Behaviour models come from ``implicit`` (item-kNN on BM25-weighted co-occurrence, ALS matrix
factorisation); the content model ranks the products' MiniLM vectors
(:mod:`oscar_gpt.recommendations.embeddings`) with implicit's top-k; popularity is the last
fallback. :class:`Hybrid` blends any of them with weights, and says for each recommendation
which model contributed most: that model's reason is the one a shopper reads.

Everything here works on positions (columns of a :class:`Dataset`), not product ids, and
touches no database: the service feeds it and stores what it returns; the evaluation command
and the benchmark run the very same code on files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .events import PURCHASE_KINDS, VIEW, Events

#: Codes of the reasons in blended tables, in the order of :data:`REASON_CODES`.
REASON_CODES = (
    "bought_with",
    "viewed_with",
    "liked_with",
    "similar",
    "popular",
    "picked",
    "viewed",
    "basket",
    "bought",
)


def reason_code(reason: str) -> int:
    return REASON_CODES.index(reason)


def _lookup(ids: np.ndarray, wanted, sorted_index=None) -> np.ndarray:
    """Positions of ``wanted`` in the unique (unsorted) ``ids``; -1 where absent.
    ``sorted_index``: ``(order, ids[order])`` when the caller keeps it."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if not len(ids):
        return np.full(len(wanted), -1, dtype=np.int64)
    if sorted_index is None:
        order = np.argsort(ids, kind="stable")
        sorted_index = (order, ids[order])
    order, ranked = sorted_index
    at = np.minimum(np.searchsorted(ranked, wanted), len(ids) - 1)
    return np.where(ranked[at] == wanted, order[at], -1)


def _new_in_order(present: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The unique ``candidates`` not in ``present``, in order of first appearance."""
    _, first = np.unique(candidates, return_index=True)
    ordered = candidates[np.sort(first)]
    return ordered[_lookup(present, ordered) < 0]


@dataclass
class Dataset:
    """Events as a shoppers x products matrix of weights (one per group of signals).

    ``product_ids`` are the columns; products nobody has touched yet (new ones) may be among
    them, so that content similarity can find neighbours for them. :meth:`extend` appends
    new events (and new products and shoppers, as new columns and rows) without moving the
    existing ones, so tables keyed by column stay valid.
    """

    product_ids: np.ndarray
    shopper_ids: np.ndarray
    events: Events
    signal_weights: Mapping[str, float]
    #: Per column: the product's category id (-1: none), for "Popular in Category".
    categories: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_events(
        cls,
        events: Events,
        signal_weights: Mapping[str, float],
        product_ids: Sequence[int] | np.ndarray = (),
        categories: Mapping[int, int] | None = None,
    ) -> Dataset:
        products = np.union1d(events.products, np.asarray(product_ids, dtype=np.int64))
        shoppers = np.unique(events.shoppers)
        dataset = cls(products, shoppers, events, dict(signal_weights))
        if categories is not None:
            dataset.categories = np.array(
                [categories.get(int(pid), -1) for pid in products], dtype=np.int64
            )
        return dataset

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    def positions(self, product_ids) -> np.ndarray:
        """Columns of ``product_ids``; -1 for products not in the dataset."""
        return _lookup(self.product_ids, product_ids, self._sorted("product_ids"))

    def shopper_rows(self, shopper_ids) -> np.ndarray:
        return _lookup(self.shopper_ids, shopper_ids, self._sorted("shopper_ids"))

    def _sorted(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(order, ids[order])`` of ``product_ids`` or ``shopper_ids``, kept until the array
        is replaced (:meth:`extend`): a lookup then costs a binary search, not a sort of
        every id (an update looks up products many times)."""
        ids = getattr(self, name)
        kept = self.__dict__.setdefault("_sorted_ids", {}).get(name)
        if kept is None or kept[0] is not ids:
            order = np.argsort(ids, kind="stable")
            kept = self._sorted_ids[name] = (ids, order, ids[order])
        return kept[1], kept[2]

    def _build(self, events: Events, kinds, shape) -> sp.csr_matrix:
        if kinds is not None:
            events = events.subset(np.isin(events.kinds, kinds))
        weights = events.weights(self.signal_weights)
        keep = weights > 0
        matrix = sp.csr_matrix(
            (
                weights[keep],
                (self.shopper_rows(events.shoppers[keep]), self.positions(events.products[keep])),
            ),
            shape=shape,
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        return matrix

    def _build_kinds(self, events: Events, shape) -> sp.csr_matrix:
        rows = self.shopper_rows(events.shoppers)
        cols = self.positions(events.products)
        codes = events.kinds.astype(np.int8) + 1
        order = np.lexsort((-codes, cols, rows))
        rows, cols, codes = rows[order], cols[order], codes[order]
        first = np.r_[True, (np.diff(rows) != 0) | (np.diff(cols) != 0)] if len(rows) else []
        return sp.csr_matrix((codes[first], (rows[first], cols[first])), shape=shape, dtype=np.int8)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.shopper_ids), len(self.product_ids))

    def matrix(self, kinds: Sequence[int] | None = None) -> sp.csr_matrix:
        """Shoppers x products, the summed weights of the events of ``kinds`` (all: None)."""
        key = tuple(kinds) if kinds is not None else None
        if key not in self._cache:
            self._cache[key] = self._build(self.events, kinds, self.shape)
        return self._cache[key]

    def strongest_kinds(self) -> sp.csr_matrix:
        """Shoppers x products: 1 + the strongest signal a shopper gave a product (view <
        basket < order), for the shopper's reason ("Because you viewed / bought X")."""
        if "kinds" not in self._cache:
            self._cache["kinds"] = self._build_kinds(self.events, self.shape)
        return self._cache["kinds"]

    def extend(
        self,
        events: Events,
        product_ids: Sequence[int] | np.ndarray = (),
        categories: Mapping[int, int] | None = None,
    ) -> np.ndarray:
        """Add new events (and products); returns the columns of the new products."""
        candidates = np.concatenate([events.products, np.asarray(product_ids, dtype=np.int64)])
        new_products = _new_in_order(self.product_ids, candidates)
        new_shoppers = _new_in_order(self.shopper_ids, events.shoppers)
        first_new = len(self.product_ids)
        self.product_ids = np.concatenate([self.product_ids, new_products])
        self.shopper_ids = np.concatenate([self.shopper_ids, new_shoppers])
        if self.categories is not None:
            categories = categories or {}
            extra = [categories.get(int(pid), -1) for pid in new_products]
            self.categories = np.concatenate([self.categories, np.array(extra, dtype=np.int64)])
        for key, matrix in list(self._cache.items()):
            matrix = matrix.tocsr(copy=True)
            matrix.resize(self.shape)
            if key == "kinds":
                self._cache[key] = matrix.maximum(self._build_kinds(events, self.shape)).tocsr()
            else:
                self._cache[key] = (matrix + self._build(events, key, self.shape)).tocsr()
        self.events = self.events + events
        return np.arange(first_new, len(self.product_ids))

    def shoppers_per_product(self) -> np.ndarray:
        matrix = self.matrix()
        return np.diff(matrix.tocsc().indptr)


@dataclass
class Neighbours:
    """For each queried column: up to k neighbour columns (-1: none) and their scores, best
    first; in blended tables also the reason code of each (the strongest contributor)."""

    ids: np.ndarray
    scores: np.ndarray
    reasons: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int, k: int) -> Neighbours:
        return cls(np.full((n, k), -1, dtype=np.int64), np.zeros((n, k), dtype=np.float32))


def top_k_of_rows(matrix: sp.csr_matrix, k: int, skip: np.ndarray | None = None) -> Neighbours:
    """The ``k`` largest positive entries of each row of ``matrix``, leaving out column
    ``skip[row]`` (the product itself); ties go to the lower column."""
    matrix = _only_the_largest(matrix.tocsr(), k + 1)  # + 1: the product itself may be there
    matrix.sort_indices()
    matrix = matrix.tocoo()
    rows, cols, data = matrix.row, matrix.col, matrix.data.astype(np.float32)
    keep = data > 0
    if skip is not None:
        keep &= cols != skip[rows]
    rows, cols, data = rows[keep], cols[keep], data[keep]
    return rank_by_row(rows, cols, data, matrix.shape[0], k)


def _only_the_largest(matrix: sp.csr_matrix, k: int, crowded: int = 4) -> sp.csr_matrix:
    """A copy of ``matrix`` without the entries that can't be among a row's ``k`` largest:
    in rows of more than ``crowded * k`` entries, those below the row's k-th largest value
    (ties at it stay). Sorting a few thousand co-occurring products per row to keep fifty
    is most of the work otherwise."""
    counts = np.diff(matrix.indptr)
    busy = np.flatnonzero(counts > crowded * k)
    if not len(busy):
        return matrix.copy()
    keep = np.ones(matrix.nnz, dtype=bool)
    data = matrix.data
    for row in busy.tolist():
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values = data[start:end]
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep[start:end] = values >= kth
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix((data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def replace_rows(matrix: sp.csr_matrix, rows: np.ndarray, new: Neighbours) -> sp.csr_matrix:
    """``matrix`` with its rows ``rows`` (unique) replaced by ``new``'s (row ``i`` of ``new``
    is row ``rows[i]``; its -1 places are left out). The other rows' entries are copied a
    stretch at a time: no arithmetic over the whole matrix, no sort."""
    matrix = matrix.tocsr()
    rows = np.asarray(rows, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    rows, ids, values = rows[order], new.ids[order], new.scores[order]
    wanted = ids >= 0
    fresh_counts = wanted.sum(axis=1)
    fresh_ids, fresh_values = ids[wanted], values[wanted]  # row by row, in ``rows``' order
    fresh_starts = np.r_[0, np.cumsum(fresh_counts)]
    old_indptr = matrix.indptr.astype(np.int64)
    counts = np.diff(old_indptr)
    counts[rows] = fresh_counts
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    wide = max(int(indptr[-1]), matrix.shape[1]) > np.iinfo(np.int32).max
    index_type = np.int64 if wide else np.int32
    indices = np.empty(indptr[-1], dtype=index_type)
    data = np.empty(indptr[-1], dtype=matrix.dtype)
    source, target = 0, 0  # next old entry to copy, next free place
    for i, row in enumerate(rows.tolist()):
        start, end = int(old_indptr[row]), int(old_indptr[row + 1])
        stretch = start - source  # the untouched rows before this one
        indices[target : target + stretch] = matrix.indices[source:start]
        data[target : target + stretch] = matrix.data[source:start]
        target += stretch
        lo, hi = fresh_starts[i], fresh_starts[i + 1]
        indices[target : target + hi - lo] = fresh_ids[lo:hi]
        data[target : target + hi - lo] = fresh_values[lo:hi]
        target += hi - lo
        source = end
    indices[target:] = matrix.indices[source:]
    data[target:] = matrix.data[source:]
    return sp.csr_matrix((data, indices, indptr.astype(index_type)), shape=matrix.shape)


def _row_then_best_key(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """One unsigned 64-bit key per entry that sorts by row, then by score, highest first: a
    stable sort of it orders as ``np.lexsort((-scores, rows))`` does, several times faster.
    The score's float32 bits are mapped to integers in the floats' order (negatives have
    all their bits flipped, the others their sign bit) and then inverted."""
    # ``+ 0``: -0.0 becomes 0.0, which lexsort holds equal.
    bits = (np.asarray(scores, dtype=np.float32) + np.float32(0)).view(np.uint32)
    ascending = np.where(bits >> np.uint32(31), ~bits, bits | np.uint32(0x80000000))
    return (np.asarray(rows).astype(np.uint64) << np.uint64(32)) | (~ascending).astype(np.uint64)


def rank_by_row(rows, cols, scores, n_rows: int, k: int, extra=None) -> Neighbours:
    """Group ``(row, col, score)`` triples by row and keep each row's ``k`` best."""
    result = Neighbours.empty(n_rows, k)
    if extra is not None:
        result.reasons = np.full((n_rows, k), -1, dtype=extra.dtype)
    if not len(rows):
        return result
    # By row, best first; ties keep the order they came in (by column, from _sum_by_pair).
    order = np.argsort(_row_then_best_key(rows, scores), kind="stable")
    rows, cols, scores = rows[order], cols[order], scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    counts = np.diff(np.r_[starts, len(rows)])
    rank = np.arange(len(rows)) - np.repeat(starts, counts)
    keep = rank < k
    result.ids[rows[keep], rank[keep]] = cols[keep]
    result.scores[rows[keep], rank[keep]] = scores[keep]
    if extra is not None:
        result.reasons[rows[keep], rank[keep]] = extra[order][keep]
    return result


class Recommender:
    """One model. ``fit`` learns from a :class:`Dataset`; ``neighbours`` answers "what goes
    with these products" (product pages); ``recommend`` answers "what next for these
    shoppers" from their histories (used to evaluate each model on its own)."""

    #: Key of the model in settings and reports.
    name = ""
    #: The reason shown for a neighbour this model found (a :data:`REASON_CODES` entry).
    reason = ""

    def fit(self, data: Dataset) -> Recommender:
        self.data = data
        return self

    def neighbours(self, columns: np.ndarray, k: int) -> Neighbours:
        raise NotImplementedError

    def recommend(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        """Columns (n x k, -1: none) for shoppers with ``history`` rows, best first, none of
        the products in their history."""
        raise NotImplementedError


class CoOccurrence(Recommender):
    """Item-to-item co-occurrence: implicit's BM25-weighted item-kNN over the events of some
    signals (baskets and orders: "Often bought with"; views: "Often viewed with")."""

    def __init__(self, name: str, reason: str, kinds: Sequence[int], *, K=50, K1=1.2, B=0.75):
        self.name, self.reason, self.kinds = name, reason, tuple(kinds)
        self.K, self.K1, self.B = K, K1, B
        self.model = None

    def fit(self, data: Dataset) -> CoOccurrence:
        from implicit.nearest_neighbours import BM25Recommender, ItemItemRecommender, bm25_weight

        super().fit(data)
        matrix = data.matrix(self.kinds)
        self.model = BM25Recommender(K=self.K, K1=self.K1, B=self.B)
        if matrix.nnz:
            # BM25Recommender.fit, handing the weights over as CSR (it passes COO on).
            weighted = bm25_weight(matrix.T, self.K1, self.B).T.tocsr()
            ItemItemRecommender.fit(self.model, weighted, show_progress=False)
            self.similarity = self.model.similarity.tocsr()
        else:
            self.similarity = sp.csr_matrix((data.n_products, data.n_products), dtype=np.float32)
        self._grow(data.n_products)
        return self

    def _grow(self, n: int) -> None:
        if self.similarity.shape[0] < n:
            self.similarity = sp.csr_matrix(
                (
                    self.similarity.data,
                    self.similarity.indices,
                    np.r_[
                        self.similarity.indptr,
                        np.full(n - self.similarity.shape[0], self.similarity.indptr[-1]),
                    ],
                ),
                shape=(n, n),
            )
        elif self.similarity.shape[1] < n:
            self.similarity.resize((n, n))

    def neighbours(self, columns: np.ndarray, k: int) -> Neighbours:
        columns = np.asarray(columns, dtype=np.int64)
        return top_k_of_rows(self.similarity[columns], k, skip=columns)

    def recommend(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        if not self.similarity.nnz:
            return np.full((history.shape[0], k), -1, dtype=np.int64)
        ids, scores = self.model.recommend(
            np.arange(history.shape[0]), history.tocsr(), N=k, filter_already_liked_items=True
        )
        return np.where(scores > 0, ids, -1)

    def _weighted(self, data: Dataset) -> sp.csr_matrix:
        """Products x shoppers, weighted as the model weighs them (cached per matrix)."""
        from implicit.nearest_neighbours import bm25_weight

        matrix = data.matrix(self.kinds)
        cached = getattr(self, "_weighted_cache", None)
        if cached is None or cached[0] is not matrix:
            self._weighted_cache = (matrix, bm25_weight(matrix.T, self.K1, self.B).tocsr())
        return self._weighted_cache[1]

    def refresh_rows(self, data: Dataset, columns: np.ndarray) -> None:
        """Recompute the similarity rows of ``columns`` from ``data`` (after new events) the
        way the model weighs them; the other rows keep their values until the next fit."""
        self.data = data
        self._grow(data.n_products)
        if not len(columns) or not data.matrix(self.kinds).nnz:
            return
        weighted = self._weighted(data)
        fresh = (weighted[columns] @ weighted.T).tocsr()
        # The model keeps its K best per row: so do the refreshed rows.
        best = top_k_of_rows(fresh, self.K)
        self.similarity = replace_rows(self.similarity, columns, best)

    def pair_scores(self, data: Dataset, rows: np.ndarray, columns: np.ndarray) -> sp.coo_matrix:
        """Similarities of ``rows`` x ``columns`` now (only pairs that co-occur)."""
        if not len(rows) or not len(columns) or not data.matrix(self.kinds).nnz:
            return sp.coo_matrix((len(rows), len(columns)), dtype=np.float32)
        weighted = self._weighted(data)
        return (weighted[rows] @ weighted[columns].T).tocoo()


class MatrixFactorisation(Recommender):
    """implicit's ALS over every signal. Products seen by too few shoppers get no
    neighbours from it: their factors say little."""

    name = "als"
    reason = "liked_with"

    def __init__(self, *, min_shoppers: int = 5, **params):
        self.min_shoppers = min_shoppers
        self.params = {"factors": 32, "regularization": 0.05, "iterations": 10} | params
        self.model = None

    def fit(self, data: Dataset) -> MatrixFactorisation:
        from implicit.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        super().fit(data)
        matrix = data.matrix()
        self.warm = np.flatnonzero(data.shoppers_per_product() >= self.min_shoppers)
        self.model = AlternatingLeastSquares(random_state=0, **self.params)
        if matrix.nnz:
            with threadpool_limits(1, "blas"):  # implicit's own threads do the work
                self.model.fit(matrix, show_progress=False)
        return self

    def neighbours(self, columns: np.ndarray, k: int) -> Neighbours:
        columns = np.asarray(columns, dtype=np.int64)
        result = Neighbours.empty(len(columns), k)
        if self.model is None or len(self.warm) < 2 or self.model.item_factors is None:
            return result
        warm = np.isin(columns, self.warm)
        if not warm.any():
            return result
        queried = columns[warm]
        n = min(k + 1, len(self.warm))
        ids, scores = self.model.similar_items(queried, N=n, items=self.warm)
        ids = np.asarray(ids, dtype=np.int64).reshape(len(queried), n)
        scores = np.asarray(scores, dtype=np.float32).reshape(len(queried), n)
        rows = np.repeat(np.arange(len(queried)), n)
        keep = (ids.ravel() != np.repeat(queried, n)) & (scores.ravel() > 0)
        ranked = rank_by_row(rows[keep], ids.ravel()[keep], scores.ravel()[keep], len(queried), k)
        result.ids[warm], result.scores[warm] = ranked.ids, ranked.scores
        return result

    def recommend(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        if self.model is None or self.model.item_factors is None:
            return np.full((history.shape[0], k), -1, dtype=np.int64)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            ids, _ = self.model.recommend(
                np.arange(history.shape[0]),
                history.tocsr(),
                N=k,
                recalculate_user=True,
                filter_already_liked_items=True,
            )
        return np.asarray(ids, dtype=np.int64)


class ContentSimilarity(Recommender):
    """Products whose MiniLM vectors are closest (cosine), ranked by implicit's top-k: how a
    product nobody has bought yet, or a shopper who has only looked once, gets neighbours."""

    name = "content"
    reason = "similar"

    def __init__(self, vectors: tuple[np.ndarray, np.ndarray] | None = None):
        #: ``(product ids ascending, unit rows)``; None: the stored product vectors.
        self.vectors = vectors

    def fit(self, data: Dataset) -> ContentSimilarity:
        super().fit(data)
        if self.vectors is None:
            from .embeddings import vector_matrix

            self.vectors = vector_matrix()
        ids, matrix = self.vectors
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        #: Per vector row: its column in the dataset (-1: not a product of the dataset).
        self.columns = data.positions(ids) if len(ids) else np.zeros(0, dtype=np.int64)
        #: Per column: its vector row (-1: no vector).
        self.rows = np.full(data.n_products, -1, dtype=np.int64)
        known = self.columns >= 0
        self.rows[self.columns[known]] = np.flatnonzero(known)
        return self

    def neighbours(
        self, columns: np.ndarray, k: int, batch: int = 2048, groups: np.ndarray | None = None
    ) -> Neighbours:
        """With ``groups`` (a group per column, -1: none), each product's neighbours are looked
        for among the products of its own group only."""
        columns = np.asarray(columns, dtype=np.int64)
        result = Neighbours.empty(len(columns), k)
        if not len(self.matrix):
            return result
        if groups is None:
            self._search(columns, np.arange(len(columns)), None, k, batch, result)
            return result
        vector_groups = np.where(self.columns >= 0, groups[np.maximum(self.columns, 0)], -2)
        query_groups = groups[columns]
        for group in np.unique(query_groups):
            positions = np.flatnonzero(query_groups == group)
            candidates = None if group < 0 else np.flatnonzero(vector_groups == group)
            self._search(columns, positions, candidates, k, batch, result)
        return result

    def _search(self, columns, positions, candidates, k, batch, result) -> None:
        """Fill ``result[positions]`` with the neighbours of ``columns[positions]`` among the
        vector rows ``candidates`` (None: all)."""
        from implicit.cpu.topk import topk

        rows = self.rows[columns]
        has = positions[rows[positions] >= 0]
        pool = self.matrix if candidates is None else self.matrix[candidates]
        pool_columns = self.columns if candidates is None else self.columns[candidates]
        if not len(has) or not len(pool):
            return
        unknown = np.flatnonzero(pool_columns < 0)
        n = min(k + 1, len(pool))
        for start in range(0, len(has), batch):
            chunk = has[start : start + batch]
            ids, scores = topk(
                pool,
                np.ascontiguousarray(self.matrix[rows[chunk]]),
                n,
                filter_items=unknown if len(unknown) else None,
            )
            ids = np.asarray(ids, dtype=np.int64).reshape(len(chunk), n)
            found = np.where(ids >= 0, pool_columns[np.maximum(ids, 0)], -1)
            scores = np.asarray(scores, dtype=np.float32).reshape(len(chunk), n)
            found[found == columns[chunk][:, None]] = -1
            flat_rows = np.repeat(np.arange(len(chunk)), n)
            keep = (found.ravel() >= 0) & (scores.ravel() > 0)
            ranked = rank_by_row(
                flat_rows[keep], found.ravel()[keep], scores.ravel()[keep], len(chunk), k
            )
            result.ids[chunk], result.scores[chunk] = ranked.ids, ranked.scores

    def recommend(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        from implicit.cpu.topk import topk

        history = history.tocsr()
        result = np.full((history.shape[0], k), -1, dtype=np.int64)
        if not len(self.matrix):
            return result
        with_vectors = self.rows >= 0
        weights = history[:, np.flatnonzero(with_vectors)]
        profiles = weights @ self.matrix[self.rows[with_vectors]]
        norms = np.linalg.norm(profiles, axis=1)
        active = np.flatnonzero(norms > 0)
        if not len(active):
            return result
        wanted = min(len(self.matrix), k + int(np.diff(history.indptr).max(initial=0)))
        queries = np.ascontiguousarray(profiles[active] / norms[active, None], dtype=np.float32)
        ids, _ = topk(self.matrix, queries, wanted)
        for row, found in zip(active, np.asarray(ids), strict=True):
            columns = self.columns[found[found >= 0]]
            seen = history.indices[history.indptr[row] : history.indptr[row + 1]]
            columns = columns[(columns >= 0) & ~np.isin(columns, seen)][:k]
            result[row, : len(columns)] = columns
        return result


class Popularity(Recommender):
    """What most shoppers went for (weighted signals; plus anonymous views when known):
    the last fallback, per category on product pages."""

    name = "popularity"
    reason = "popular"

    def __init__(self, extra: Mapping[int, float] | None = None):
        #: More popularity per product id (views by anonymous shoppers).
        self.extra = extra or {}

    def fit(self, data: Dataset) -> Popularity:
        super().fit(data)
        scores = np.asarray(data.matrix().sum(axis=0), dtype=np.float64).ravel()
        if self.extra:
            ids = np.fromiter(self.extra, dtype=np.int64)
            columns = data.positions(ids)
            values = np.fromiter(self.extra.values(), dtype=np.float64)
            ok = columns >= 0
            np.add.at(scores, columns[ok], values[ok])
        self.scores = scores.astype(np.float32)
        self.ranking = np.lexsort((np.arange(len(scores)), -scores))
        self.ranking = self.ranking[scores[self.ranking] > 0]
        return self

    def by_category(self, k: int) -> dict[int, np.ndarray]:
        """``{category id: its k most popular columns}`` (-1: the whole shop)."""
        categories = self.data.categories
        result = {-1: self.ranking[:k]}
        if categories is None:
            return result
        ranked_categories = categories[self.ranking]
        order = np.argsort(ranked_categories, kind="stable")
        grouped, columns = ranked_categories[order], self.ranking[order]
        starts = np.r_[0, np.flatnonzero(np.diff(grouped)) + 1] if len(grouped) else []
        for start, end in zip(starts, [*starts[1:], len(grouped)], strict=True):
            if grouped[start] >= 0:
                result[int(grouped[start])] = columns[start : min(end, start + k)]
        return result

    def neighbours(self, columns: np.ndarray, k: int) -> Neighbours:
        """The most popular products of each column's category (the shop's, without one)."""
        columns = np.asarray(columns, dtype=np.int64)
        result = Neighbours.empty(len(columns), k)
        popular = self.by_category(k + 1)
        if self.data.categories is None:
            categories = np.full(len(columns), -1, dtype=np.int64)
        else:
            categories = self.data.categories[columns].copy()
            categories[~np.isin(categories, np.fromiter(popular, dtype=np.int64))] = -1
        top = max(float(self.scores.max(initial=0)), 1e-9)
        if not popular or not len(columns):
            return result
        # Every category's list in one table (a row per category, -1 where short): all
        # columns at once, not a loop over thousands of categories.
        keys = np.array(sorted(popular), dtype=np.int64)
        table = np.full((len(keys), k + 1), -1, dtype=np.int64)
        for at, key in enumerate(keys.tolist()):
            table[at, : len(popular[key])] = popular[key]
        at = np.searchsorted(keys, categories)
        known = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == categories)
        block = np.full((len(columns), k + 1), -1, dtype=np.int64)
        block[known] = table[at[known]]
        block[block == columns[:, None]] = -1  # never the product itself
        order = np.argsort(block < 0, axis=1, kind="stable")
        block = np.take_along_axis(block, order, axis=1)[:, :k]
        width = block.shape[1]
        result.ids[:, :width] = block
        result.scores[:, :width] = np.where(block >= 0, self.scores[np.maximum(block, 0)] / top, 0)
        return result

    def recommend(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        history = history.tocsr()
        result = np.full((history.shape[0], k), -1, dtype=np.int64)
        head = self.ranking[: k + int(np.diff(history.indptr).max(initial=0))]
        for row in range(history.shape[0]):
            seen = history.indices[history.indptr[row] : history.indptr[row + 1]]
            chosen = head[~np.isin(head, seen)][:k]
            result[row, : len(chosen)] = chosen
        return result


class Hybrid(Recommender):
    """A weighted blend of other models. Each model's scores are scaled so that a product's
    best neighbour scores 1, then weighted and summed; the reason of each blended neighbour is
    the reason of the model that contributed most to it.

    Its ``recommend`` is the storefront's own: a shopper's list merges the blended neighbours
    of what they viewed, put in a basket or bought (weighted by those signals), and fills up
    with what is popular.
    """

    name = "hybrid"
    reason = ""

    def __init__(self, models: Sequence[tuple[Recommender, float]], *, depth: int = 20):
        self.models = [(model, weight) for model, weight in models if weight > 0]
        self.depth = depth
        self.table: Neighbours | None = None

    def fit(self, data: Dataset) -> Hybrid:
        super().fit(data)
        for model, _ in self.models:
            if getattr(model, "data", None) is not data:
                model.fit(data)
        self.table = None
        return self

    def components(self, columns: np.ndarray, k: int) -> list[tuple[Neighbours, float, int]]:
        return [
            (model.neighbours(columns, k), weight, reason_code(model.reason))
            for model, weight in self.models
        ]

    def neighbours(self, columns: np.ndarray, k: int, components=None) -> Neighbours:
        columns = np.asarray(columns, dtype=np.int64)
        components = components if components is not None else self.components(columns, k)
        return blend(components, len(columns), k)

    def full_table(self) -> Neighbours:
        if self.table is None:
            self.table = self.neighbours(np.arange(self.data.n_products), self.depth)
        return self.table

    def recommend(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        popularity = next((m for m, _ in self.models if isinstance(m, Popularity)), None)
        lists = shopper_lists(history, self.full_table(), k)
        result = lists.ids
        if popularity is not None:
            result = fill(result, history, popularity.ranking)
        return result


def blend(components: Sequence[tuple[Neighbours, float, int]], n_rows: int, k: int) -> Neighbours:
    """Sum the row-normalised, weighted scores of each component per (row, neighbour); keep
    each row's ``k`` best with the reason of the largest contribution."""
    parts_rows, parts_cols, parts_scores, parts_reasons = [], [], [], []
    for table, weight, reason in components:
        if weight <= 0:
            continue
        top = table.scores[:, :1].copy()
        top[top <= 0] = 1
        normalised = table.scores / top * weight
        keep = table.ids >= 0
        rows = np.nonzero(keep)[0]
        parts_rows.append(rows)
        parts_cols.append(table.ids[keep])
        parts_scores.append(normalised[keep].astype(np.float32))
        parts_reasons.append(np.full(len(rows), reason, dtype=np.int8))
    if not parts_rows:
        result = Neighbours.empty(n_rows, k)
        result.reasons = np.full((n_rows, k), -1, dtype=np.int8)
        return result
    rows = np.concatenate(parts_rows).astype(np.int64)
    cols = np.concatenate(parts_cols).astype(np.int64)
    scores = np.concatenate(parts_scores)
    reasons = np.concatenate(parts_reasons)
    summed_rows, summed_cols, summed, strongest = _sum_by_pair(rows, cols, scores, reasons)
    return rank_by_row(summed_rows, summed_cols, summed, n_rows, k, extra=strongest)


def _sum_by_pair(rows, cols, scores, tags):
    """Sum ``scores`` per (row, col), in (row, col) order; for each pair, the tag of its
    largest score. One sort of a single integer key: several times faster than lexsort."""
    if not len(rows):
        return rows, cols, scores, tags
    width = np.int64(cols.max()) + 1
    key = rows.astype(np.int64) * width + cols
    order = np.argsort(key, kind="stable")
    key, scores, tags = key[order], scores[order], tags[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    summed = np.add.reduceat(scores, starts)
    largest = np.maximum.reduceat(scores, starts)
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
    best = np.flatnonzero(scores == largest[group])
    first_best = best[np.r_[True, group[best][1:] != group[best][:-1]]]
    pair = key[starts]
    return pair // width, pair % width, summed.astype(np.float32), tags[first_best]


@dataclass
class ShopperLists:
    """Per shopper: columns, scores and, for each, the history column it came from."""

    ids: np.ndarray
    scores: np.ndarray
    via: np.ndarray
    reasons: np.ndarray


def shopper_lists(
    history: sp.csr_matrix,
    table: Neighbours,
    k: int,
    *,
    exclude_history: bool = True,
    chunk: int = 500_000,
) -> ShopperLists:
    """Merge the neighbour lists of each shopper's history columns, weighted by the
    shopper's signals on them; the history column that contributed most is the "via"."""
    history = history.tocsr()
    history.sort_indices()
    n = history.shape[0]
    ids = np.full((n, k), -1, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    via = np.full((n, k), -1, dtype=np.int64)
    reasons = np.full((n, k), -1, dtype=np.int8)
    width = table.ids.shape[1]
    counts = np.diff(history.indptr)
    start_row = 0
    while start_row < n:
        # Rows whose history entries fit in one chunk (at least one row).
        limit = history.indptr[start_row] + max(chunk // max(width, 1), 1)
        end_row = max(int(np.searchsorted(history.indptr, limit, side="right")) - 1, start_row + 1)
        end_row = min(end_row, n)
        lo, hi = history.indptr[start_row], history.indptr[end_row]
        rows = np.repeat(np.arange(start_row, end_row), counts[start_row:end_row])
        sources = history.indices[lo:hi].astype(np.int64)
        weights = history.data[lo:hi].astype(np.float32)
        candidate = table.ids[sources]  # (entries x width)
        contribution = table.scores[sources] * weights[:, None]
        tags = (
            table.reasons[sources]
            if table.reasons is not None
            else np.zeros_like(candidate, dtype=np.int8)
        )
        flat_rows = np.repeat(rows, width)
        flat_cols = candidate.ravel()
        flat_scores = contribution.ravel().astype(np.float32)
        flat_via = np.repeat(sources, width)
        flat_tags = tags.ravel()
        keep = flat_cols >= 0
        if exclude_history and keep.any():
            # (row, column) keys of the history, sorted: CSR rows are, their indices too.
            width_cols = np.int64(history.shape[1])
            seen_keys = rows.astype(np.int64) * width_cols + sources
            wanted = flat_rows[keep].astype(np.int64) * width_cols + flat_cols[keep]
            at = np.minimum(np.searchsorted(seen_keys, wanted), len(seen_keys) - 1)
            inside = seen_keys[at] == wanted
            keep[np.flatnonzero(keep)[inside]] = False
        flat_rows, flat_cols = flat_rows[keep], flat_cols[keep]
        flat_scores, flat_via, flat_tags = flat_scores[keep], flat_via[keep], flat_tags[keep]
        # Sum per (shopper, candidate); the via and reason of the largest contribution.
        if len(flat_rows):
            pair_rows, pair_cols, summed, entry = _sum_by_pair(
                flat_rows - start_row,
                flat_cols,
                flat_scores,
                np.arange(len(flat_rows), dtype=np.int64),
            )
            ranked = rank_by_row(pair_rows, pair_cols, summed, end_row - start_row, k, extra=entry)
            ids[start_row:end_row] = ranked.ids
            scores[start_row:end_row] = ranked.scores
            found = ranked.ids >= 0
            picked = ranked.reasons[found]
            via[start_row:end_row][found] = flat_via[picked]
            reasons[start_row:end_row][found] = flat_tags[picked]
        start_row = end_row
    return ShopperLists(ids, scores, via, reasons)


def fill(ids: np.ndarray, history: sp.csr_matrix, ranking: np.ndarray) -> np.ndarray:
    """Fill each row's empty places (-1) with the first of ``ranking`` not already in it and
    not in the shopper's history."""
    history = history.tocsr()
    result = ids.copy()
    k = ids.shape[1]
    head = ranking[: k * 2 + int(np.diff(history.indptr).max(initial=0))]
    for row in np.flatnonzero((result < 0).any(axis=1)):
        present = result[row][result[row] >= 0]
        seen = history.indices[history.indptr[row] : history.indptr[row + 1]]
        extra = head[~np.isin(head, present) & ~np.isin(head, seen)]
        free = np.flatnonzero(result[row] < 0)[: len(extra)]
        result[row, free] = extra[: len(free)]
    return result


def default_models(
    *,
    weights: Mapping[str, float],
    als: Mapping | None = None,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
    popularity_extra: Mapping[int, float] | None = None,
    depth: int = 20,
) -> tuple[dict[str, Recommender], Hybrid]:
    """The shop's models and their hybrid, from settings-shaped arguments."""
    als = dict(als or {})
    min_shoppers = int(als.pop("MIN_SHOPPERS", 5))
    models: dict[str, Recommender] = {
        "bought_with": CoOccurrence("bought_with", "bought_with", PURCHASE_KINDS),
        "viewed_with": CoOccurrence("viewed_with", "viewed_with", (VIEW,)),
        "als": MatrixFactorisation(min_shoppers=min_shoppers, **als),
        "content": ContentSimilarity(vectors),
        "popularity": Popularity(popularity_extra),
    }
    hybrid = Hybrid([(models[name], float(weights.get(name, 0))) for name in models], depth=depth)
    return models, hybrid
