"""A product's evidence: its facts as quotable units, with their embeddings stored.

Units come from the shop's own data only: attributes (with their units), description
sentences, approved reviews (Oscar's reviews app) and the product's published FAQ answers.
:func:`evidence_index` returns a ready :class:`~oscar_gpt.qa.retrieval.EvidenceIndex`,
reusing the stored vectors and embedding only texts it has not seen before, so a change to
one attribute costs one embedding.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, replace

import numpy as np
from django.db import IntegrityError, transaction
from oscar.core.loading import get_model

from ..descriptions.facts import attribute_facts, product_facts
from ..grounding import Fact
from ..models import EvidenceSet, Question
from ..privacy import scrub
from .retrieval import LABELS, EvidenceIndex, EvidenceUnit, _split_line, split_sentences

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


# -- what evidence may say to a shopper ------------------------------------------------------

#: A dot in a host name, also as attackers write it to slip past filters ("evil[.]com").
_DOT = r"(?:\.|\[\.\]|\(\.\)|\[dot\]|\(dot\))"
_PATH = r"(?:/[^\s<>\"']*)?"
_LINK = re.compile(
    # A scheme or "www.", whatever follows.
    rf"(?i:(?:https?://|www{_DOT})[^\s<>\"']+)"
    # Dotted names ending in a well-known top-level domain, in any case ("EVIL.COM").
    rf"|(?i:\b[\w-]+(?:{_DOT}[\w-]+)*{_DOT}(?:com|net|org|io|co|uk|de|fr|nl|info|biz|shop|"
    rf"store|xyz|ru|cn)\b){_PATH}"
    # Dotted names ending in any lower-case top-level domain ("bit.ly", "scam.site"); not
    # "2.5 kg", "e.g.", "U.S.A." or "wireless.It".
    rf"|\b[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-z]{{2,6}}\b{_PATH}"
)


def _allowed_hosts() -> set[str]:
    from django.conf import settings

    hosts = set(getattr(settings, "ALLOWED_HOSTS", []) or [])
    return {host.lstrip(".").lower() for host in hosts if host not in ("*", "")}


def external_links(text: str) -> list[str]:
    """Links in ``text`` to anywhere but this shop (``ALLOWED_HOSTS``)."""
    allowed = _allowed_hosts()
    found = []
    for match in _LINK.finditer(text):
        link = match.group(0)
        host = re.sub(r"^(?:https?://)?", "", link, flags=re.IGNORECASE)
        host = re.sub(_DOT, ".", host).split("/")[0].lower()
        host = host.split(":")[0]
        if host not in allowed and not any(host.endswith("." + a) for a in allowed):
            found.append(link)
    return found


_WHO_ANSWERS = r"(?:AI|A\.I\.|assistants?|chat\s?bots?|bots?|language\s+models?|LLMs?|ChatGPT|GPT)"
#: What in a piece of the shop's data speaks to whoever answers from it rather than to a
#: shopper: the prompt's own vocabulary, a role to play, an address to "the AI", an order
#: about what answers must say. Each is a pattern no honest review, attribute or description
#: needs; the case-sensitive ones are where the words have an honest lower-case use.
_INSTRUCTION_PATTERNS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # the prompt and its fences
        r"\bsystem\s*prompt|\b(?:your|the|hidden|original|initial|secret)\s+prompt\b",
        r"\b(?:previous|prior|above|earlier|all|your|new|hidden|original|secret|shop'?s|these|"
        r"those|following|my)\s+(?:rules|instructions|guidelines|directives)\b",
        r"\binstructions?\s+(?:to|for)\s+(?:you|the\s+(?:ai|assistant|bot|model))\b",
        r"<\s*/?\s*(?:system|assistant|user|inst|instructions?)\b[^>]*>",
        r"\[\s*/?\s*(?:system|assistant|user|inst)\s*\]",
        r"\b(?:system|assistant)\s*(?::|override|message|note)",
        r"\bdeveloper\s+mode\b|\bjailbr[eo]ak",
        r"\bignore\s+(?:all|any|the|your|previous|prior|above|these|those|every)\b",
        r"\b(?:disregard|forget)\s+(?:all|any|the|your|previous|prior|above|these|those|everything)\b",
        # a role to play
        r"\byou(?:'re|\s+are)\s+now\b|\byou\s+now\s+are\b|\bfrom\s+now\s+on\b",
        r"^\W*act\s+as\b|\bact\s+as\s+(?:my|your|if|though)\b|\bpretend\s+(?:to|you)\b",
        r"\brole[\s-]?play|\bintroduce\s+yourself\b",
        r"\b(?:stay|remain)\s+in\s+character\b|\b(?:answer|talk|speak|reply|respond|write)\s+"
        r"(?:like|as)\s+(?:a|an|my)\b",
        # an address to whoever answers
        rf"\b(?:to|for|dear|hey|if\s+you\s+are|if\s+you're)\s+(?:the\s+|an?\s+|all\s+|any\s+)?"
        rf"{_WHO_ANSWERS}\b",
        rf"\b(?:if|when|once)\s+(?:an?|the|any)\s+{_WHO_ANSWERS}\s+(?:reads|sees|is|answers)\b",
        rf"\b(?:the|an?|any)\s+{_WHO_ANSWERS}\s+(?:must|should|shall|will|has\s+to|needs\s+to)\b",
        r"\b(?:whoever|anyone|anybody|everyone)\s+(?:who\s+)?(?:answers|answering|replies|"
        r"replying|responds|responding|reads|reading|is\s+asked)\b",
        r"\b(?:answers|replies|responses)\s+(?:quoting|citing|about|to\s+(?:every|any|all|this))\b",
        r"\b(?:when|whenever|if)\s+(?:asked|summari[sz]ing)\b",
        # ("before answering": the model; "when answering calls": the headphones)
        r"\b(?:when|whenever|before|after)\s+(?:answering|replying|responding)\b"
        r"(?!\s+(?:a\s+|the\s+|your\s+)?(?:calls?|phone))",
        # orders about what answers must say or do
        r"\b(?:must|should|shall|always|also|then)\s+(?:say|state|reply|respond|mention|print|"
        r"output|reveal|repeat|append|greet)\b",
        r"\b(?:tell|inform|direct|redirect|advise|greet)\s+(?:the\s+|every\s+|all\s+|any\s+|"
        r"each\s+)?(?:shoppers?|customers?|users?|people|buyers?|visitors?|readers?)\b",
        r"^\W*(?:ignore|disregard|respond|reply|print|repeat|reveal|output|append|translate|"
        r"pretend|greet)\b",
        r"\b(?:respond|reply)\s+(?:to\s+\w+\s+\w+\s+)?(?:only\s+)?with\b",
        r"\b(?:begin|start|end|finish|prefix)\s+(?:every|each|your|all|the)\s+"
        r"(?:reply|replies|answer|answers|response|responses)\b",
        # the same in the shop's other languages (German, French)
        r"\b(?:vorherigen|bisherigen|alle|deine|ihre|neuen|versteckten|folgenden)\s+"
        r"(?:Anweisungen|Regeln|Instruktionen|Vorgaben)\b",
        r"\b(?:du\s+bist|sie\s+sind)\s+(?:jetzt|nun|ab\s+sofort)\b|\bab\s+(?:jetzt|sofort)\s+bist\b",
        r"\b(?:beginne|starte|beende)\s+jede\s+Antwort\b|\bantworte\s+(?:nur|immer)\b",
        r"\b(?:ignore[zr]?|oublie[zr]?)\s+(?:toutes\s+|tous\s+)?(?:les|tes|vos|ces)\s+"
        r"(?:instructions|consignes|règles)\b|\b(?:instructions|consignes|règles)\s+"
        r"(?:précédentes|cachées|système)\b",
        r"\b(?:tu\s+es|vous\s+êtes)\s+(?:maintenant|désormais)\b|\bà\s+partir\s+de\s+maintenant\b",
        r"\b(?:réponds|répondez)\s+(?:uniquement|seulement|toujours)\b|\b(?:commence|commencez)\s+"
        r"chaque\s+réponse\b",
    )
] + [
    # Case matters: "DAN" the jailbreak, not Dan the reviewer; "AI:" addressed, not "AI noise
    # cancelling"; the prompt's "UNKNOWN".
    re.compile(r"\bDAN\b|\bUNKNOWN\b|\bAI\s*[:,]|\bSYSTEM\b"),
]
#: Where a sentence splits into pieces judged on their own: clauses and triple quotes.
_PIECES = re.compile(r'\s*(?:;|""")\s*')


def speaks_to_the_answerer(text: str) -> bool:
    """Whether ``text`` (a sentence or clause of the shop's data) gives orders to whoever
    answers from it, or links to another site: an injection, not a fact about the product."""
    return bool(external_links(text)) or any(p.search(text) for p in _INSTRUCTION_PATTERNS)


def without_instructions(text: str) -> str:
    """``text`` with its sentences (or clauses) that speak to the answerer taken out.

    Reviews, attribute values and descriptions are data: the prompt fences them, and what a
    shopper is shown of them (an answer's evidence, a quote in its place) and what an answer
    may draw on leave out any part that tries to instruct the model or send shoppers
    elsewhere. Everything else stays as the shop wrote it.
    """
    kept_lines = []
    for line in text.split("\n"):
        kept = []
        for sentence in _split_line(line.strip(), cased=True) if line.strip() else []:
            pieces = [piece for piece in _PIECES.split(sentence) if piece]
            good = [piece for piece in pieces if not speaks_to_the_answerer(piece)]
            if len(good) == len(pieces) and '"""' not in sentence:
                kept.append(sentence)
            elif good:
                joint = " " if '"""' in sentence else "; "
                kept.append(joint.join(good).rstrip(";,: "))
        if kept:
            kept_lines.append(" ".join(kept))
    cleaned = "\n".join(kept_lines).strip()
    return cleaned if any(char.isalnum() for char in cleaned) else ""


def shown_units(units: list[EvidenceUnit]) -> list[EvidenceUnit]:
    """``units`` as an answer may use and show them: without instructions, and without the
    units that were nothing but instructions."""
    shown = []
    for unit in units:
        text = without_instructions(unit.text)
        if text:
            shown.append(unit if text == unit.text else replace(unit, text=text))
    return shown
