"""A product's evidence: its facts as quotable units, with their embeddings stored.

Units come from the shop's own data only: attributes (with their units), description
sentences, approved reviews (Oscar's reviews app) and the product's published FAQ answers.
:func:`evidence_index` returns a ready :class:`~oscar_gpt.qa.retrieval.EvidenceIndex`,
reusing the stored vectors and embedding only texts it has not seen before, so a change to
one attribute costs one embedding.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

import numpy as np
from django.db import IntegrityError, transaction
from oscar.core.loading import get_model

from ..descriptions.facts import attribute_facts, product_facts
from ..grounding import Fact
from ..models import EvidenceSet, Question
from ..privacy import scrub
from .retrieval import LABELS, EvidenceIndex, EvidenceUnit, split_sentences

ProductReview = get_model("reviews", "ProductReview")

#: Approved reviews used as evidence, best voted first.
MAX_REVIEWS = 20
#: Published FAQ answers used as evidence, newest first.
MAX_FAQ = 30


def _unit(id_: str, kind: str, text: str) -> EvidenceUnit:
    return EvidenceUnit(id=id_, kind=kind, text=text, label=str(LABELS[kind]))


def product_units(product) -> list[EvidenceUnit]:
    """Every unit of evidence the shop holds about ``product``, in a stable order."""
    units = [
        _unit(f"attr:{fact.code}", "attribute", fact.text) for fact in attribute_facts(product)
    ]
    parent = product.parent if product.is_child else None
    if parent is not None:  # a variant shares its parent's facts unless it overrides them
        codes = {unit.id for unit in units}
        units += [
            _unit(f"attr:{fact.code}", "attribute", fact.text)
            for fact in attribute_facts(parent)
            if f"attr:{fact.code}" not in codes
        ]
    description = product.description or (parent.description if parent else "")
    units += [
        _unit(f"desc:{i}", "description", sentence)
        for i, sentence in enumerate(split_sentences(description or ""))
    ]
    reviews = (
        ProductReview.objects.filter(product=parent or product, status=ProductReview.APPROVED)
        .order_by("-total_votes", "-date_created", "-id")
        .only("id", "title", "body")[:MAX_REVIEWS]
    )
    for review in reviews:
        text = " ".join(part.strip() for part in (review.title, review.body) if part)
        # Reviews are shopper text: no personal data in what is stored, shown or sent.
        units.append(_unit(f"review:{review.pk}", "review", scrub(text).text[:600]))
    faq = (
        Question.objects.filter(product=product, published=True)
        .exclude(answer="")
        .order_by("-answered_at", "-id")
        .only("id", "text", "answer")[:MAX_FAQ]
    )
    units += [
        _unit(f"faq:{question.pk}", "faq", f"{question.text} {question.answer}") for question in faq
    ]
    return units


def product_facts_for_check(product) -> list[Fact]:
    """What an answer may state: the product's title, class, categories and attributes."""
    return product_facts(product).grounding_facts()


def fingerprint(units: list[EvidenceUnit], model_name: str) -> str:
    digest = hashlib.sha256(model_name.encode())
    for unit in units:
        digest.update(b"\0" + unit.id.encode() + b"\0" + unit.text.encode())
    return digest.hexdigest()


def _embedder():
    from ..llm.embeddings import get_embedder

    return get_embedder()


def _model_name(embedder) -> str:
    return str(getattr(embedder, "name", "") or type(embedder).__name__)


def evidence_index(product, *, embedder=None, refresh: bool = False) -> EvidenceIndex:
    """``product``'s evidence, searchable; the stored set is brought up to date first."""
    embedder = embedder or _embedder()
    units = product_units(product)
    model_name = _model_name(embedder)
    current = fingerprint(units, model_name)
    stored = EvidenceSet.objects.filter(product=product).first()
    if stored is not None and stored.fingerprint == current and not refresh:
        vectors = np.frombuffer(bytes(stored.vectors), dtype=np.float32)
        vectors = vectors.reshape(len(units), stored.dimension) if units else None
        return _index(units, vectors, embedder, current)
    known: dict[str, np.ndarray] = {}
    if stored is not None and stored.embedding_model == model_name and stored.dimension:
        old = np.frombuffer(bytes(stored.vectors), dtype=np.float32).reshape(-1, stored.dimension)
        known = {unit["text"]: old[i] for i, unit in enumerate(stored.units) if i < len(old)}
    missing = sorted({unit.text for unit in units} - known.keys())
    if missing:
        fresh = np.asarray(embedder.embed(missing), dtype=np.float32)
        known.update(zip(missing, fresh, strict=True))
    vectors = np.stack([known[unit.text] for unit in units]) if units else np.zeros((0, 0))
    dimension = int(vectors.shape[1]) if units else 0
    values = {
        "fingerprint": current,
        "embedding_model": model_name,
        "units": [asdict(unit) for unit in units],
        "vectors": np.ascontiguousarray(vectors, dtype=np.float32).tobytes(),
        "dimension": dimension,
    }
    try:
        with transaction.atomic():
            EvidenceSet.objects.update_or_create(product=product, defaults=values)
    except IntegrityError:  # another worker built it at the same moment: theirs is as good
        pass
    return _index(units, vectors if units else None, embedder, current)


def _index(units, vectors, embedder, current) -> EvidenceIndex:
    index = EvidenceIndex(units, vectors, embedder=embedder)
    index.fingerprint = current
    return index


def unit_as_dict(unit: EvidenceUnit) -> dict[str, str]:
    return {"id": unit.id, "kind": unit.kind, "text": unit.text, "label": unit.label}
