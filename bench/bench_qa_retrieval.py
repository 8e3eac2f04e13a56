"""Evidence retrieval and the relevance gate for shopper Q&A, on Amazon Science's ePQA.

Data: ``epqa_dev.csv`` (a shopper question, one candidate piece of evidence from the same
product and a person's label: 2 fully answers, 1 partly, 0 not), read at run time from
``../shared/data/product-qa-amazon-science`` next to the repository, or from ``--data DIR``.
Nothing from it is copied into the repository.

A question's candidates are its product's evidence units (attribute -> attribute,
description and bullet -> description, review -> review, community Q&A -> faq), shuffled
with a fixed seed first: in the file, a question's first candidate fully answers it three
times in four (a random one: about three in ten), and a method that leaves ties in file order
would get credit for that. Attributes are written
the way the shop shows them ("Battery life: 30 hours"), through the same parser as
``bench_descriptions.py``.

Questions are split in two halves by a fixed hash of their qid (CRC-32, even or odd).
Everything tuned (each method's gate thresholds) is chosen on the calibration half; the table
reports the other half. The hybrid's lexical weight stays at the library's default (its
calibration-half P@1 per weight is printed, for information). For three rankers, our hybrid,
plain BM25 (bm25s) and embeddings only (all-MiniLM-L6-v2):

* P@1: the top unit fully answers (label 2), over questions with such a unit;
* the gate: the share of questions judged answerable among those with a label-2 unit (want
  high) and among those without (want low); thresholds maximise the difference of the two
  on the calibration half (Youden's J; ties go to the stricter thresholds); and, as a sanity
  check, the share judged answerable when each question is asked of another product's units;
* latency (p50/p95), the units' vectors precomputed: per question on its own 10 units
  (building the index, embedding the question, searching), and on a product of 300 pooled
  units (building the BM25 index; searching with the question embedded; searching with its
  vector given). One torch thread: on a busy machine, more threads spin and a one-sentence
  embedding takes half a second.

Run from the repository root (it sets Django up with the sandbox settings itself, since
``oscar_gpt.llm`` imports models)::

    python bench/bench_qa_retrieval.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Before torch is imported: spinning OpenMP threads on a busy machine make a one-sentence
# embedding take 0.5 s instead of 15 ms.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(ROOT / "bench"))

from amazon_attributes import facts_from  # noqa: E402

from oscar_gpt.qa.retrieval import (  # noqa: E402
    LEXICAL_WEIGHT,
    MIN_SCORE,
    MIN_SEMANTIC,
    EvidenceIndex,
    EvidenceUnit,
    Scored,
    relevance_gate,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "product-qa-amazon-science"
FILE = "epqa_dev.csv"
SEED = 20240601
KIND = {
    "attribute": "attribute",
    "description": "description",
    "bullet": "description",
    "review": "review",
    "cqa": "faq",
}
WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
GRID = np.round(np.arange(0.0, 0.951, 0.05), 2)
METHODS = ("hybrid", "bm25", "embeddings")


@dataclass
class Question:
    qid: str
    text: str
    asin: str
    units: list[EvidenceUnit] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    #: Filled in by ``score``.
    index: EvidenceIndex | None = None
    vector: np.ndarray | None = None
    bm25: np.ndarray | None = None
    semantic: np.ndarray | None = None
    results: dict[tuple[str, float], list[Scored]] = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return 2 in self.labels

    @property
    def calibration(self) -> bool:
        return zlib.crc32(self.qid.encode()) % 2 == 0


def attribute_text(data: str) -> str:
    """ "battery_life: { unit:hours, value:30.0 }" -> "Battery life: 30 hours"."""
    parts = []
    for fact in facts_from(data):
        value = fact.value
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, float):
            value = f"{value:g}"
        unit = str(fact.unit).replace("_", " ")
        parts.append(f"{fact.name}: {value}{' ' + unit if unit else ''}")
    return "; ".join(parts) or data


def faq_text(candidate: str) -> str:
    """ePQA writes a community answer as "ANSWER Question: QUESTION"; a FAQ reads Q then A."""
    answer, marker, question = candidate.partition(" Question: ")
    return f"{question.strip()} {answer.strip()}" if marker else candidate.strip()


def load(data: Path, limit: int | None) -> list[Question]:
    path = data / FILE
    if not path.is_file():
        sys.exit(
            f"{path} is missing: put Amazon Science's product-qa data (ePQA) in {data} "
            "or pass --data DIR."
        )
    questions: dict[str, Question] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            question = questions.get(row["qid"])
            if question is None:
                if limit is not None and len(questions) >= limit:
                    break
                question = questions[row["qid"]] = Question(
                    row["qid"], row["question"].strip(), row["ASIN"]
                )
            kind = KIND[row["source"]]
            if kind == "attribute":
                text = attribute_text(row["candidate"])
            elif kind == "faq":
                text = faq_text(row["candidate"])
            else:
                text = row["candidate"].strip()
            question.units.append(EvidenceUnit(f"{kind}:{number}", kind, text, kind))
            question.labels.append(int(row["label"]))
    for question in questions.values():
        order = list(range(len(question.units)))
        random.Random(f"{SEED}:{question.qid}").shuffle(order)
        question.units = [question.units[i] for i in order]
        question.labels = [question.labels[i] for i in order]
    return list(questions.values())


def embed_all(embedder, questions: list[Question]) -> dict[str, np.ndarray]:
    texts = sorted({q.text for q in questions} | {u.text for q in questions for u in q.units})
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    print(
        f"embedded {len(texts)} texts in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return dict(zip(texts, vectors, strict=True))


def score(questions: list[Question], vectors: dict[str, np.ndarray]) -> None:
    for question in questions:
        units = np.stack([vectors[u.text] for u in question.units])
        question.index = EvidenceIndex(question.units, units)
        question.vector = vectors[question.text]
        question.bm25 = question.index.lexical.scores(question.text)
        question.semantic = question.index.vectors @ question.vector


def ranked(question: Question, method: str, weight: float = LEXICAL_WEIGHT) -> list[Scored]:
    """The question's units, best first, as ``method`` ranks them (ties: shuffled order)."""
    key = (method, weight if method == "hybrid" else 0.0)
    if key not in question.results:
        if method == "hybrid":
            question.index.lexical_weight = weight
            results = question.index.search(
                question.text, k=len(question.units), question_vector=question.vector
            )
        else:
            scores = question.bm25 if method == "bm25" else question.semantic
            results = [
                Scored(question.units[i], float(scores[i]), 0.0, float(question.semantic[i]))
                for i in np.argsort(-scores, kind="stable")
            ]
        question.results[key] = results
    return question.results[key]


def top_label(question: Question, results: list[Scored]) -> int:
    return question.labels[question.units.index(results[0].unit)]


def precision_at_1(questions: list[Question], method: str, weight: float) -> float:
    with_answer = [q for q in questions if q.answerable]
    hits = sum(top_label(q, ranked(q, method, weight)) == 2 for q in with_answer)
    return hits / len(with_answer) if with_answer else float("nan")


def gate(method: str, results: list[Scored], threshold: tuple[float, float]) -> bool:
    """Hybrid: relevance_gate on (semantic, score); BM25: raw top score; embeddings: cosine."""
    if method == "hybrid":
        min_semantic, min_score = threshold
        return relevance_gate(results, min_semantic=min_semantic, min_score=min_score).answerable
    return bool(results) and results[0].score >= threshold[0]


def answerable_share(questions, method, weight, threshold) -> float:
    said = [gate(method, ranked(q, method, weight), threshold) for q in questions]
    return float(np.mean(said)) if said else float("nan")


def gate_rates(questions, method, weight, threshold) -> tuple[float, float]:
    """Answerable shares among questions with a label-2 unit and among those without."""
    with_answer = [q for q in questions if q.answerable]
    without = [q for q in questions if not q.answerable]
    return (
        answerable_share(with_answer, method, weight, threshold),
        answerable_share(without, method, weight, threshold),
    )


def calibrate_gate(questions, method, weight) -> tuple[tuple[float, float], float]:
    """The thresholds with the best answerable-rate difference; ties go to the stricter."""
    if method == "hybrid":
        grid = [(s, t) for s in GRID for t in GRID]
    elif method == "bm25":
        top = sorted(float(q.bm25.max()) for q in questions)
        grid = [(t, 0.0) for t in np.unique(np.round(np.quantile(top, np.linspace(0, 1, 41)), 2))]
    else:
        grid = [(s, 0.0) for s in GRID]
    best, best_j = grid[0], -2.0
    for threshold in grid:
        with_answer, without = gate_rates(questions, method, weight, threshold)
        j = with_answer - without
        if j > best_j + 1e-9 or (abs(j - best_j) <= 1e-9 and threshold > best):
            best, best_j = threshold, j
    return best, best_j


def elsewhere(questions: list[Question], vectors: dict[str, np.ndarray]) -> list[Question]:
    """Each question asked of another product's units: nothing there can answer it."""
    order = list(range(len(questions)))
    random.Random(SEED).shuffle(order)
    foreign = []
    for position, i in enumerate(order):
        question = questions[i]
        for j in order[position + 1 :] + order[:position]:
            other = questions[j]
            if other.asin != question.asin:
                units = other.units
                foreign.append(Question(question.qid, question.text, question.asin, units))
                foreign[-1].labels = [0] * len(units)
                break
    score(foreign, vectors)
    return foreign


def percentiles(seconds: list[float]) -> str:
    p50, p95 = np.percentile(np.asarray(seconds) * 1000.0, [50, 95])
    return f"{p50:.2f} / {p95:.2f} ms"


def latency(questions, vectors, embedder, size=300, repeats=100) -> dict[str, str]:
    """Per question on its own units, and on a made-up product of ``size`` pooled units."""
    small = []
    for question in questions:
        units_vectors = np.stack([vectors[u.text] for u in question.units])
        started = time.perf_counter()
        EvidenceIndex(question.units, units_vectors, embedder=embedder).search(question.text)
        small.append(time.perf_counter() - started)
    pool = [u for q in questions for u in q.units][:size]
    pool_vectors = np.stack([vectors[u.text] for u in pool])
    build, embedded, given = [], [], []
    for question in questions[:repeats]:
        started = time.perf_counter()
        index = EvidenceIndex(pool, pool_vectors, embedder=embedder)
        index.lexical  # noqa: B018 - build the BM25 index now, to time it
        build.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.search(question.text)
        embedded.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.search(question.text, question_vector=vectors[question.text])
        given.append(time.perf_counter() - started)
    return {
        f"build index, embed question, search: {len(questions[0].units)} units": percentiles(small),
        f"build index (BM25): {len(pool)} units": percentiles(build),
        f"embed question, search: {len(pool)} units": percentiles(embedded),
        f"search, question vector given: {len(pool)} units": percentiles(given),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()

    questions = load(args.data, args.limit)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    import django
    import torch

    django.setup()  # oscar_gpt.llm's package imports its models
    from oscar_gpt.llm.embeddings import Embedder

    torch.set_num_threads(args.threads)
    embedder = Embedder(device="cpu")
    vectors = embed_all(embedder, questions)
    score(questions, vectors)

    calibration = [q for q in questions if q.calibration]
    report = [q for q in questions if not q.calibration]
    weight = LEXICAL_WEIGHT
    thresholds = {m: calibrate_gate(calibration, m, weight) for m in METHODS}
    foreign = elsewhere(report, vectors)
    timing = latency(report, vectors, embedder)

    sources = Counter(u.kind for q in questions for u in q.units)
    print(
        f"ePQA dev: {len(questions)} questions, {sum(sources.values())} units "
        f"({', '.join(f'{k} {n}' for k, n in sources.most_common())}).\n"
        f"Calibration half: {len(calibration)} questions; reported half: {len(report)} "
        f"({sum(q.answerable for q in report)} with a label-2 unit, "
        f"{sum(not q.answerable for q in report)} without). Hybrid lexical weight {weight} "
        "(not tuned; P@1 on the calibration half by weight: "
        + ", ".join(f"{w} {precision_at_1(calibration, 'hybrid', w):.3f}" for w in WEIGHTS)
        + ")."
    )
    print()
    rows = [("reported half", "hybrid", "BM25 (bm25s)", "embeddings")]
    random_p1 = np.mean([q.labels.count(2) / len(q.labels) for q in report if q.answerable])
    rows += [
        (
            "P@1: top unit fully answers",
            *(f"{precision_at_1(report, m, weight):.3f}" for m in METHODS),
        ),
        ("P@1: a random unit (expected)", *[f"{random_p1:.3f}"] * 3),
        (
            "P@1 on the calibration half",
            *(f"{precision_at_1(calibration, m, weight):.3f}" for m in METHODS),
        ),
    ]
    names = {
        "hybrid": lambda t: f"sem>={t[0]:.2f}, score>={t[1]:.2f}",
        "bm25": lambda t: f"bm25>={t[0]:.2f}",
        "embeddings": lambda t: f"sem>={t[0]:.2f}",
    }
    rates = {m: gate_rates(report, m, weight, thresholds[m][0]) for m in METHODS}
    rows += [
        ("gate, calibrated (max J)", *(names[m](thresholds[m][0]) for m in METHODS)),
        ("answerable | a label-2 unit (high)", *(f"{rates[m][0]:.3f}" for m in METHODS)),
        ("answerable | no label-2 unit (low)", *(f"{rates[m][1]:.3f}" for m in METHODS)),
        ("J = difference", *(f"{rates[m][0] - rates[m][1]:.3f}" for m in METHODS)),
        ("J on the calibration half", *(f"{thresholds[m][1]:.3f}" for m in METHODS)),
        (
            "answerable | another product's units",
            *(f"{answerable_share(foreign, m, weight, thresholds[m][0]):.3f}" for m in METHODS),
        ),
    ]
    defaults = gate_rates(report, "hybrid", LEXICAL_WEIGHT, (MIN_SEMANTIC, MIN_SCORE))
    rows.append(
        (
            f"relevance_gate defaults ({MIN_SEMANTIC}, {MIN_SCORE})",
            f"{defaults[0]:.3f} / {defaults[1]:.3f}",
            "",
            "",
        )
    )
    rows += [(f"p50 / p95: {name}", value, "", "") for name, value in timing.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for number, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if number == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
