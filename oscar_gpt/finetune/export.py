"""Training data from what people in the shop wrote or approved, never from unreviewed drafts.

Two kinds of examples, each a conversation built exactly as the feature builds it, so a
fine-tuned model sees the prompts it will get:

* ``description``: a product's facts -> a draft a person approved (the newest per product,
  field and settings; its prompt has the draft's settings), or, where no approved draft
  exists for the field, the product's own text when a person wrote it (the revision history
  tells which texts the app wrote); its prompt asks for what the text is: the nearest
  length, paragraphs or bullets, and as keywords the product's class and category names the
  text uses, so the model never learns to ignore what a prompt asks;
* ``answer``: a shopper's question with the evidence the Q&A would show the model -> the
  answer staff wrote, or a published answer, with the ids of the evidence it rests on.

Every message but the system prompt is scrubbed of personal data; duplicates are removed;
the split is by product (a product and its variants on one side, chosen by a stable hash,
so a product stays on its side as the catalogue grows). Files::

    train.jsonl / validation.jsonl                   the local trainer's dataset (messages
                                                     and where each example came from)
    openai-train.jsonl / openai-validation.jsonl     OpenAI chat fine-tuning format
    summary.json                                     counts, tokens, estimated hosted cost
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as default
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from oscar.core.loading import get_model

from ..app_settings import app_settings
from ..descriptions.facts import product_facts
from ..descriptions.prompts import LENGTHS, GenerationParams, build_messages
from ..models import DescriptionField, Draft, Question, Revision
from ..privacy import scrub
from .files import FILES, read_examples  # noqa: F401 (read_examples: part of this API)

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")

KINDS = ("description", "answer")

#: OpenAI's rule for ``n_epochs="auto"`` (their fine-tuning data-preparation cookbook):
#: about 3 epochs, but at least 100 and at most 25,000 examples seen in all.
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES, MAX_DEFAULT_EPOCHS = 3, 100, 25_000, 25


@dataclass
class Example:
    """One conversation to learn from, and where it came from."""

    kind: str
    product_id: int
    #: What the split keeps together: the parent product for a variant.
    group: int
    messages: list[dict[str, str]]
    #: "draft", "human" (descriptions); "staff", "published" (answers).
    source: str
    #: "draft:12", "product:5:description", "question:7".
    ref: str
    field: str = ""
    params: dict[str, Any] = default(default_factory=dict)
    #: Answers: whether any evidence shares the answer's words (then the answer cites it).
    supported: bool = True
    split: str = ""
    tokens: int = 0

    @property
    def target(self) -> str:
        return self.messages[-1]["content"]

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["id"] = self.ref
        return record


# -- text helpers ----------------------------------------------------------------------------

_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.I)
_BLOCK_END = re.compile(r"</\s*(?:p|div|h[1-6]|ul|ol)\s*>", re.I)
_ITEM = re.compile(r"<\s*li[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(value: str) -> str:
    """Oscar's rich-text description as the plain text the generator writes: paragraphs on
    blank lines, list items as "- " bullets."""
    if not value:
        return ""
    text = _BREAK.sub("\n", value)
    text = _BLOCK_END.sub("\n\n", text)
    text = _ITEM.sub("\n- ", text)
    text = html.unescape(_TAG.sub("", text)).replace("\u00a0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def normalise(text: str) -> str:
    """What counts as the same text: case and spacing don't."""
    return " ".join(str(text).lower().split())


def _user_names(user) -> list[str]:
    if user is None:
        return []
    return [n for n in (user.get_full_name(), user.first_name, user.last_name) if n]


def scrub_messages(
    messages: list[dict[str, str]], names: Sequence[str], found: Counter
) -> list[dict[str, str]]:
    """Every message but the system prompt (the app's own words) scrubbed of personal data;
    ``found`` counts what was replaced, by kind (never the data itself)."""
    clean = []
    for message in messages:
        if message["role"] == "system":
            clean.append(dict(message))
            continue
        result = scrub(message["content"], names=names)
        found.update(result.counts())
        clean.append({**message, "content": result.text})
    return clean


# -- descriptions ----------------------------------------------------------------------------


def _products():
    return Product.objects.select_related("product_class", "parent").prefetch_related(
        "categories", "children", "product_options"
    )


def _app_texts(product_ids: Iterable[int]) -> dict[tuple[int, str], set[str]]:
    """Per product and field, the texts the app wrote into it (approving a draft)."""
    texts: dict[tuple[int, str], set[str]] = {}
    revisions = Revision.objects.filter(product_id__in=list(product_ids), draft__isnull=False)
    for product_id, field_name, after in revisions.values_list("product_id", "field", "after"):
        texts.setdefault((product_id, field_name), set()).add(normalise(html_to_text(after)))
    return texts


def _reviewed_approved_drafts(fields: Sequence[str]):
    """Drafts a person approved. An auto-published draft (``DESCRIPTIONS_AUTO_PUBLISH``)
    was approved by nobody: it stays out, as does every pending or rejected draft."""
    return (
        Draft.objects.filter(
            status=Draft.Status.APPROVED, reviewed_by__isnull=False, field__in=list(fields)
        )
        .exclude(text="")
        .order_by("-reviewed_at", "-id")
    )


def default_keywords(product) -> list[str]:
    """What a shop would ask copy for this product to mention: its class and the names of
    its categories (lower case, each once, at most three)."""
    names = []
    product_class = product.get_product_class()
    if product_class is not None:
        names.append(product_class.name)
    names += [category.name for category in product.get_categories().all()]
    keywords: list[str] = []
    for name in names:
        word = name.strip().lower()
        if word and word not in keywords:
            keywords.append(word)
    return keywords[:3]


def uses(text: str, keyword: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword)}", text, re.IGNORECASE) is not None


def params_for_text(text: str, product) -> GenerationParams:
    """The settings a person's text answers to: its length, its format, the keywords it
    uses."""
    words = len(text.split())
    length = min(LENGTHS, key=lambda name: abs(LENGTHS[name] - words))
    lines = [line for line in text.splitlines() if line.strip()]
    bullets = sum(line.lstrip().startswith(("- ", "* ", "\u2022 ")) for line in lines)
    form = "paragraph" if not bullets else "bullets" if bullets == len(lines) else "both"
    keywords = [k for k in default_keywords(product) if uses(text, k)]
    return GenerationParams(length=length, format=form, keywords=keywords)


def _description_example(product, field_name, text, params, *, source, ref) -> Example | None:
    facts = product_facts(product, include_reviews=params.include_reviews)
    # The prompt never shows the current description; copy the model learns must rest on
    # what the prompt shows, so a product without attributes teaches nothing.
    facts.description = ""
    if facts.missing():
        return None
    messages = build_messages(facts, field_name, params, product.get_product_class())
    messages.append({"role": "assistant", "content": text})
    return Example(
        kind="description",
        product_id=product.pk,
        group=product.parent_id or product.pk,
        messages=messages,
        source=source,
        ref=ref,
        field=field_name,
        params=params.as_dict(),
    )


def description_examples(
    fields: Sequence[str], left_out: Counter
) -> list[tuple[Example, list[str]]]:
    """Approved drafts, then people's own texts for the fields no approved draft covers."""
    found: list[tuple[Example, list[str]]] = []
    covered: set[tuple[int, str]] = set()
    seen_settings: set[tuple[int, str, str]] = set()
    drafts = list(_reviewed_approved_drafts(fields).select_related("product", "reviewed_by"))
    products = {p.pk: p for p in _products().filter(pk__in={d.product_id for d in drafts})}
    for draft in drafts:
        product = products.get(draft.product_id)
        if product is None:
            continue
        covered.add((draft.product_id, draft.field))
        key = (draft.product_id, draft.field, draft.params_hash)
        if key in seen_settings:  # an older approval with the same settings: superseded
            left_out["older_approved_drafts"] += 1
            continue
        seen_settings.add(key)
        params = GenerationParams.from_dict(draft.params or {})
        text = html_to_text(draft.text)
        example = _description_example(
            product, draft.field, text, params, source="draft", ref=f"draft:{draft.pk}"
        )
        if example is None:
            left_out["too_few_facts"] += 1
            continue
        found.append((example, _user_names(draft.reviewed_by)))
    left_out["drafts_not_approved_by_a_person"] += (
        Draft.objects.filter(field__in=list(fields))
        .exclude(status=Draft.Status.APPROVED, reviewed_by__isnull=False)
        .count()
    )

    written = Q()
    for field_name in fields:
        written |= ~Q(**{field_name: ""})
    candidates = list(_products().exclude(structure=Product.CHILD).filter(written).order_by("pk"))
    app_texts = _app_texts(p.pk for p in candidates)
    for product in candidates:
        for field_name in fields:
            text = html_to_text(getattr(product, field_name, "") or "")
            if not text or (product.pk, field_name) in covered:
                continue
            if normalise(text) in app_texts.get((product.pk, field_name), set()):
                left_out["app_written_texts"] += 1  # an auto-published draft, most likely
                continue
            example = _description_example(
                product,
                field_name,
                text,
                params_for_text(text, product),
                source="human",
                ref=f"product:{product.pk}:{field_name}",
            )
            if example is None:
                left_out["too_few_facts"] += 1
                continue
            found.append((example, []))
    return found


# -- answers ---------------------------------------------------------------------------------


def _evidence_units(question: Question, product):
    """The evidence the Q&A would put in front of the model for this question: what the
    answer showed, else the best units of the product's evidence now. The question's own FAQ
    entry is left out: it holds the answer."""
    from ..qa.evidence import evidence_index
    from ..qa.retrieval import EvidenceUnit
    from ..qa.service import _context_units  # the service's own choice of context units

    own = f"faq:{question.pk}"
    if question.evidence:
        return [
            EvidenceUnit(id=u["id"], kind=u["kind"], text=u["text"], label=u.get("label", ""))
            for u in question.evidence
            if u.get("id") != own
        ]
    index = evidence_index(product)
    vector = None
    if question.vector:
        import numpy as np

        vector = np.frombuffer(bytes(question.vector), dtype=np.float32)
        if index.vectors is None or vector.shape[0] != index.vectors.shape[1]:
            vector = None  # embedded by another model: embed again
    results = index.search(question.text, k=9, question_vector=vector)
    results = [r for r in results if r.unit.id != own]
    return _context_units(results, results[0]) if results else []


def _cited(answer: str, question: str, units) -> list[int]:
    """The evidence (1-based) that shares a content word with the answer, beyond the words
    of the question: "40 hours" in the answer and in "Battery life: 40 hours"."""
    from ..qa.retrieval import question_terms
    from ..qa.service import GENERIC_WORDS

    asked = set(question_terms(question)) | set(GENERIC_WORDS)
    said = {t for t in question_terms(answer) if t not in asked}
    return [i for i, unit in enumerate(units, 1) if said & set(question_terms(unit.text))]


def answer_examples(left_out: Counter) -> list[tuple[Example, list[str]]]:
    """Staff answers and published answers (never a model's unpublished one, never one a
    shopper reported), newest first."""
    from ..qa.service import build_messages as qa_messages

    questions = (
        Question.objects.filter(status=Question.Status.ANSWERED, reports=0)
        .exclude(answer="")
        .exclude(source=Question.Source.STORED)
        .filter(Q(source=Question.Source.STAFF) | Q(published=True))
        .select_related("product", "product__parent", "user", "answered_by")
        .order_by("-answered_at", "-id")
    )
    found = []
    for question in questions:
        product = question.product
        units = _evidence_units(question, product)
        if not units:
            left_out["answers_without_evidence"] += 1
            continue
        answer = html_to_text(question.answer)
        cited = _cited(answer, question.text, units)
        target = answer + (f" [{', '.join(f'E{i}' for i in cited)}]" if cited else "")
        messages = qa_messages(question, product, units)
        messages.append({"role": "assistant", "content": target})
        source = "staff" if question.source == Question.Source.STAFF else "published"
        example = Example(
            kind="answer",
            product_id=product.pk,
            group=product.parent_id or product.pk,
            messages=messages,
            source=source,
            ref=f"question:{question.pk}",
            supported=bool(cited),
            params={"normalised": question.normalised, "language": question.language},
        )
        found.append((example, _user_names(question.user) + _user_names(question.answered_by)))
    left_out["unreviewed_answers"] += (
        Question.objects.filter(status=Question.Status.ANSWERED)
        .exclude(source=Question.Source.STAFF)
        .filter(published=False)
        .count()
    )
    left_out["reported_answers"] += Question.objects.filter(reports__gt=0).count()
    return found


# -- dedupe and split ------------------------------------------------------------------------


def deduplicate(examples: list[Example]) -> tuple[list[Example], int]:
    """The first of each set of duplicates (callers pass the newest first): the same
    conversation, the same copy for the same product and field, or the same question asked
    of the same product."""
    kept, seen = [], set()
    for example in examples:
        keys = {
            hashlib.sha256(
                json.dumps([normalise(m["content"]) for m in example.messages]).encode()
            ).hexdigest()
        }
        if example.kind == "description":
            keys.add(("copy", example.product_id, example.field, normalise(example.target)))
        else:
            keys.add(("question", example.product_id, example.params.get("normalised", "")))
        if keys & seen:
            continue
        seen |= keys
        kept.append(example)
    return kept, len(examples) - len(kept)


def _fraction(seed: int, group: int) -> float:
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_product(examples: list[Example], share: float, seed: int) -> None:
    """Mark each example "train" or "validation"; a product's examples share a side. With two
    or more products and a share above 0, each side gets at least one."""
    groups = sorted({e.group for e in examples})
    fractions = {g: _fraction(seed, g) for g in groups}
    validation = {g for g in groups if fractions[g] < share}
    if len(groups) >= 2 and share > 0:
        if not validation:
            validation = {min(groups, key=fractions.get)}
        if validation == set(groups):
            validation.discard(max(groups, key=fractions.get))
    for example in examples:
        example.split = "validation" if example.group in validation else "train"


# -- tokens and cost -------------------------------------------------------------------------


def token_counter(alias: str | None = None) -> tuple[Callable[[list[dict]], int], str]:
    """Counts a conversation's tokens with the local model's tokenizer and chat template
    (OpenAI's own counts differ by a few per cent); without transformers or a local backend,
    an estimate of four characters a token."""
    try:
        from .trainer import load_tokenizer

        tokenizer, label = load_tokenizer(alias or app_settings.FINETUNE_LOCAL["BACKEND"])
    except Exception as exc:  # noqa: BLE001 - any failure means: estimate
        logger.info("Counting tokens as characters / 4: %s", exc)
        return (lambda messages: sum(len(m["content"]) // 4 + 4 for m in messages)), "chars/4"

    def count(messages: list[dict]) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count, label


def hosted_epochs(train_examples: int, epochs: int | str = "auto") -> int:
    if epochs != "auto":
        return int(epochs)
    if not train_examples:
        return TARGET_EPOCHS
    if train_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, -(-MIN_TARGET_EXAMPLES // train_examples))
    if train_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(1, MAX_TARGET_EXAMPLES // train_examples)
    return TARGET_EPOCHS


def hosted_estimate(
    train_tokens: int, train_examples: int, *, model: str | None = None, epochs=None
) -> dict[str, Any]:
    """What OpenAI would bill to fine-tune ``model`` on the training split (from
    ``FINETUNE_PRICES``); ``cost_usd`` is None for a model without a training price."""
    hosted = app_settings.FINETUNE_OPENAI
    model = model or hosted["MODEL"]
    epochs = hosted_epochs(train_examples, hosted["EPOCHS"] if epochs is None else epochs)
    trained = train_tokens * epochs
    price = app_settings.FINETUNE_PRICES.get(model, {}).get("TRAINING")
    cost = None
    if price is not None:
        cost = (price * trained / Decimal(1_000_000)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
    return {
        "model": model,
        "epochs": epochs,
        "trained_tokens": trained,
        "usd_per_million": str(price) if price is not None else None,
        "cost_usd": str(cost) if cost is not None else None,
    }


# -- the export ------------------------------------------------------------------------------


def collect(
    *,
    kinds: Sequence[str] = KINDS,
    fields: Sequence[str] | None = None,
    validation_share: float | None = None,
    seed: int | None = None,
) -> tuple[list[Example], dict[str, Any]]:
    """Every example, scrubbed, deduplicated and split; and what was left out and why."""
    fields = list(fields or [f.value for f in DescriptionField])
    share = app_settings.FINETUNE_VALIDATION_SHARE if validation_share is None else validation_share
    seed = app_settings.FINETUNE_SEED if seed is None else seed
    left_out: Counter = Counter()
    found: list[tuple[Example, list[str]]] = []
    if "description" in kinds:
        found += description_examples(fields, left_out)
    if "answer" in kinds:
        found += answer_examples(left_out)
    scrubbed: Counter = Counter()
    examples = []
    for example, names in found:
        example.messages = scrub_messages(example.messages, names, scrubbed)
        if not example.target.strip():
            left_out["empty"] += 1
            continue
        examples.append(example)
    examples, left_out["duplicates"] = deduplicate(examples)
    split_by_product(examples, share, seed)
    info = {
        "left_out": {k: v for k, v in sorted(left_out.items()) if v},
        "scrubbed": dict(sorted(scrubbed.items())),
        "validation_share": share,
        "seed": seed,
    }
    return examples, info


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write(directory: Path, examples: list[Example], info: dict[str, Any], *, counter=None):
    """Write the four JSONL files and ``summary.json``; return the summary."""
    directory.mkdir(parents=True, exist_ok=True)
    count, tokenizer = counter or token_counter()
    for example in examples:
        example.tokens = count(example.messages)
    splits = {name: [e for e in examples if e.split == name] for name in ("train", "validation")}
    for name, rows in splits.items():
        _write_jsonl(directory / FILES[name], (e.as_record() for e in rows))
        _write_jsonl(directory / FILES[f"openai_{name}"], ({"messages": e.messages} for e in rows))
    counts = {
        name: {
            **{kind: sum(e.kind == kind for e in rows) for kind in KINDS},
            "total": len(rows),
            "products": len({e.group for e in rows}),
            "tokens": sum(e.tokens for e in rows),
        }
        for name, rows in splits.items()
    }
    train = splits["train"]
    summary = {
        "created": timezone.now().isoformat(),
        "language": settings.LANGUAGE_CODE,
        "counts": counts,
        "sources": dict(Counter(f"{e.kind}:{e.source}" for e in examples)),
        "answers_citing_no_evidence": sum(e.kind == "answer" and not e.supported for e in examples),
        "tokens": {
            "train": counts["train"]["tokens"],
            "validation": counts["validation"]["tokens"],
            "total": counts["train"]["tokens"] + counts["validation"]["tokens"],
            "tokenizer": tokenizer,
        },
        "hosted_estimate": hosted_estimate(counts["train"]["tokens"], len(train)),
        "files": dict(FILES),
        **info,
    }
    (directory / FILES["summary"]).write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


def export(directory: str | Path, **options) -> dict[str, Any]:
    """Collect and write the training data to ``directory``; the summary."""
    examples, info = collect(**options)
    return write(Path(directory), examples, info)
