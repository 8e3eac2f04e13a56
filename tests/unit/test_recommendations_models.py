"""The recommendation models and the evaluation, on events made here (no database)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from oscar_gpt.recommendations.evaluation import evaluate, leave_last_out, score
from oscar_gpt.recommendations.events import BASKET, ORDER, VIEW, Events, read_events_csv
from oscar_gpt.recommendations.recommenders import (
    REASON_CODES,
    ContentSimilarity,
    CoOccurrence,
    Dataset,
    Hybrid,
    Neighbours,
    Popularity,
    blend,
    rank_by_row,
    reason_code,
    replace_rows,
    shopper_lists,
    top_k_of_rows,
)

WEIGHTS = {"view": 1.0, "basket": 3.0, "order": 5.0}


def events(*rows) -> Events:
    """``(shopper, product, kind[, time])`` rows."""
    return Events.from_rows([(*row, 0.0) if len(row) == 3 else row for row in rows])


def bundles(n_shoppers=300, seed=0) -> Events:
    """Shoppers who buy products in bundles of three (0-2, 3-5, ...) plus noise."""
    rng = np.random.default_rng(seed)
    rows, t = [], 0.0
    for shopper in range(1, n_shoppers + 1):
        bundle = rng.integers(0, 10) * 3
        for product in rng.permutation([bundle, bundle + 1, bundle + 2]):
            t += 1
            rows.append((shopper, 100 + int(product), ORDER, t))
        t += 1
        rows.append((shopper, 100 + int(rng.integers(0, 30)), VIEW, t))
    return Events.from_rows(rows)


def test_dataset_weights_signals_and_keeps_columns_when_extended():
    data = Dataset.from_events(
        events((1, 10, VIEW), (1, 10, ORDER), (2, 11, BASKET)), WEIGHTS, product_ids=[12]
    )
    assert data.product_ids.tolist() == [10, 11, 12]
    matrix = data.matrix()
    assert matrix[0, 0] == 6.0 and matrix[1, 1] == 3.0
    assert data.matrix((VIEW,))[0, 0] == 1.0
    new_columns = data.extend(events((3, 13, ORDER), (1, 11, VIEW)))
    assert new_columns.tolist() == [3]
    assert data.product_ids.tolist() == [10, 11, 12, 13]
    fresh = Dataset.from_events(data.events, WEIGHTS, product_ids=data.product_ids)
    rows = fresh.shopper_rows(data.shopper_ids)
    cols = fresh.positions(data.product_ids)
    assert (data.matrix().toarray() == fresh.matrix().toarray()[np.ix_(rows, cols)]).all()
    assert data.strongest_kinds()[data.shopper_rows([1])[0], 0] == ORDER + 1


def test_co_occurrence_finds_what_is_bought_together_and_never_the_product_itself():
    data = Dataset.from_events(bundles(), WEIGHTS)
    model = CoOccurrence("bought_with", "bought_with", (BASKET, ORDER)).fit(data)
    found = model.neighbours(data.positions([100, 103]), 2)
    assert sorted(data.product_ids[found.ids[0]].tolist()) == [101, 102]
    assert sorted(data.product_ids[found.ids[1]].tolist()) == [104, 105]
    assert (found.scores[:, 0] >= found.scores[:, 1]).all()


def test_refreshed_rows_match_a_fresh_fit():
    old = bundles(n_shoppers=200, seed=1)
    data = Dataset.from_events(old, WEIGHTS)
    model = CoOccurrence("bought_with", "bought_with", (BASKET, ORDER)).fit(data)
    new = events((900, 100, ORDER, 1e6), (900, 129, ORDER, 1e6), (901, 129, ORDER, 1e6))
    data.extend(new)
    touched = data.positions([100, 129])
    model.refresh_rows(data, touched)
    fresh = CoOccurrence("bought_with", "bought_with", (BASKET, ORDER)).fit(
        Dataset.from_events(data.events, WEIGHTS, product_ids=data.product_ids)
    )
    refreshed = model.neighbours(touched, 5)
    expected = fresh.neighbours(fresh.data.positions([100, 129]), 5)
    assert np.allclose(refreshed.scores, expected.scores, atol=1e-5)
    mine = data.product_ids[refreshed.ids]
    theirs = fresh.data.product_ids[expected.ids]
    assert (mine[:, 0] == theirs[:, 0]).all()


def test_blend_sums_weighted_scores_and_keeps_the_strongest_reason():
    a = Neighbours(np.array([[1, 2]]), np.array([[1.0, 0.5]], dtype=np.float32))
    b = Neighbours(np.array([[2, 3]]), np.array([[0.8, 0.4]], dtype=np.float32))
    mixed = blend([(a, 1.0, reason_code("bought_with")), (b, 2.0, reason_code("similar"))], 1, 3)
    # Normalised per model (best = 1), weighted: 2 gets 0.5 + 2.0; 1 and 3 get 1.0 each.
    assert mixed.ids[0].tolist() == [2, 1, 3]
    assert [REASON_CODES[r] for r in mixed.reasons[0]] == ["similar", "bought_with", "similar"]
    assert mixed.scores[0, 0] == pytest.approx(2.5)


def test_shopper_list_names_the_history_product_it_came_from():
    table = Neighbours(
        np.array([[2, 3], [3, 4], [-1, -1], [-1, -1], [-1, -1]]),
        np.array([[1.0, 0.9], [1.0, 0.2], [0, 0], [0, 0], [0, 0]], dtype=np.float32),
        np.full((5, 2), reason_code("bought_with"), dtype=np.int8),
    )
    history = sp.csr_matrix(np.array([[5.0, 1.0, 0, 0, 0]], dtype=np.float32))
    lists = shopper_lists(history, table, 3)
    # 3: 5 x 0.9 + 1 x 1.0 (most of it from product 0); 2: 5 x 1.0; 4: 1 x 0.2.
    assert lists.ids[0].tolist() == [3, 2, 4]
    assert lists.scores[0].tolist() == pytest.approx([5.5, 5.0, 0.2])
    assert lists.via[0].tolist() == [0, 0, 1]
    assert 0 not in lists.ids[0] and 1 not in lists.ids[0]


def test_popularity_per_category_leaves_out_the_product_itself():
    data = Dataset.from_events(
        events((1, 10, ORDER), (2, 10, ORDER), (3, 11, ORDER), (1, 12, VIEW)),
        WEIGHTS,
        product_ids=[13],
        categories={10: 1, 11: 1, 12: 2, 13: 2},
    )
    model = Popularity().fit(data)
    found = model.neighbours(data.positions([10, 13]), 2)
    assert data.product_ids[found.ids[0][found.ids[0] >= 0]].tolist() == [11]
    assert data.product_ids[found.ids[1][found.ids[1] >= 0]].tolist() == [12]


def test_content_similarity_ranks_by_cosine():
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = Dataset.from_events(events((1, 10, VIEW)), WEIGHTS, product_ids=[10, 11, 12, 13])
    model = ContentSimilarity((np.array([10, 11, 12, 13]), vectors)).fit(data)
    found = model.neighbours(data.positions([10, 12]), 1)
    assert data.product_ids[found.ids[:, 0]].tolist() == [11, 13]


def test_leave_last_out_hides_each_shoppers_last_new_product():
    data = events(
        (1, 10, ORDER, 1.0),
        (1, 11, ORDER, 2.0),
        (1, 10, ORDER, 3.0),  # bought again: not new
        (1, 11, VIEW, 4.0),
        (2, 10, ORDER, 1.0),  # one product only: not a test shopper
    )
    split = leave_last_out(data)
    assert split.shoppers.tolist() == [1] and split.held_out.tolist() == [11]
    kept = set(zip(split.train.shoppers.tolist(), split.train.products.tolist(), strict=True))
    assert (1, 11) not in kept and (1, 10) in kept and (2, 10) in kept


def test_hit_rate_and_ndcg():
    recommended = np.array([[5, 7, 9], [1, 2, 3], [-1, -1, -1]])
    result = score("m", recommended, np.array([7, 4, 1]))
    assert result.hit_rate == pytest.approx(1 / 3)
    assert result.ndcg == pytest.approx((1 / np.log2(3)) / 3)
    assert result.answered == 2


def test_hybrid_beats_popularity_on_bundled_purchases():
    scores = {
        s.model: s
        for s in evaluate(
            bundles(n_shoppers=400, seed=3),
            signal_weights=WEIGHTS,
            hybrid_weights={"bought_with": 1, "viewed_with": 0.5, "als": 0.3, "popularity": 0.05},
            als={"factors": 8, "iterations": 5, "MIN_SHOPPERS": 2},
            k=5,
        )
    }
    assert scores["hybrid"].shoppers == 400
    assert scores["hybrid"].hit_rate > 1.5 * scores["baseline: popularity"].hit_rate
    assert scores["bought_with"].hit_rate > scores["baseline: random"].hit_rate
    assert scores["content"].note == "no product vectors"
    assert scores["baseline: Oscar's hand-picked"].note == "none in the shop"


def test_hand_picked_baseline_uses_the_shops_picks():
    rows = [(s, 100, ORDER, 1.0) for s in range(1, 6)] + [(s, 101, ORDER, 2.0) for s in range(1, 6)]
    scores = {
        s.model: s
        for s in evaluate(
            Events.from_rows(rows),
            signal_weights=WEIGHTS,
            hybrid_weights={"bought_with": 1},
            hand_picked={100: [101]},
            k=3,
        )
    }
    assert scores["baseline: Oscar's hand-picked"].hit_rate == 1.0


def test_events_file(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user,item,time\nu1,A,2015-01-01 10:00:00\nu1,B,2015-01-02\nu2,A,5,view\n")
    read = read_events_csv(path)
    assert read.user_names == ["u1", "u2"] and read.item_names == ["A", "B"]
    assert read.events.kinds.tolist() == [ORDER, ORDER, VIEW]
    assert read.events.times[2] == 5.0


def test_hybrid_recommend_fills_with_popular_products():
    data = Dataset.from_events(
        events((1, 10, ORDER), (2, 10, ORDER), (2, 11, ORDER), (3, 12, ORDER)), WEIGHTS
    )
    popularity = Popularity()
    hybrid = Hybrid(
        [(CoOccurrence("bought_with", "bought_with", (ORDER,)), 1.0), (popularity, 0.05)],
        depth=3,
    ).fit(data)
    ids = hybrid.recommend(data.matrix()[data.shopper_rows([3])], 2)
    assert data.product_ids[ids[0]].tolist() == [10, 11]


def test_content_similarity_can_stay_within_a_products_category():
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0, 1, 0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = Dataset.from_events(
        events((1, 10, VIEW)),
        WEIGHTS,
        product_ids=[10, 11, 12, 13],
        categories={10: 1, 11: 2, 12: 1, 13: 1},
    )
    model = ContentSimilarity((np.array([10, 11, 12, 13]), vectors)).fit(data)
    everywhere = model.neighbours(data.positions([10]), 1)
    assert data.product_ids[everywhere.ids[0, 0]] == 11
    within = model.neighbours(data.positions([10]), 2, groups=data.categories)
    assert data.product_ids[within.ids[0]].tolist() == [12, 13]  # 11 is in another category


def test_placing_new_pairs_in_neighbour_rows():
    from oscar_gpt.recommendations.service import _place

    def table():
        return Neighbours(
            np.array([[1, 2, -1], [0, 2, 3], [0, 1, 3]]),
            np.array([[0.9, 0.5, 0], [0.8, 0.6, 0.4], [0.9, 0.8, 0.7]], np.float32),
        )

    one = table()
    assert _place(one, [0], [3], [0.7]).tolist() == [0]  # a free place: between 1 and 2
    assert one.ids[0].tolist() == [1, 3, 2]
    assert one.scores[0].tolist() == pytest.approx([0.9, 0.7, 0.5])
    assert not len(_place(one, [1], [4], [0.1]))  # full, and weaker than the last
    assert not len(_place(one, [1], [4], [0.4]))  # as strong as the last: it stays
    assert _place(one, [1], [3], [0.95]).tolist() == [1]  # already there, now the best
    assert one.ids[1].tolist() == [3, 0, 2]
    assert not len(_place(one, [1], [1], [1.0]))  # never the product itself

    # Many pairs, many rows, at once: the same as placing them one by one.
    many = table()
    moved = _place(many, [0, 2, 0, 1, 2], [3, 4, 4, 1, 1], [0.7, 0.95, 0.6, 1.0, 0.85])
    assert moved.tolist() == [0, 2]
    assert many.ids[0].tolist() == [1, 3, 4]  # 2 (0.5) pushed out by 3 and 4
    assert many.ids[1].tolist() == [0, 2, 3]  # itself: left out
    assert many.ids[2].tolist() == [4, 0, 1]  # a new best; 1 rises to 0.85; 3 pushed out
    assert many.scores[2].tolist() == pytest.approx([0.95, 0.9, 0.85])


def _sorted_by_hand(matrix, k, skip):
    """Each row's k largest positive entries, ties to the lower column, without the skipped
    column: what ``top_k_of_rows`` must return, computed the slow way."""
    dense = matrix.toarray()
    result = []
    for row, values in enumerate(dense):
        entries = [(-v, c) for c, v in enumerate(values) if v > 0 and c != skip[row]]
        result.append([c for _, c in sorted(entries)[:k]])
    return result


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_of_crowded_rows_is_exact_with_ties_and_the_product_itself(k):
    rng = np.random.default_rng(k)
    matrix = sp.random(40, 300, density=0.4, format="csr", random_state=k, dtype=np.float32)
    matrix.data = np.round(matrix.data * 5) / 5  # many ties, some zeros
    skip = rng.integers(0, 300, 40)
    matrix = matrix.tolil()
    for row in range(0, 40, 3):
        matrix[row, skip[row]] = 9.0  # the product itself is the largest of some rows
    matrix = matrix.tocsr()
    found = top_k_of_rows(matrix, k, skip=skip)
    expected = _sorted_by_hand(matrix, k, skip)
    assert [[c for c in row if c >= 0] for row in found.ids.tolist()] == expected


def test_rank_by_row_orders_by_row_then_score_keeping_ties_in_order():
    rows = np.array([1, 0, 1, 1, 0, 1, 1])
    cols = np.array([10, 11, 12, 13, 14, 15, 16])
    scores = np.array([0.5, -1.0, -0.0, 2.0, 3.0, 0.5, 0.0], dtype=np.float32)
    ranked = rank_by_row(rows, cols, scores, 2, 5)
    assert ranked.ids[0].tolist() == [14, 11, -1, -1, -1]
    # 0.0 and -0.0 are equal: they keep the order they came in.
    assert ranked.ids[1].tolist() == [13, 10, 15, 12, 16]


def test_replacing_rows_of_a_sparse_matrix_leaves_the_others_alone():
    matrix = sp.random(30, 40, density=0.3, format="csr", random_state=3, dtype=np.float32)
    new = Neighbours(
        np.array([[1, 2, -1], [5, -1, -1], [-1, -1, -1], [39, 0, 4]]),
        np.array([[0.9, 0.5, 0], [0.3, 0, 0], [0, 0, 0], [1, 0.7, 0.2]], np.float32),
    )
    rows = np.array([7, 3, 29, 0])  # any order; row 29 loses everything
    replaced = replace_rows(matrix, rows, new)
    expected = matrix.toarray()
    for i, row in enumerate(rows):
        expected[row] = 0
        for column, value in zip(new.ids[i], new.scores[i], strict=True):
            if column >= 0:
                expected[row, column] = value
    assert np.array_equal(replaced.toarray(), expected)
    untouched = np.setdiff1d(np.arange(30), rows)
    assert (replaced[untouched] != matrix[untouched]).nnz == 0
