"""Find the evidence for a shopper's question among one product's own facts.

Plain data in, plain data out, no database: the Q&A service turns a product's attributes,
description sentences, approved reviews and published FAQ answers into
:class:`EvidenceUnit` values (storing their vectors if it likes), and asks::

    index = EvidenceIndex(units, vectors, embedder=embedder)
    results = index.search("What is the battery life?", k=5)
    decision = relevance_gate(results)
    if not decision.answerable:
        ...  # "We don't know yet": hand the question to staff

Ranking mixes BM25 (from ``bm25s``, over the units of one product) with the cosine of
sentence embeddings: BM25 finds the exact words, codes and numbers ("TA-500", "2.5"),
embeddings find paraphrases ("How heavy are they?" -> "Weight: 250 g"). The gate's defaults
were calibrated with ``bench/bench_qa_retrieval.py``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from bm25s.tokenization import Tokenizer
from django.utils.translation import gettext_lazy as _

#: The kinds of evidence.
KINDS = ("attribute", "description", "faq", "review")

#: Where a unit comes from, as the widget names it.
LABELS = {
    "attribute": _("From the specifications"),
    "description": _("From the product description"),
    "faq": _("From an answered question"),
    "review": _("From a customer review"),
}

#: The lexical share of :func:`hybrid`'s score; the rest is the semantic one.
LEXICAL_WEIGHT = 0.5
#: :func:`relevance_gate`'s defaults: the thresholds that best separate questions whose
#: evidence holds an answer from those whose evidence does not (the largest difference of
#: the two answerable shares) on half of Amazon's ePQA dev questions, checked on the other
#: half (``bench/bench_qa_retrieval.py``). With a lexical weight of 0.5, a unit that passes
#: MIN_SEMANTIC always passes MIN_SCORE: on ePQA the wording added nothing to the decision.
MIN_SEMANTIC = 0.60
MIN_SCORE = 0.30


class TextEmbedder(Protocol):
    """What :class:`EvidenceIndex` needs of :class:`oscar_gpt.llm.embeddings.Embedder`."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EvidenceUnit:
    """One thing the shop says about a product, small enough to quote as evidence."""

    #: Stable across rebuilds: "attr:battery_life_hours", "desc:3", "review:17", "faq:5".
    id: str
    #: One of :data:`KINDS`.
    kind: str
    #: What is retrieved and shown: "Battery life: 30 hours".
    text: str
    #: The shopper-facing source: "From the specifications".
    label: str


@dataclass
class Scored:
    """A unit and why it ranked where it did."""

    unit: EvidenceUnit
    #: The :func:`hybrid` score that orders the results.
    score: float
    #: BM25 as a share of the question's ceiling, 0 to 1: how much of the question's wording
    #: (rare words weighing more) the unit has; 0 when it has none of it.
    lexical: float
    #: Cosine of the question's and the unit's embeddings.
    semantic: float


@dataclass
class GateDecision:
    """Whether the evidence is good enough to answer from."""

    answerable: bool
    #: "supported", or why not: "no_evidence", "low_semantic", "low_score".
    reason: str
    #: The unit to answer from when answerable; otherwise the closest one, if any.
    best: Scored | None


# -- sentences ----------------------------------------------------------------------------

# fmt: off
#: Words whose full stop never ends a sentence ("approx. 30 hours", "e.g. USB-C").
ABBREVIATIONS = frozenset({
    "approx", "appr", "ca", "circa", "incl", "excl", "esp", "e.g", "eg", "i.e", "ie", "vs",
    "cf", "al", "fig", "figs", "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "dept", "est",
    "ref", "art", "mod", "ver", "rev", "opt",
})
#: Words whose full stop ends a sentence only before a capital: "max. 30 W", "12 in. wide",
#: "No. 5" go on; "... and so on, etc. The case" ends.
UNIT_ABBREVIATIONS = frozenset({
    "etc", "no", "nr", "nos", "co", "corp", "inc", "ltd", "max", "min", "avg", "qty", "pcs",
    "pc", "pkg", "oz", "lb", "lbs", "in", "ft", "yd", "mm", "cm", "km", "sq", "cu", "vol", "temp",
})
# fmt: on
_BLOCK_TAG = re.compile(
    r"<\s*(?:br|/?p|/?div|/?li|/?ul|/?ol|/?h[1-6]|/?tr|/?table|/?section|/?dd|/?dt)\b[^>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^<>]{1,500}>")
_BULLET = re.compile(
    r"^\s*(?:[-*+\u2022\u00b7\u25aa\u25cf\u25e6\u2023\u2013\u2014>]+|\(?\d{1,2}[.)])\s+"
)
#: A sentence end: terminal punctuation, closing quotes or brackets, then white space.
_END = re.compile(r"([.!?\u2026]+)[\"'\u2019\u201d)\]]*\s+")
_WORD_BEFORE = re.compile(r"(\S+)$")


def split_sentences(text: str, max_chars: int = 400) -> list[str]:
    """A description as sentence units: each can be quoted as evidence on its own.

    Lines and bullets are units; HTML block tags count as lines, so "<li>a</li><li>b</li>"
    gives two units. "approx. 30 hours", "2.5 kg" and "e.g. USB-C" do not end a sentence.
    A unit longer than ``max_chars`` is cut at a clause or word boundary.
    """
    if not text or not text.strip():
        return []
    if "<" in text and ">" in text:
        text = _ANY_TAG.sub(" ", _BLOCK_TAG.sub("\n", text))
    text = html.unescape(text).replace("\r", "\n").replace("\u00a0", " ")
    cased = any(char.isupper() for char in text)
    sentences = []
    for line in text.split("\n"):
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        for sentence in _split_line(line, cased):
            sentence = " ".join(sentence.split())
            if any(char.isalnum() for char in sentence) and not _is_heading(sentence):
                sentences.extend(_wrap(sentence, max(max_chars, 20)))
    return sentences


def _split_line(line: str, cased: bool) -> list[str]:
    pieces = []
    start = 0
    for match in _END.finditer(line):
        if match.end() >= len(line) or not _ends_sentence(line, match, cased):
            continue
        pieces.append(line[start : match.end()].strip())
        start = match.end()
    pieces.append(line[start:].strip())
    return [piece for piece in pieces if piece]


def _ends_sentence(line: str, match: re.Match[str], cased: bool) -> bool:
    punctuation = match.group(1)
    following = line[match.end()]
    if "." not in punctuation or len(punctuation) > 1:  # "?", "!", "..."
        return True
    before = _WORD_BEFORE.search(line, max(0, match.start() - 64), match.start())
    word = before.group(1).lstrip("(\"'").lower() if before else ""
    if word in ABBREVIATIONS:
        return False
    if word in UNIT_ABBREVIATIONS:
        return following.isupper()
    if cased and following.islower():  # an abbreviation we don't know: "incl. batteries"
        return False
    # "U.S.A. and", "30 W. Folds flat": an end only before a capital.
    if "." in word or len(word) == 1:
        return following.isupper()
    return True


def _is_heading(sentence: str) -> bool:
    return sentence.endswith(":") and len(sentence.split()) <= 3


def _wrap(sentence: str, max_chars: int) -> list[str]:
    pieces = []
    while len(sentence) > max_chars:
        window = sentence[: max_chars + 1]
        cut = -1
        for separator in ("; ", ", ", " "):
            cut = window.rfind(separator, max_chars // 2)
            if cut != -1:
                cut += len(separator) - 1
                break
        if cut == -1:
            cut = max_chars
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    if sentence:
        pieces.append(sentence)
    return pieces


# -- lexical ------------------------------------------------------------------------------

# fmt: off
#: bm25s's English stop words (Lucene's) and the words every shopper question has.
STOPWORDS = tuple(sorted({
    *STOPWORDS_EN,
    "i", "me", "my", "we", "our", "you", "your", "he", "she", "him", "her", "its", "s", "t",
    "am", "were", "been", "being", "has", "have", "had", "do", "does", "did", "doing", "can",
    "could", "would", "should", "shall", "may", "might", "must", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "any", "anyone", "anybody", "some", "so",
    "than", "too", "very", "just", "also", "about", "know", "knows", "tell", "please", "hi",
    "hello", "thanks", "thank", "from", "up", "out", "here",
}))
# fmt: on
#: Decimals stay one token ("2.5"); everything else is a run of word characters.
TOKEN_PATTERN = r"(?u)\d+(?:[.,]\d+)+|\w+"
_VOWELS = frozenset("aeiouy")


def light_stem(word: str) -> str:
    """Fold English plurals and -ing/-ed/-e endings: "batteries" -> "battery",
    "charging", "charged", "charge" -> "charg", "inches" -> "inch".

    bm25s takes any callable as stemmer; this light one stays predictable on product words
    and model numbers (anything with a digit is left alone).
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if len(stem) >= 3 and _VOWELS & set(stem) and not (suffix == "ed" and stem[-1] == "e"):
                if stem[-1] == stem[-2] and stem[-1] not in "lsz":  # "fitted" -> "fit"
                    stem = stem[:-1]
                word = stem
            break
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word


_SPLIT = re.compile(TOKEN_PATTERN).findall
_STOP = frozenset(STOPWORDS)


def question_terms(text: str) -> list[str]:
    """The words BM25 matches on: lower case, no stop words, light-stemmed."""
    return [light_stem(word) for word in _SPLIT(text.lower()) if word not in _STOP]


class LexicalIndex:
    """BM25 over one product's units, scored by bm25s (Lucene's variant: idf never negative,
    so a one-unit product still scores)."""

    def __init__(self, texts: Sequence[str]):
        self.size = len(texts)
        self.tokenizer = Tokenizer(
            splitter=TOKEN_PATTERN, stopwords=list(STOPWORDS), stemmer=light_stem
        )
        self.retriever: bm25s.BM25 | None = None
        self.vocabulary: dict[str, int] = {}
        self.document_frequency = np.zeros(0)
        if self.size:
            ids = self.tokenizer.tokenize(
                list(texts), update_vocab=True, return_as="ids", show_progress=False
            )
            self.vocabulary = self.tokenizer.get_vocab_dict()
            self.retriever = bm25s.BM25(method="lucene")
            self.retriever.index((ids, self.vocabulary), show_progress=False)
            self.document_frequency = np.bincount(
                [i for doc in ids for i in set(doc)], minlength=len(self.vocabulary)
            )

    def idf(self, term: str) -> float:
        """Lucene's idf, as bm25s computes it; a term no unit has counts as df = 0."""
        sid = self.vocabulary.get(term)
        df = int(self.document_frequency[sid]) if sid is not None else 0
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def match(self, question: str) -> tuple[np.ndarray, float]:
        """Each unit's BM25 score and the question's ceiling: the sum of its terms' idf, which
        no unit can reach (Lucene's term frequency part stays below 1), so that score divided
        by ceiling is the share of the question's words a unit has, rare words weighing more.
        A question whose words no unit has ("waterproof") keeps its ceiling: its best unit
        scores low rather than 1."""
        terms = question_terms(question)
        ceiling = sum(self.idf(term) for term in terms)
        ids = [self.vocabulary[term] for term in terms if term in self.vocabulary]
        if self.retriever is None or not ids:
            return np.zeros(self.size, dtype=np.float32), ceiling
        scores = self.retriever.get_scores_from_ids(ids)
        return np.asarray(scores, dtype=np.float32), ceiling

    def scores(self, question: str) -> np.ndarray:
        return self.match(question)[0]


def bm25_scores(question: str, units: Sequence[EvidenceUnit | str]) -> np.ndarray:
    """BM25 score of each unit for the question, the units being one product's whole corpus."""
    return LexicalIndex([_text(unit) for unit in units]).scores(question)


def _text(unit: EvidenceUnit | str) -> str:
    return unit if isinstance(unit, str) else unit.text


# -- mixing -------------------------------------------------------------------------------


def hybrid(
    lexical: np.ndarray,
    semantic: np.ndarray,
    weight: float = LEXICAL_WEIGHT,
    *,
    ceiling: float | None = None,
) -> np.ndarray:
    """``weight`` x BM25 / ``ceiling`` + (1 - ``weight``) x cosine (negatives as 0).

    Both parts are absolute, so the gate can read the mix: cosine as it is, BM25 divided by
    the question's ceiling (:meth:`LexicalIndex.match`). Without a ceiling, the best unit's
    BM25 stands in for it (the usual divide-by-max).
    """
    lexical = np.asarray(lexical, dtype=np.float32)
    semantic = np.asarray(semantic, dtype=np.float32)
    if lexical.shape != semantic.shape:
        raise ValueError(f"lexical {lexical.shape} and semantic {semantic.shape} differ")
    return weight * normalise_lexical(lexical, ceiling) + (1.0 - weight) * np.clip(
        semantic, 0.0, 1.0
    )


def normalise_lexical(lexical: np.ndarray, ceiling: float | None = None) -> np.ndarray:
    """BM25 as a share in [0, 1]: of the ceiling, or of the best score when there is none."""
    lexical = np.asarray(lexical, dtype=np.float32)
    top = float(lexical.max(initial=0.0)) if ceiling is None else float(ceiling)
    if top <= 0:
        return np.zeros_like(lexical)
    return np.clip(lexical / top, 0.0, 1.0)


class EvidenceIndex:
    """One product's evidence, searchable by a shopper's question.

    ``vectors`` are the units' unit-length embeddings in the units' order (what the app
    stores); without them they are computed on the first search with ``embedder``
    (by default the process-wide one from :func:`oscar_gpt.llm.embeddings.get_embedder`).
    """

    #: The lexical share of the score (see :func:`hybrid`).
    lexical_weight: float = LEXICAL_WEIGHT

    def __init__(
        self,
        units: Sequence[EvidenceUnit],
        vectors: np.ndarray | None = None,
        *,
        embedder: TextEmbedder | None = None,
    ):
        self.units = tuple(units)
        self.embedder = embedder
        self._vectors = None if vectors is None else self._check(np.asarray(vectors))
        self._lexical: LexicalIndex | None = None

    def _check(self, vectors: np.ndarray) -> np.ndarray:
        if vectors.ndim != 2 or vectors.shape[0] != len(self.units):
            raise ValueError(
                f"expected one vector per unit ({len(self.units)}), got shape {vectors.shape}"
            )
        vectors = vectors.astype(np.float32, copy=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def _get_embedder(self) -> TextEmbedder:
        if self.embedder is None:
            from ..llm.embeddings import get_embedder

            self.embedder = get_embedder()
        return self.embedder

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            texts = [unit.text for unit in self.units]
            self._vectors = self._check(np.asarray(self._get_embedder().embed(texts)))
        return self._vectors

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex([unit.text for unit in self.units])
        return self._lexical

    def search(
        self, question: str, *, k: int = 5, question_vector: np.ndarray | None = None
    ) -> list[Scored]:
        """The ``k`` best units, best first; empty for an empty question or product."""
        if not self.units or not question.strip() or k <= 0:
            return []
        if question_vector is None:
            question_vector = self._get_embedder().embed([question])[0]
        question_vector = np.asarray(question_vector, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(question_vector))
        if norm > 0:
            question_vector = question_vector / norm
        semantic = self.vectors @ question_vector
        bm25, ceiling = self.lexical.match(question)
        lexical = normalise_lexical(bm25, ceiling)
        scores = hybrid(lexical, semantic, self.lexical_weight, ceiling=1.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            Scored(
                unit=self.units[i],
                score=float(scores[i]),
                lexical=float(lexical[i]),
                semantic=float(semantic[i]),
            )
            for i in order
        ]


def relevance_gate(
    results: Sequence[Scored],
    *,
    min_semantic: float = MIN_SEMANTIC,
    min_score: float = MIN_SCORE,
) -> GateDecision:
    """Answer only when some result is both close in meaning and well ranked.

    Otherwise the honest answer is "we don't know yet" and the question goes to staff.
    ``best`` is the first result that passes both thresholds, or the top one when none does.
    """
    if not results:
        return GateDecision(answerable=False, reason="no_evidence", best=None)
    for result in results:
        if result.semantic >= min_semantic and result.score >= min_score:
            return GateDecision(answerable=True, reason="supported", best=result)
    top = results[0]
    reason = "low_semantic" if top.semantic < min_semantic else "low_score"
    return GateDecision(answerable=False, reason=reason, best=top)
