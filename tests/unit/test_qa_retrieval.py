"""Evidence retrieval for shopper Q&A, with the real all-MiniLM-L6-v2 model.

A pair of headphones described by invented attributes, description sentences and a review;
questions that its facts answer, answer only in other words, answer only by an exact code,
or don't answer at all.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from oscar_gpt.descriptions.facts import split_unit
from oscar_gpt.qa.retrieval import (
    MIN_SCORE,
    MIN_SEMANTIC,
    EvidenceIndex,
    EvidenceUnit,
    GateDecision,
    Scored,
    bm25_scores,
    hybrid,
    light_stem,
    relevance_gate,
    split_sentences,
)

ATTRIBUTES = [
    ("connectivity", "Connectivity", "Bluetooth 5.3"),
    ("codecs", "Audio codecs", "SBC, AAC, LDAC"),
    ("charging_time_hours", "Charging time (hours)", 3.5),
    ("battery_life_hours", "Battery life (hours)", 30),
    ("driver_size_mm", "Driver size (mm)", 40),
    ("weight_g", "Weight (g)", 250),
    ("charging_port", "Charging port", "USB-C"),
    ("colour", "Colour", "Black, Silver"),
    ("noise_cancelling", "Active noise cancelling", "yes"),
    ("ear_pads", "Replacement ear pads", "EP-HX5 kit"),
]
DESCRIPTION = (
    "Over-ear wireless headphones with deep bass and clear highs. The headband folds flat "
    "to fit in the included travel case. Eight microphones pick up your voice on calls, "
    "even in a busy street.\n"
    "- Pair two devices at once and switch between them.\n"
    "- Fits the TA-500 desk stand."
)
REVIEW = "Comfortable for long flights, and the noise cancelling blocks the engine hum."


def attribute_unit(code: str, name: str, value) -> EvidenceUnit:
    """As the Q&A service will build it: the unit comes from the name, "(hours)"."""
    name, unit = split_unit(name)
    text = f"{name}: {value}{' ' + unit if unit else ''}"
    return EvidenceUnit(f"attr:{code}", "attribute", text, "From the specifications")


def headphones() -> list[EvidenceUnit]:
    units = [attribute_unit(*attribute) for attribute in ATTRIBUTES]
    units += [
        EvidenceUnit(f"desc:{i}", "description", sentence, "From the product description")
        for i, sentence in enumerate(split_sentences(DESCRIPTION))
    ]
    units.append(EvidenceUnit("review:17", "review", REVIEW, "From a customer review"))
    return units


@pytest.fixture(scope="module")
def units() -> list[EvidenceUnit]:
    return headphones()


@pytest.fixture(scope="module")
def index(units, embedder) -> EvidenceIndex:
    return EvidenceIndex(units, embedder.embed([u.text for u in units]), embedder=embedder)


def ids(results: list[Scored]) -> list[str]:
    return [result.unit.id for result in results]


def test_the_product_is_as_described(units):
    assert len(units) == 16
    assert units[3].text == "Battery life: 30 hours"
    assert [u.id for u in units if u.kind == "description"] == [f"desc:{i}" for i in range(5)]
    # The waterproof question below relies on the facts saying nothing about water.
    assert not any("water" in u.text.lower() or "rain" in u.text.lower() for u in units)


def test_battery_question_ranks_the_battery_attribute_first(index):
    results = index.search("What is the battery life?", k=5)
    assert len(results) == 5
    assert results[0].unit.id == "attr:battery_life_hours"
    assert results[0].score > results[1].score
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert results[0].lexical > 0 and results[0].semantic > 0.5


def test_gate_answers_what_the_facts_hold_and_hands_off_the_rest(index):
    battery = relevance_gate(index.search("What is the battery life?"))
    assert battery.answerable
    assert battery.reason == "supported"
    assert battery.best.unit.id == "attr:battery_life_hours"

    for question in ("Is it waterproof?", "Can I use them in the shower?"):
        decision = relevance_gate(index.search(question))
        assert not decision.answerable, question
        assert decision.reason == "low_semantic"
        assert decision.best is not None and decision.best.semantic < MIN_SEMANTIC


def test_a_lexical_only_match_is_found(index, units, embedder):
    """Only the accessory's code links the question to its unit: the embeddings alone prefer
    the charging facts, BM25 has the code, the mix ranks the stand first."""
    question = "Can I charge it on a TA-500?"
    stand = next(i for i, u in enumerate(units) if "TA-500" in u.text)
    semantic = index.vectors @ embedder.embed([question])[0]
    assert int(np.argmax(semantic)) != stand
    assert int(np.argmax(bm25_scores(question, units))) == stand

    results = index.search(question)
    assert results[0].unit is units[stand]
    assert results[0].lexical > results[1].lexical


def test_a_semantic_only_paraphrase_is_found(index, units):
    """No word of the question is in the weight's unit: BM25 can't see it, the mix can."""
    question = "How heavy are they?"
    weight = next(i for i, u in enumerate(units) if u.id == "attr:weight_g")
    assert bm25_scores(question, units)[weight] == 0

    results = index.search(question)
    assert results[0].unit.id == "attr:weight_g"
    assert results[0].lexical == 0
    assert results[0].semantic > results[1].semantic


def test_an_empty_product_or_question_finds_nothing(embedder):
    empty = EvidenceIndex([], embedder=embedder)
    assert empty.search("What is the battery life?") == []
    assert bm25_scores("What is the battery life?", []).shape == (0,)
    assert hybrid(np.zeros(0), np.zeros(0)).shape == (0,)
    assert relevance_gate([]) == GateDecision(answerable=False, reason="no_evidence", best=None)


def test_an_empty_question_finds_nothing(index):
    assert index.search("   ") == []
    assert index.search("Battery?", k=0) == []


def test_a_single_unit_product(embedder, units):
    """With one document, idf must stay positive (Lucene's) or nothing would ever match."""
    battery = units[3]
    index = EvidenceIndex([battery], embedder=embedder)

    results = index.search("What is the battery life?", k=5)
    assert ids(results) == ["attr:battery_life_hours"]
    assert results[0].lexical > 0
    assert bm25_scores("battery", [battery])[0] > 0
    assert relevance_gate(results).answerable

    results = index.search("Is it waterproof?")
    assert ids(results) == ["attr:battery_life_hours"]
    assert results[0].lexical == 0
    assert not relevance_gate(results).answerable

    # "battery" matches, "survive" and "rain" are nowhere: a small share of the question's
    # wording, not the whole lexical half of the score.
    results = index.search("Does the battery survive rain?")
    assert 0 < results[0].lexical < 0.5
    assert results[0].score < 0.5


def test_precomputed_vectors_need_no_model(units, embedder, index):
    question = "What colours does it come in?"
    stored = embedder.embed([u.text for u in units])
    offline = EvidenceIndex(units, stored)  # no embedder: it must not be asked for
    results = offline.search(question, question_vector=embedder.embed([question])[0])
    assert ids(results) == ids(index.search(question))
    assert results[0].unit.id == "attr:colour"

    with pytest.raises(ValueError, match="one vector per unit"):
        EvidenceIndex(units, stored[:-1])


def test_vectors_are_computed_lazily(units, embedder):
    calls = []

    class Counting:
        def embed(self, texts):
            calls.append(len(texts))
            return embedder.embed(texts)

    index = EvidenceIndex(units, embedder=Counting())
    assert calls == []
    index.search("What is the battery life?")
    index.search("Is it waterproof?")
    assert calls == [1, len(units), 1]  # the question, the units once, the next question


def test_search_is_fast_with_precomputed_vectors(embedder):
    rng = np.random.default_rng(0)
    texts = [f"{unit.text} ({n})" for n in range(20) for unit in headphones()][:300]
    units = [EvidenceUnit(f"desc:{n}", "description", t, "") for n, t in enumerate(texts)]
    vectors = rng.normal(size=(300, 384)).astype(np.float32)
    index = EvidenceIndex(units, vectors)
    question_vector = embedder.embed(["How long does the battery last?"])[0]
    index.search("warm up", question_vector=question_vector)
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        index.search("How long does the battery last?", question_vector=question_vector)
        timings.append(time.perf_counter() - started)
    assert float(np.median(timings)) < 0.05


# -- parts --------------------------------------------------------------------------------


def test_bm25_weighs_rare_words_and_ignores_stop_words():
    texts = ["Battery life: 30 hours", "Weight: 2.5 kg", "Weight: 2 kg", "Colour: black"]
    scores = bm25_scores("What is the weight? 2.5", texts)
    assert int(np.argmax(scores)) == 1  # "2.5" is one token, not "2" and "5"
    assert scores[1] > scores[2] > 0
    assert scores[0] == scores[3] == 0
    assert not bm25_scores("What is it? Is it the one?", texts).any()
    # plurals and -ing forms meet their stem
    assert bm25_scores("batteries", texts)[0] > 0
    assert bm25_scores("charging", ["Charge in 2 hours", "Colour: black"])[0] > 0


@pytest.mark.parametrize(
    ("words", "stem"),
    [
        (["battery", "batteries"], "battery"),
        (["charge", "charging", "charged", "charges"], "charg"),
        (["inch", "inches"], "inch"),
        (["fit", "fits", "fitted", "fitting"], "fit"),
        (["wireless"], "wireless"),
        (["string"], "string"),
        (["2.5", "usb3"], None),
    ],
)
def test_light_stem(words, stem):
    for word in words:
        assert light_stem(word) == (word if stem is None else stem), word


def test_hybrid_normalises_and_mixes():
    lexical = np.array([4.0, 2.0, 0.0])
    semantic = np.array([0.2, 0.6, -0.3])
    np.testing.assert_allclose(hybrid(lexical, semantic, 0.5), [0.6, 0.55, 0.0], atol=1e-6)
    np.testing.assert_allclose(hybrid(lexical, semantic, 0.0), [0.2, 0.6, 0.0], atol=1e-6)
    np.testing.assert_allclose(
        hybrid(lexical, semantic, 0.5, ceiling=8.0), [0.35, 0.425, 0.0], atol=1e-6
    )
    with pytest.raises(ValueError):
        hybrid(lexical, semantic[:2])


def scored(semantic: float, score: float, name: str = "x") -> Scored:
    return Scored(EvidenceUnit(name, "attribute", name, ""), score, 0.0, semantic)


def test_relevance_gate_thresholds():
    passing = scored(MIN_SEMANTIC + 0.01, MIN_SCORE + 0.01, "passing")
    close_but_low = scored(MIN_SEMANTIC + 0.1, MIN_SCORE - 0.01, "low")
    far = scored(MIN_SEMANTIC - 0.01, MIN_SCORE + 0.2, "far")

    assert relevance_gate([passing]).answerable
    decision = relevance_gate([far, passing])
    assert decision.answerable and decision.best is passing
    assert relevance_gate([far]) == GateDecision(False, "low_semantic", far)
    assert relevance_gate([close_but_low]) == GateDecision(False, "low_score", close_but_low)
    assert relevance_gate([far], min_semantic=0.0).answerable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Approx. 30 hours of play, e.g. on a long flight. Weighs 2.5 kg.",
            ["Approx. 30 hours of play, e.g. on a long flight.", "Weighs 2.5 kg."],
        ),
        (
            "Features:\n- Noise cancelling\n\u2022 Bluetooth 5.3\n* Folds flat\n1. USB-C charging",
            ["Noise cancelling", "Bluetooth 5.3", "Folds flat", "USB-C charging"],
        ),
        (
            "Line one\r\nLine two. Still line two\n\n\nLine three",
            ["Line one", "Line two.", "Still line two", "Line three"],
        ),
        (
            "<p>Made in the U.S.A. and tested.</p><ul><li>Max. 30 W. No. 5 in the range.</li>"
            "<li>Salt &amp; pepper</li><li>Folds flat</li></ul>Two<br>lines",
            [
                "Made in the U.S.A. and tested.",
                "Max. 30 W.",
                "No. 5 in the range.",
                "Salt & pepper",
                "Folds flat",
                "Two",
                "lines",
            ],
        ),
        ("Screen 12 in. Weight 2 kg.", ["Screen 12 in.", "Weight 2 kg."]),
        ('He said "great." Then left.', ['He said "great."', "Then left."]),
        (
            "all lower case text. with two sentences.",
            ["all lower case text.", "with two sentences."],
        ),
        ("", []),
        (" \n - \n", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_split_sentences_cuts_long_sentences_at_a_boundary():
    text = "Cable, " * 100 + "end."
    pieces = split_sentences(text, max_chars=100)
    assert len(pieces) > 5
    assert all(len(piece) <= 100 for piece in pieces)
    assert all(piece.startswith("Cable") for piece in pieces[:-1])
    assert " ".join(pieces) == " ".join(text.split())
    assert split_sentences("x" * 250, max_chars=100) == ["x" * 100, "x" * 100, "x" * 50]
