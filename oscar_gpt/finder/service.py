"""The product finder: a shopper writes what they want, the shop shows what fits and why.

Every door (the finder page, the search-box tag's form, the DRF endpoint) calls :func:`find`::

    result = find("wireless headphones with noise cancelling under £100", user=request.user)
    result.products[0].reasons
    # ["Wireless: yes", "Noise cancelling: yes", "£89.99 under your £100.00"]

The text, scrubbed of personal data, is read into constraints twice: deterministically,
against the shop's real attribute names and values (:mod:`.constraints`), and by the
``recommendations`` feature's model, whose proposals count only when they validate against
the same vocabulary. Candidates come by meaning (product embeddings, :func:`nearest`) and
by attribute; hard constraints (a price ceiling, "wireless") leave out products that
disagree, the rest rank; each product shows which of its attributes agree. When the model
fails or the budget is spent the finder goes on without it (``fell_back``).
Only browsable products that are available to buy (Oscar's strategy) are shown.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from .. import llm
from ..app_settings import app_settings
from ..llm.errors import BackendError
from ..privacy import scrub
from ..recommendations import embeddings
from ..wording import check_product_copy
from . import constraints as c
from .vocabulary import BOOLEAN, CHOICE, NUMBER, Vocabulary, vocabulary, words

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
Selector = get_class("partner.strategy", "Selector")

FEATURE = "recommendations"
#: Weight of agreeing with the constraints in a product's score; the rest is meaning.
AGREEMENT_WEIGHT = 0.6
#: Products matching every attribute constraint that are ranked by meaning among themselves.
MAX_ATTRIBUTE_CANDIDATES = 5000


class FinderError(ValueError):
    """The shopper's text can't be searched; the message says why, for a 400 response."""


@dataclass
class FoundProduct:
    product: Any
    #: 0..1: agreement with the constraints and closeness in meaning.
    score: float
    #: Cosine between the shopper's text and the product's embedded text.
    similarity: float
    #: Why it is shown: "Wireless: yes", "Battery life: 30 hours (long)", "£89.99 under ...".
    reasons: list[str]
    price: Decimal | None = None
    currency: str = ""


@dataclass
class FinderResult:
    #: The shopper's text as searched: trimmed, personal data scrubbed.
    query: str
    products: list[FoundProduct]
    constraints: list[c.Constraint]
    #: The model could not be asked (down, over budget): constraints come from the text alone.
    fell_back: bool = False
    #: The model's reading was used (asked now or earlier, from the cache).
    model_used: bool = False
    #: The model's one-line reading of the wish, shown only when it passed the checks.
    summary: str = ""
    #: For the shopper when nothing is shown: why.
    message: str = ""
    currency: str = ""
    #: For logs and tests: timings, the model's dropped proposals, errors. Never shown.
    trace: dict = field(default_factory=dict)

    @property
    def constraint_texts(self) -> list[str]:
        return [constraint.describe(self.currency) for constraint in self.constraints]

    def as_dict(self) -> dict[str, Any]:
        """The JSON payload of the API and of the page's JSON door."""
        return {
            "query": self.query,
            "constraints": [
                constraint.as_dict() | {"text": constraint.describe(self.currency)}
                for constraint in self.constraints
            ],
            "fell_back": self.fell_back,
            "summary": self.summary,
            "message": self.message,
            "results": [
                {
                    "id": found.product.pk,
                    "title": found.product.get_title(),
                    "url": found.product.get_absolute_url(),
                    "price": str(found.price) if found.price is not None else None,
                    "currency": found.currency,
                    "score": round(found.score, 4),
                    "reasons": found.reasons,
                }
                for found in self.products
            ],
        }


# -- input -----------------------------------------------------------------------------------


def clean_query(text: str) -> str:
    """The shopper's text, trimmed, or :class:`FinderError` saying what is wrong."""
    text = " ".join(str(text or "").split())
    if not text or not any(char.isalnum() for char in text):
        raise FinderError(_("Please describe what you are looking for."))
    limit = app_settings.FINDER_MAX_QUERY_LENGTH
    if len(text) > limit:
        raise FinderError(
            _("Please keep it to %(limit)d characters; yours has %(length)d.")
            % {"limit": limit, "length": len(text)}
        )
    return text


def _names(user) -> list[str]:
    from ..qa.service import _names as shopper_names

    return shopper_names(user)


# -- the model's reading ---------------------------------------------------------------------

SYSTEM_PROMPT = (
    "You read a shopper's request to an online shop and write the filters it asks for as "
    "one JSON object. Use only the filter names listed, with values of the kind shown. "
    "Leave out every filter the request does not ask for. Write the JSON object only."
)


#: One worked example, about a shop that is not this one: small models copy the form of an
#: answer far better than they follow a description of it. What it says can't leak into
#: results: a proposal must name one of this shop's attributes (and be in the text).
EXAMPLE_FILTERS = (
    "price: the most the shopper will pay, a number\n"
    "colour: one of Blue, Red\n"
    "waterproof: true or false\n"
    'capacity_l: a number l as {"min": n} or {"max": n}, or "high" or "low"'
)
EXAMPLE_REQUEST = "a blue waterproof backpack with at least 20 l for under 60"
EXAMPLE_REPLY = (
    '{"colour": "Blue", "waterproof": true, "capacity_l": {"min": 20}, "price": 60, '
    '"summary": "a blue waterproof backpack"}'
)


def _request(filters: str, text: str) -> str:
    fenced = text.replace('"""', "'''")
    return (
        f"Filters:\n{filters}\n\n"
        'Also add "summary": a few words saying what the shopper wants.\n\n'
        f'Request: """{fenced}"""\n\nJSON:'
    )


def prompt_messages(text: str, vocab: Vocabulary, max_attributes: int = 20) -> list[dict]:
    """The conversation for the model: one worked example, then the shop's filters (those
    the text mentions first) and the shopper's text, fenced as data."""
    text_stems = {t.stem for t in c.tokens(text)}

    def mentioned(attribute) -> bool:
        value_stems = {s for value in attribute.values for s in c.stems(value)}
        return bool((set(attribute.key_stems) | value_stems) & text_stems)

    ranked = sorted(vocab.attributes.values(), key=lambda a: (not mentioned(a), a.code))
    lines = ["price: the most the shopper will pay, a number"]
    lines += [f"{a.code}: {a.describe()}" for a in ranked[:max_attributes]]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _request(EXAMPLE_FILTERS, EXAMPLE_REQUEST)},
        {"role": "assistant", "content": EXAMPLE_REPLY},
        {"role": "user", "content": _request("\n".join(lines), text)},
    ]


def _cache_key(text: str, vocab: Vocabulary) -> str:
    chain = ",".join(app_settings.feature_chain(FEATURE))
    digest = hashlib.sha256(f"{chain}\0{vocab.fingerprint}\0{text}".encode()).hexdigest()
    return f"oscar_gpt:finder:reading:{digest}"


def _trusted(alias: str) -> bool:
    setting = app_settings.FINDER_TRUST_MODEL
    if setting is not None:
        return bool(setting)
    try:
        return llm.get_backend(alias).external
    except BackendError:
        return False


def read_with_model(text: str, vocab: Vocabulary, *, user=None, trace: dict) -> tuple:
    """``(ModelReading or None, fell_back)``: the model's validated constraints, or None
    when it is not used or could not be asked."""
    if not app_settings.FINDER_USE_MODEL:
        return None, False
    key = _cache_key(text, vocab)
    seconds = app_settings.FINDER_CACHE_SECONDS
    stored = cache.get(key) if seconds else None
    if stored is None:
        started = time.perf_counter()
        try:
            completion = llm.chat(
                FEATURE,
                prompt_messages(text, vocab),
                user=user if getattr(user, "is_authenticated", False) else None,
                shopper_text=True,
                names=_names(user),
                max_tokens=app_settings.FINDER_MAX_NEW_TOKENS,
                temperature=0.0,
            )
        except BackendError as exc:  # down, timed out, over budget: go on without it
            logger.info("finder: the model could not be asked (%s); searching without it", exc)
            trace["error"] = type(exc).__name__
            return None, True
        except Exception as exc:  # noqa: BLE001 - a shopper's search never fails for the model
            logger.exception("finder: the model failed; searching without it")
            trace["error"] = type(exc).__name__
            return None, True
        trace["model_ms"] = round((time.perf_counter() - started) * 1000)
        alias = completion.extra.get("backend", "")
        stored = {
            "data": c.parse_reply(completion.text),
            "trusted": _trusted(alias),
            "model": completion.model,
        }
        if seconds:
            cache.set(key, stored, seconds)
    else:
        trace["cached"] = True
    trace["model"] = stored["model"]
    reading = c.from_model(stored["data"], vocab, text, trusted=stored["trusted"])
    trace["dropped"] = reading.dropped
    return reading, False


def checked_summary(summary: str, text: str, vocab: Vocabulary) -> str:
    """The model's reading of the wish, if it may be shown: short, no links, passes the
    wording check, and every word comes from the shopper's text or the shop's vocabulary."""
    from ..qa.retrieval import question_terms
    from ..qa.service import GENERIC_WORDS, external_links

    summary = " ".join(str(summary or "").split())
    if not summary or len(summary) > 160 or external_links(summary):
        return ""
    if not check_product_copy(summary).ok:
        return ""
    known = set(GENERIC_WORDS) | set(question_terms(text))
    for attribute in vocab.attributes.values():
        known.update(question_terms(attribute.name))
        for value in attribute.values.values():
            known.update(question_terms(value))
    for name in vocab.classes.values():
        known.update(question_terms(name))
    known.update(question_terms("shopper wants looking want wants needs need with without"))
    novel = [t for t in question_terms(summary) if t not in known and not t.isdigit()]
    return "" if novel else summary


# -- candidates ------------------------------------------------------------------------------


def _embed_missing(trace: dict) -> None:
    """A new shop, a few new products: embed them now rather than not find them."""
    limit = app_settings.FINDER_EMBED_MISSING
    if not limit:
        return
    missing = list(
        Product.objects.browsable()
        .filter(gpt_vector__isnull=True)
        .values_list("pk", flat=True)[: limit + 1]
    )
    if missing and len(missing) <= limit:
        trace["embedded"] = embeddings.refresh_vectors(missing)
    elif missing:
        logger.warning(
            "finder: more than %d products have no vector; run refresh_vectors() in a task", limit
        )


def _attribute_filter(queryset, constraint: c.Constraint, vocab: Vocabulary):
    attribute = vocab.attributes.get(constraint.attribute)
    if attribute is None:
        return queryset
    values = ProductAttributeValue.objects.filter(attribute__code=attribute.code)
    if constraint.op == c.IS:
        values = values.filter(value_boolean=constraint.value)
    elif constraint.op == c.IN and attribute.type == "option":
        values = values.filter(value_option__option__in=constraint.value)
    elif constraint.op == c.IN and attribute.type == "multi_option":
        values = values.filter(value_multi_option__option__in=constraint.value)
    elif constraint.op == c.IN:
        values = values.filter(value_text__in=constraint.value)
    else:
        return queryset
    return queryset.filter(pk__in=values.values("product_id"))


def candidate_ids(
    vector: np.ndarray | None, constraints: list[c.Constraint], vocab: Vocabulary
) -> dict[int, float]:
    """Product id -> similarity: the closest in meaning, and the closest among the products
    whose attributes match every attribute constraint (which may be far down by meaning).
    Without a vector (no embeddings), the attribute matches alone, similarity 0."""
    wanted = app_settings.FINDER_CANDIDATES
    found = dict(embeddings.nearest(vector, wanted)) if vector is not None else {}
    filters = [k for k in constraints if k.op in (c.IS, c.IN) and k.code in vocab.attributes]
    if filters:
        queryset = Product.objects.browsable()
        for constraint in filters:
            queryset = _attribute_filter(queryset, constraint, vocab)
        ids = list(queryset.values_list("pk", flat=True)[:MAX_ATTRIBUTE_CANDIDATES])
        if ids and vector is not None:
            found.update(embeddings.nearest(vector, wanted, among=ids))
        elif ids:
            found.update(dict.fromkeys(ids[:wanted], 0.0))
    return found


# -- checking products -----------------------------------------------------------------------


def _python_value(value) -> Any:
    attribute = value.attribute
    if attribute.type == attribute.OPTION:
        return str(value.value_option) if value.value_option_id else None
    if attribute.type == attribute.MULTI_OPTION:
        return [str(option) for option in value.value_multi_option.all()]
    if attribute.type == attribute.INTEGER:
        return value.value_integer
    if attribute.type == attribute.FLOAT:
        return value.value_float
    if attribute.type == attribute.BOOLEAN:
        return value.value_boolean
    if attribute.type == attribute.TEXT:
        return value.value_text
    return None


def product_values(products) -> dict[int, dict[str, list]]:
    """Product id -> attribute code -> values; a parent has its children's values too."""
    by_product: dict[int, dict[str, list]] = {p.pk: {} for p in products}
    parents = {p.pk for p in products if p.is_parent}
    rows = (
        ProductAttributeValue.objects.filter(
            Q(product_id__in=list(by_product)) | Q(product__parent_id__in=parents)
        )
        .select_related("attribute", "value_option", "product")
        .prefetch_related("value_multi_option")
    )
    for row in rows:
        owner = row.product.parent_id if row.product.parent_id in parents else row.product_id
        value = _python_value(row)
        if value is None or value == "" or value == []:
            continue
        bucket = by_product.setdefault(owner, {}).setdefault(row.attribute.code, [])
        bucket.extend(value if isinstance(value, list) else [value])
    return by_product


def _fmt(number) -> str:
    return f"{float(number):g}"


@dataclass
class _Check:
    #: "agree", "disagree" or "unknown".
    verdict: str
    #: 0..1, what it adds to the agreement.
    score: float = 0.0
    reason: str = ""


def check(
    constraint: c.Constraint,
    values: dict[str, list],
    price: Decimal | None,
    product,
    vocab: Vocabulary,
    currency: str,
    prices: list[Decimal],
) -> _Check:
    """How one product stands to one constraint, and the reason to show if it agrees."""
    from oscar.templatetags.currency_filters import currency as money

    if constraint.attribute == c.PRICE:
        if price is None:
            return _Check("disagree" if constraint.hard else "unknown")
        if constraint.op == c.AT_MOST:
            if price <= constraint.value:
                word = _("under") if price < constraint.value else _("within")
                return _Check(
                    "agree",
                    1.0,
                    _("%(price)s %(word)s your %(limit)s")
                    % {
                        "price": money(price, currency),
                        "word": word,
                        "limit": money(constraint.value, currency),
                    },
                )
            return _Check("disagree")
        if constraint.op == c.AT_LEAST:
            if price >= constraint.value:
                return _Check(
                    "agree",
                    1.0,
                    _("%(price)s, from your %(limit)s")
                    % {"price": money(price, currency), "limit": money(constraint.value, currency)},
                )
            return _Check("disagree")
        if constraint.op == c.LOW and prices:
            share = (sum(p < price for p in prices) + sum(p == price for p in prices) / 2) / len(
                prices
            )
            score = 1 - share
            if score >= 0.5:
                return _Check(
                    "agree",
                    score,
                    _("%(price)s (one of the cheaper)") % {"price": money(price, currency)},
                )
            return _Check("unknown", score)
        return _Check("unknown")
    if constraint.code == c.PRODUCT_CLASS:
        product_class = product.get_product_class()
        name = product_class.name if product_class is not None else ""
        if name in constraint.value:
            return _Check("agree", 1.0, name)
        return _Check("unknown")
    attribute = vocab.attributes.get(constraint.attribute)
    found = values.get(constraint.attribute, [])
    if attribute is None:
        return _Check("unknown")
    if not found:
        # A number the shopper set a limit on can't be checked: the product is left out.
        return _Check("disagree" if constraint.op in (c.AT_LEAST, c.AT_MOST) else "unknown")
    if attribute.kind == BOOLEAN and constraint.op == c.IS:
        if any(bool(v) == constraint.value for v in found):
            return _Check("agree", 1.0, constraint.describe())
        return _Check("disagree")
    if attribute.kind == CHOICE and constraint.op in (c.IN, c.NOT_IN):
        wanted = {" ".join(words(v)) for v in constraint.value}
        matching = [str(v) for v in found if " ".join(words(str(v))) in wanted]
        if constraint.op == c.IN:
            if matching:
                return _Check(
                    "agree", 1.0, f"{attribute.name}: {', '.join(dict.fromkeys(matching))}"
                )
            return _Check("disagree")
        if matching:
            return _Check("disagree")
        shown = ", ".join(dict.fromkeys(str(v) for v in found))
        return _Check("agree", 1.0, f"{attribute.name}: {shown}")
    if attribute.kind == NUMBER:
        numbers = [float(v) for v in found if isinstance(v, int | float | Decimal)]
        if not numbers:
            return _Check("unknown")
        unit = f" {attribute.unit}" if attribute.unit else ""
        if constraint.op in (c.AT_LEAST, c.AT_MOST):
            limit = float(constraint.value)
            ok = [n for n in numbers if (n >= limit if constraint.op == c.AT_LEAST else n <= limit)]
            if not ok:
                return _Check("disagree")
            bound = _("at least") if constraint.op == c.AT_LEAST else _("at most")
            return _Check(
                "agree",
                1.0,
                f"{attribute.name}: {_fmt(ok[0])}{unit} ({bound} {_fmt(limit)})",
            )
        if constraint.op in (c.HIGH, c.LOW):
            best = max(numbers) if constraint.op == c.HIGH else min(numbers)
            share = attribute.percentile(best)
            score = share if constraint.op == c.HIGH else 1 - share
            if score >= 0.5:
                word = constraint.word or (_("high") if constraint.op == c.HIGH else _("low"))
                return _Check("agree", score, f"{attribute.name}: {_fmt(best)}{unit} ({word})")
            return _Check("unknown", score)
    return _Check("unknown")


# -- finding ---------------------------------------------------------------------------------


def find(text: str, *, user=None, limit: int | None = None, request=None) -> FinderResult:
    """Products that fit the shopper's description, best first, each with its reasons.

    Raises :class:`FinderError` for empty or too long text. Text that names nothing the
    shop has is searched by meaning alone and may honestly find nothing.
    """
    started = time.perf_counter()
    text = clean_query(text)
    limit = max(1, min(int(limit or app_settings.FINDER_RESULTS), 100))
    query = scrub(text, names=_names(user)).text
    vocab = vocabulary()
    trace: dict[str, Any] = {}
    from_text = c.from_text(query, vocab)
    reading, fell_back = read_with_model(query, vocab, user=user, trace=trace)
    constraints = c.merge(from_text, reading.constraints if reading else [])
    summary = checked_summary(reading.summary, query, vocab) if reading else ""

    try:
        _embed_missing(trace)
        vector = embeddings.embed_query(query)
    except Exception:  # noqa: BLE001 - no embeddings: the constraints alone still find
        logger.exception("finder: embedding failed; searching by attributes only")
        trace["embedding_error"] = True
        vector = None
    similarities = candidate_ids(vector, constraints, vocab)
    trace["candidates"] = len(similarities)
    trace["best_similarity"] = round(max(similarities.values(), default=0.0), 3)

    strategy = Selector().strategy(
        request=request, user=user if getattr(user, "is_authenticated", False) else None
    )
    currency = getattr(settings, "OSCAR_DEFAULT_CURRENCY", "")
    products = list(
        Product.objects.browsable()
        .filter(pk__in=list(similarities))
        .select_related("product_class", "parent__product_class")
        .prefetch_related("stockrecords")
    )
    priced = []
    for product in products:
        info = strategy.fetch_for_product(product)
        if not info.availability.is_available_to_buy or not info.price.exists:
            continue
        price = info.price.incl_tax if info.price.is_tax_known else info.price.excl_tax
        currency = info.price.currency or currency
        priced.append((product, price, info.price.currency or currency))
    values = product_values([product for product, _, _ in priced])
    prices = [price for _, price, _ in priced if price is not None]

    floor = app_settings.FINDER_MIN_SIMILARITY
    only_prices = all(k.attribute == c.PRICE for k in constraints)
    found: list[FoundProduct] = []
    for product, price, product_currency in priced:
        similarity = float(similarities.get(product.pk, 0.0))
        checks = [
            check(k, values.get(product.pk, {}), price, product, vocab, product_currency, prices)
            for k in constraints
        ]
        if any(ch.verdict == "disagree" for ch in checks):
            continue
        agreeing = [ch for ch in checks if ch.verdict == "agree"]
        # A price alone doesn't make a kettle an answer to "headphones under £100".
        relevant = [
            ch
            for ch, k in zip(checks, constraints, strict=True)
            if ch.verdict == "agree" and (k.attribute != c.PRICE or only_prices)
        ]
        if not relevant and similarity < floor:
            continue
        if constraints:
            agreement = sum(ch.score for ch in checks) / len(checks)
            score = AGREEMENT_WEIGHT * agreement + (1 - AGREEMENT_WEIGHT) * max(similarity, 0.0)
        else:
            score = similarity
        reasons = [ch.reason for ch in agreeing if ch.reason]
        if not agreeing:
            reasons = [str(_("Close to what you described"))]
        found.append(FoundProduct(product, score, similarity, reasons, price, product_currency))
    found.sort(key=lambda f: (-f.score, -f.similarity, f.product.pk))
    result = FinderResult(
        query=query,
        products=found[:limit],
        constraints=constraints,
        fell_back=fell_back,
        model_used=reading is not None,
        summary=summary,
        currency=currency,
        trace=trace,
    )
    if not result.products:
        if any(k.hard for k in constraints):
            result.message = _(
                "Nothing in the shop matches all of: %(wishes)s. Try leaving one out."
            ) % {"wishes": "; ".join(result.constraint_texts)}
        else:
            result.message = _(
                "Nothing in the shop matched your description. Try other words, or browse "
                "the categories."
            )
    trace["ms"] = round((time.perf_counter() - started) * 1000)
    logger.info(
        "finder: %d results, %d constraints, fell back: %s, %s",
        len(result.products),
        len(constraints),
        fell_back,
        json.dumps({k: v for k, v in trace.items() if k != "dropped"}),
    )
    return result
