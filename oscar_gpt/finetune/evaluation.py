"""Copy for the validation products from two backends, side by side: does fine-tuning keep
the copy true to the facts, at the asked length, with the asked keywords?

For each validation description example the product's facts are read again and the prompt
built as the generator builds it, asking for the example's keywords or, where it had none,
the product's class and category names (so keyword use is measured on every product). Each
backend writes greedily; its text is cleaned as a draft's is and run through the claims
check against the facts the prompt showed (the product's current description is left out:
the model never saw it). Metrics per backend:

* ``clean_share``: the share of drafts with text and no unsupported claim;
* ``empty_share``: drafts that came back empty (an echoed prompt counts as empty);
* ``words``: the mean length in words, and ``target_words`` the mean length asked;
* ``keyword_share``: the share of asked keywords the drafts use.

The texts people wrote or approved for the same products (the examples' answers) are
measured the same way, as ``reference``: what the shop's own copy looks like by these
measures (a shop whose copy is shorter than the nearest length preset, say).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..descriptions.facts import product_facts
from ..descriptions.prompts import (
    LENGTHS,
    GenerationParams,
    build_messages,
    clean_output,
    max_tokens_for,
)
from ..descriptions.service import check_text
from ..models import DescriptionField
from .export import default_keywords, uses


@dataclass
class Prompt:
    product_id: int
    field: str
    params: GenerationParams
    facts: Any
    messages: list[dict]
    keywords: list[str]
    #: The text a person wrote or approved for this prompt (the example's answer).
    reference: str = ""


@dataclass
class CopyMetrics:
    backend: str
    drafts: int = 0
    clean: int = 0
    empty: int = 0
    words: float = 0.0
    target_words: float = 0.0
    keywords_asked: int = 0
    keywords_used: int = 0
    seconds: float = 0.0
    samples: list[dict] = field(default_factory=list)

    @property
    def clean_share(self) -> float:
        return self.clean / self.drafts if self.drafts else 0.0

    @property
    def empty_share(self) -> float:
        return self.empty / self.drafts if self.drafts else 0.0

    @property
    def keyword_share(self) -> float:
        return self.keywords_used / self.keywords_asked if self.keywords_asked else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            clean_share=round(self.clean_share, 4),
            empty_share=round(self.empty_share, 4),
            keyword_share=round(self.keyword_share, 4),
            words=round(self.words, 1),
            target_words=round(self.target_words, 1),
        )
        return data


def prompts_for(records: list[dict], limit: int | None = None) -> list[Prompt]:
    """The comparison's prompts, from an export's validation records (descriptions only)."""
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    wanted = [r for r in records if r.get("kind") == "description"]
    if limit:
        wanted = wanted[:limit]
    products = Product.objects.select_related("product_class", "parent").prefetch_related(
        "categories", "children", "product_options"
    )
    products = {p.pk: p for p in products.filter(pk__in={r["product_id"] for r in wanted})}
    prompts = []
    for record in wanted:
        product = products.get(record["product_id"])
        if product is None:
            continue
        params = GenerationParams.from_dict(record.get("params") or {})
        params.keywords = params.keywords or default_keywords(product)
        facts = product_facts(product, include_reviews=params.include_reviews)
        facts.description = ""  # as in the export: the prompt never shows it
        field_name = record.get("field") or DescriptionField.DESCRIPTION.value
        messages = build_messages(facts, field_name, params, product.get_product_class())
        reference = (record.get("messages") or [{}])[-1].get("content", "")
        prompts.append(
            Prompt(product.pk, field_name, params, facts, messages, params.keywords, reference)
        )
    return prompts


def measure(name: str, prompts: list[Prompt], texts: list[str], *, samples: int = 3):
    """Measure ``texts``, one per prompt (already cleaned as a draft's text is)."""
    metrics = CopyMetrics(backend=name)
    words, targets = [], []
    for prompt, text in zip(prompts, texts, strict=True):
        metrics.drafts += 1
        if not text:
            metrics.empty += 1
        else:
            metrics.clean += check_text(text, prompt.facts, prompt.params).ok
        words.append(len(text.split()))
        targets.append(LENGTHS[prompt.params.length])
        metrics.keywords_asked += len(prompt.keywords)
        metrics.keywords_used += sum(uses(text, k) for k in prompt.keywords)
        if len(metrics.samples) < samples:
            metrics.samples.append({"product_id": prompt.product_id, "text": text})
    metrics.words = sum(words) / len(words) if words else 0.0
    metrics.target_words = sum(targets) / len(targets) if targets else 0.0
    return metrics


def evaluate(backend, prompts: list[Prompt], *, samples: int = 3) -> CopyMetrics:
    """Generate copy for ``prompts`` with ``backend`` (greedy) and measure it."""
    import time

    started = time.perf_counter()
    by_field: dict[tuple[str, int], list[Prompt]] = {}
    for prompt in prompts:
        limit = max_tokens_for(prompt.field, prompt.params)
        by_field.setdefault((prompt.field, limit), []).append(prompt)
    ordered, texts = [], []
    for (field_name, limit), group in by_field.items():
        completions = backend.complete_batch(
            [p.messages for p in group], max_tokens=limit, temperature=0.0
        )
        ordered += group
        texts += [clean_output(field_name, c.text) for c in completions]
    metrics = measure(backend.alias, ordered, texts, samples=samples)
    metrics.seconds = round(time.perf_counter() - started, 1)
    return metrics


def compare(before, after, prompts: list[Prompt]) -> dict[str, Any]:
    """Both backends on the same prompts, and the reviewed texts of those products:
    ``{"before": {...}, "after": {...}, "reference": {...}}``."""
    return {
        "products": len({p.product_id for p in prompts}),
        "before": evaluate(before, prompts).as_dict(),
        "after": evaluate(after, prompts).as_dict(),
        "reference": measure("reference", prompts, [p.reference for p in prompts]).as_dict(),
    }
