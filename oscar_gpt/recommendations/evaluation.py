"""Offline evaluation: leave-last-out, hit rate and NDCG at k, every model beside baselines.

Each shopper with at least two different products among their orders (or the file's
events) keeps the last new one hidden; every model is fitted on what is left and asked for
k products from the shopper's history. A hit is the hidden product among them; NDCG rewards
it near the top. The baselines are popularity, random picks, and Oscar's hand-picked
recommendations of the products in the shopper's history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .events import ORDER, Events
from .recommenders import CoOccurrence, Dataset, default_models


@dataclass
class Split:
    """The training events, and per test shopper the product held out."""

    train: Events
    shoppers: np.ndarray
    held_out: np.ndarray


def leave_last_out(events: Events, target_kinds: Iterable[int] = (ORDER,)) -> Split:
    """Hold out each shopper's last new product among their ``target_kinds`` events (ties in
    time keep the file's order); drop all their events of it from training."""
    target_kinds = tuple(target_kinds)
    is_target = np.isin(events.kinds, target_kinds)
    index = np.arange(len(events))
    order = np.lexsort((index, events.times, events.shoppers))
    held: dict[int, int] = {}
    seen: dict[int, list[int]] = {}
    for position in order[is_target[order]]:
        shopper, product = int(events.shoppers[position]), int(events.products[position])
        products = seen.setdefault(shopper, [])
        if product not in products:
            products.append(product)
    for shopper, products in seen.items():
        if len(products) >= 2:
            held[shopper] = products[-1]
    shoppers = np.fromiter(held, dtype=np.int64)
    held_out = np.fromiter(held.values(), dtype=np.int64)
    if len(shoppers):
        lookup = dict(zip(shoppers.tolist(), held_out.tolist(), strict=True))
        hidden = np.fromiter(
            (
                lookup.get(int(s), -1) == int(p)
                for s, p in zip(events.shoppers, events.products, strict=True)
            ),
            dtype=bool,
            count=len(events),
        )
    else:
        hidden = np.zeros(len(events), dtype=bool)
    return Split(events.subset(~hidden), shoppers, held_out)


@dataclass
class Score:
    model: str
    hit_rate: float
    ndcg: float
    shoppers: int
    #: Shoppers the model had anything at all for.
    answered: int
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "hit_rate": round(self.hit_rate, 4),
            "ndcg": round(self.ndcg, 4),
            "shoppers": self.shoppers,
            "answered": self.answered,
            "note": self.note,
        }


def score(name: str, recommended: np.ndarray, truth: np.ndarray, note: str = "") -> Score:
    """Hit rate and NDCG of ``recommended`` (n x k columns, -1: none) against ``truth``."""
    if not len(truth):
        return Score(name, 0.0, 0.0, 0, 0, note)
    hits = recommended == truth[:, None]
    hit = hits.any(axis=1)
    rank = np.argmax(hits, axis=1)
    ndcg = np.where(hit, 1.0 / np.log2(rank + 2), 0.0)
    answered = int((recommended >= 0).any(axis=1).sum())
    return Score(name, float(hit.mean()), float(ndcg.mean()), len(truth), answered, note)


def evaluate(
    events: Events,
    *,
    signal_weights: Mapping[str, float],
    hybrid_weights: Mapping[str, float],
    als: Mapping | None = None,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
    hand_picked: Mapping[int, list[int]] | None = None,
    product_ids: Iterable[int] = (),
    k: int = 10,
    target_kinds: Iterable[int] = (ORDER,),
    seed: int = 0,
    progress=None,
) -> list[Score]:
    """Every model and baseline on one leave-last-out split, best hit rate first.

    ``vectors`` are ``(product ids, unit rows)`` for the content model (left out without);
    ``hand_picked`` maps a product id to its hand-picked product ids, best first.
    """
    split = leave_last_out(events, target_kinds)
    # Every product stays a column, even one that only a held-out event had.
    products = np.union1d(np.fromiter(product_ids, dtype=np.int64), events.products)
    data = Dataset.from_events(split.train, signal_weights, product_ids=products)
    truth = data.positions(split.held_out)
    rows = data.shopper_rows(split.shoppers)
    known = (truth >= 0) & (rows >= 0)
    truth, rows = truth[known], rows[known]
    history = data.matrix()[rows]
    weights = dict(hybrid_weights)
    if vectors is None:
        weights["content"] = 0.0
    models, hybrid = default_models(weights=weights, als=als, vectors=vectors, depth=max(k * 2, 20))
    scores: list[Score] = []
    say = progress or (lambda message: None)
    for name, model in models.items():
        if name == "content" and vectors is None:
            scores.append(Score(name, 0.0, 0.0, len(truth), 0, "no product vectors"))
            continue
        say(f"fitting {name}")
        model.fit(data)
        if name == "popularity":
            continue  # the popularity baseline, below
        note = ""
        if isinstance(model, CoOccurrence) and not data.matrix(model.kinds).nnz:
            note = "no events of its signals"
        scores.append(score(name, model.recommend(history, k), truth, note))
    say("fitting hybrid")
    hybrid.fit(data)
    scores.append(score("hybrid", hybrid.recommend(history, k), truth, _weights_note(weights)))
    scores.append(
        score(
            "baseline: popularity",
            models["popularity"].recommend(history, k),
            truth,
        )
    )
    scores.append(score("baseline: random", _random(history, data.n_products, k, seed), truth))
    if hand_picked:
        picked = _hand_picked(history, data, hand_picked, k)
        scores.append(score("baseline: Oscar's hand-picked", picked, truth))
    else:
        scores.append(
            Score("baseline: Oscar's hand-picked", 0.0, 0.0, len(truth), 0, "none in the shop")
        )
    return scores


def _weights_note(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {weight:g}" for name, weight in weights.items() if weight)


def _random(history, n_products: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    history = history.tocsr()
    result = np.full((history.shape[0], k), -1, dtype=np.int64)
    for row in range(history.shape[0]):
        seen = history.indices[history.indptr[row] : history.indptr[row + 1]]
        pool = np.setdiff1d(np.arange(n_products), seen)
        chosen = rng.choice(pool, size=min(k, len(pool)), replace=False)
        result[row, : len(chosen)] = chosen
    return result


def _hand_picked(history, data: Dataset, hand_picked: Mapping[int, list[int]], k: int):
    """The hand-picked recommendations of each shopper's products, most recent first."""
    history = history.tocsr()
    result = np.full((history.shape[0], k), -1, dtype=np.int64)
    for row in range(history.shape[0]):
        seen = history.indices[history.indptr[row] : history.indptr[row + 1]]
        picked: list[int] = []
        for column in seen[::-1]:
            for product_id in hand_picked.get(int(data.product_ids[column]), ()):
                position = int(data.positions([product_id])[0])
                if position >= 0 and position not in picked and position not in seen:
                    picked.append(position)
        result[row, : min(k, len(picked))] = picked[:k]
    return result
