"""ePQA's products as an Oscar catalogue, for ``bench/bench_qa.py``.

Each ASIN of the loaded questions becomes one product (its own product class, so attribute
codes never clash between products), built from the candidates of its questions, each
candidate once and in the questions' shuffled order (file order would tell which candidate
answers):

* ``attribute`` -> the product's attribute values, one per fact Amazon's notation holds
  ("Item package weight (kilograms)" = 0.18, a float; "Batteries included" = no, a boolean);
* ``description`` and ``bullet`` -> one line each of the product's description;
* ``review`` -> an approved :class:`ProductReview` (body only);
* ``cqa`` (a community answer) -> a published FAQ question of the shop, answered by staff.

The Q&A service then reads the product the way it reads any product
(:func:`oscar_gpt.qa.evidence.product_units`); :attr:`ShopProduct.candidates` says which
candidate each of its evidence units came from, so a question's labels apply to them.
Must be imported after ``django.setup()``.
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from amazon_attributes import facts_from
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from oscar.core.loading import get_model

from oscar_gpt.models import Question
from oscar_gpt.qa.evidence import product_units
from oscar_gpt.qa.service import normalise

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductReview = get_model("reviews", "ProductReview")

#: A candidate, as the same text may come with several questions of one product.
Key = tuple[str, str]


def read_rows(path: Path) -> list[dict[str, str]]:
    """The file's rows, numbered as ``bench_qa_retrieval.load`` numbers its units' ids."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def row_of(unit_id: str, rows: list[dict[str, str]]) -> dict[str, str]:
    """The file row behind one of ``bench_qa_retrieval.load``'s units ("review:123")."""
    return rows[int(unit_id.rsplit(":", 1)[1])]


def _flat(text: str) -> str:
    return " ".join(html.unescape(text).split())


def candidate_key(row: dict[str, str]) -> Key:
    kind = "description" if row["source"] == "bullet" else row["source"]
    return kind, _flat(row["candidate"]).lower()


@dataclass
class ShopProduct:
    asin: str
    product_id: int
    #: Each evidence unit's id -> the candidate it came from.
    candidates: dict[str, Key] = field(default_factory=dict)
    #: Candidates that gave no unit (a heading-like bullet, a review past MAX_REVIEWS).
    dropped: int = 0
    #: The evidence units' texts, to embed them all in one go.
    texts: list[str] = field(default_factory=list)


# -- attributes ----------------------------------------------------------------------------


def _attribute_values(raw: str) -> list[tuple[str, str, object]]:
    """(Oscar attribute name, type, value) for each fact of one attribute candidate."""
    out = []
    name_part = raw.partition(":")[0].strip().replace("_", " ") or "Attribute"
    facts = facts_from(raw)
    for fact in facts:
        value = fact.value
        unit = str(fact.unit or "").replace("_", " ").strip()
        name = (fact.name or name_part)[:100]
        if isinstance(value, bool):
            kind = ProductAttribute.BOOLEAN
        elif isinstance(value, float | int):
            kind, value = ProductAttribute.FLOAT, float(value)
        else:
            kind = ProductAttribute.TEXT
            value = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
            if not value.strip():
                continue
        out.append((f"{name} ({unit})" if unit else name, kind, value))
    if not out:  # nothing Amazon's notation could read: keep it as text
        rest = raw.partition(":")[2].strip() or raw.strip()
        out.append((name_part[:1].upper() + name_part[1:], ProductAttribute.TEXT, rest))
    return out


_FIELD = {
    ProductAttribute.BOOLEAN: "value_boolean",
    ProductAttribute.FLOAT: "value_float",
    ProductAttribute.TEXT: "value_text",
}


# -- the shop ------------------------------------------------------------------------------


def build_shop(questions, rows: list[dict[str, str]]) -> dict[str, ShopProduct]:
    """One product per ASIN of ``questions`` (``bench_qa_retrieval.Question``)."""
    by_asin: dict[str, list] = {}
    for question in questions:
        by_asin.setdefault(question.asin, []).append(question)
    shop = {}
    with transaction.atomic():
        for asin, asked in by_asin.items():
            seen: dict[Key, dict[str, str]] = {}
            for question in asked:
                for unit in question.units:
                    row = row_of(unit.id, rows)
                    seen.setdefault(candidate_key(row), row)
            shop[asin] = _product(asin, seen)
    return shop


def _product(asin: str, candidates: dict[Key, dict[str, str]]) -> ShopProduct:
    first = next(iter(candidates.values()))
    # A slug of its own: Oscar's AutoSlugField would try "product", "product-2", ... in turn.
    product_class = ProductClass.objects.create(
        name="Product", slug=f"epqa-{asin.lower()}", track_stock=False
    )
    lines: list[tuple[Key, str]] = [
        (key, _flat(row["candidate"]))
        for key, row in candidates.items()
        if key[0] == "description" and _flat(row["candidate"])
    ]
    product = Product.objects.create(
        title=(_flat(first["title"]) or asin)[:255],
        upc=asin,
        product_class=product_class,
        structure=Product.STANDALONE,
        is_public=True,
        description="\n".join(text for _key, text in lines),
    )
    record = ShopProduct(asin, product.pk)
    codes: set[str] = set()
    values, attribute_keys = [], {}
    reviews, review_keys = [], []
    faqs, faq_keys = [], []
    for key, row in candidates.items():
        source = key[0]
        if source == "attribute":
            for name, kind, value in _attribute_values(row["candidate"]):
                code = base = slugify(f"{name} {kind}").replace("-", "_")[:100] or "attribute"
                number = 1
                while code in codes:
                    number += 1
                    code = f"{base}_{number}"
                codes.add(code)
                attribute = ProductAttribute.objects.create(
                    product_class=product_class, name=name[:128], code=code, type=kind
                )
                values.append(
                    ProductAttributeValue(
                        attribute=attribute, product=product, **{_FIELD[kind]: value}
                    )
                )
                attribute_keys[f"attr:{code}"] = key
        elif source == "review":
            reviews.append(
                ProductReview(
                    product=product,
                    score=3,
                    title="",
                    body=row["candidate"].strip(),
                    name="Amazon shopper",
                    status=ProductReview.APPROVED,
                )
            )
            review_keys.append(key)
        elif source == "cqa":
            answer, marker, text = row["candidate"].partition(" Question: ")
            text, answer = (text.strip(), answer.strip()) if marker else ("", answer.strip())
            text = text or "Question"
            faqs.append(
                Question(
                    product=product,
                    text=text,
                    normalised=normalise(text),
                    language="en-gb",
                    status=Question.Status.ANSWERED,
                    source=Question.Source.STAFF,
                    answer=answer,
                    published=True,
                    answered_at=timezone.now(),
                )
            )
            faq_keys.append(key)
    ProductAttributeValue.objects.bulk_create(values)
    record.candidates.update(attribute_keys)
    for review, key in zip(ProductReview.objects.bulk_create(reviews), review_keys, strict=True):
        record.candidates[f"review:{review.pk}"] = key
    for faq, key in zip(Question.objects.bulk_create(faqs), faq_keys, strict=True):
        record.candidates[f"faq:{faq.pk}"] = key
    units = product_units(product)
    record.candidates.update(_description_keys(units, lines))
    record.texts = [unit.text for unit in units]
    ids = {unit.id for unit in units}
    record.candidates = {uid: key for uid, key in record.candidates.items() if uid in ids}
    record.dropped = len(candidates) - len(set(record.candidates.values()))
    return record


def _description_keys(units, lines: list[tuple[Key, str]]) -> dict[str, Key]:
    """Description units ("desc:3") -> the line (candidate) they were split from."""
    flat = [re.sub(r"\s+", " ", text) for _key, text in lines]
    found, position = {}, 0
    for unit in units:
        if unit.kind != "description":
            continue
        text = " ".join(unit.text.split())
        for i in range(position, len(lines)):
            if text in flat[i]:
                found[unit.id] = lines[i][0]
                position = i
                break
    return found


def question_labels(question, rows: list[dict[str, str]]) -> dict[Key, int]:
    """A question's label for each of its candidates (the highest where one repeats)."""
    labels: dict[Key, int] = {}
    for unit, label in zip(question.units, question.labels, strict=True):
        key = candidate_key(row_of(unit.id, rows))
        labels[key] = max(label, labels.get(key, 0))
    return labels


def reference_answers(question, rows: list[dict[str, str]]) -> list[str]:
    """The human answers written from the question's label-2 candidates."""
    answers = []
    for unit, label in zip(question.units, question.labels, strict=True):
        answer = row_of(unit.id, rows)["answer"].strip()
        if label == 2 and answer and answer not in answers:
            answers.append(answer)
    return answers
