"""Shopper Q&A: ask, answer from the shop's own facts, hand off to staff, publish an FAQ.

Every door (the product page's widget, the JSON endpoints, the DRF API, the staff queue,
the Celery task) calls these functions::

    question = ask(product, "What is the battery life?", user=request.user)
    # ... a worker runs answer(question.pk) ...
    status_payload(question)  # {"status": "answered", "answer": "...", "evidence": [...]}

Answering is careful by construction: the relevance gate decides whether the product's
evidence can answer at all; the model sees only the best evidence, fenced as data, and the
question scrubbed of personal data; its answer must cite the evidence and state nothing the
cited evidence does not support (the claims checker), contain no links to other sites and
none of its instructions, and not stop mid-way at the token limit. Otherwise the shopper
gets the evidence itself, quoted with its source, or an honest "we don't know yet" while the
question waits for staff.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import router, transaction
from django.db.models import F, Model, Q, Subquery
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import audit, llm
from ..app_settings import app_settings
from ..descriptions.prompts import unfence
from ..grounding import Fact, check_claims
from ..llm.errors import BackendError
from ..models import EvidenceSet, Question
from ..privacy import scrub
from ..wording import check_product_copy
from .evidence import evidence_index, external_links, shown_units, unit_as_dict
from .language import answer_language, language_name
from .retrieval import LABELS, EvidenceUnit, Scored, question_terms, relevance_gate

logger = logging.getLogger(__name__)

FEATURE = "qa"
#: What a shopper reads while nobody knows the answer yet.
DONT_KNOW = gettext_lazy("We don't know yet. Our team will answer your question.")
#: The least cosine a unit needs to join the best one in the model's evidence.
CONTEXT_FLOOR = 0.30


class QuestionError(ValueError):
    """The shopper's input can't be accepted; the message says why, for a 400 response."""


# -- asking ----------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise(text: str) -> str:
    """A key for "the same question": case, punctuation and spacing don't count."""
    words = _NOT_WORD.sub(" ", text.lower()).split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def clean_question(text: str) -> str:
    """The question as asked, trimmed, or :class:`QuestionError` saying what is wrong."""
    text = " ".join(str(text or "").split())
    if not text or not any(char.isalnum() for char in text):
        raise QuestionError(_("Please write your question."))
    limit = app_settings.QA_MAX_QUESTION_LENGTH
    if len(text) > limit:
        raise QuestionError(
            _("Questions can be at most %(limit)d characters long; yours has %(length)d.")
            % {"limit": limit, "length": len(text)}
        )
    return text


def _names(user) -> list[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [name for name in (user.get_full_name(), user.first_name, user.last_name) if name]


def ask(
    product,
    text: str,
    *,
    user=None,
    session_key: str = "",
    email: str = "",
    notify: bool = False,
    language: str | None = None,
    enqueue: bool = True,
) -> Question:
    """Store a shopper's question and start answering it.

    The same question already answered on this product (and still true to the product's
    facts) is answered at once from the stored answer, without a model call; any other is
    queued for :func:`answer` in a worker. Raises :class:`QuestionError` for bad input.

    ``product``: a product, or a public product's id. With an id the product is not read
    for a question answered from a stored answer (the one query that finds the answer also
    checks the product is public); otherwise it is, and ``Product.DoesNotExist`` says there
    is no such public product.
    """
    text = clean_question(text)
    email = (email or "").strip()
    if notify:
        if not email and user is not None and getattr(user, "is_authenticated", False):
            email = user.email
        try:
            validate_email(email)
        except ValidationError as exc:
            raise QuestionError(
                _("Please give a valid e-mail address to be told of the answer.")
            ) from exc
    # Stored and sent scrubbed: the question may hold an address, a phone number, a name.
    clean = scrub(text, names=_names(user)).text
    question = Question(
        **({"product": product} if isinstance(product, Model) else {"product_id": int(product)}),
        text=clean,
        normalised=normalise(clean),
        language=answer_language(clean, language or translation.get_language()),
        user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        session_key=session_key or "",
        email=email if notify else "",
        notify=bool(notify),
    )
    stored = stored_answer(product, question.normalised)
    if stored is not None:
        _copy_answer(question, stored)
        question.save()
        return question
    if not isinstance(product, Model):
        question.product = Question.product.field.related_model.objects.get(
            pk=question.product_id, is_public=True
        )
    question.save()
    if enqueue:
        transaction.on_commit(lambda: _enqueue(question.pk))
    return question


def _enqueue(question_id: int) -> None:
    from ..tasks import answer_question

    answer_question.delay(question_id)


def reusable_answers(product):
    """Answers on ``product`` (a product or its id) that may answer the same question again:
    not reported, and made from the product's current facts (staff and FAQ answers stay good).

    A stored answer (a copy) is reusable only while the answer it copied is: a shopper's
    report on any copy counts against the original (:func:`report`), and so stops them all.
    One query: the product's current fingerprint is a subquery.
    """
    current = EvidenceSet.objects.filter(product=product).values("fingerprint")[:1]
    fresh = (
        Q(source=Question.Source.STAFF)
        | Q(published=True)
        | (Q(fingerprint=Subquery(current)) & ~Q(fingerprint=""))
    )
    return (
        Question.objects.filter(product=product, status=Question.Status.ANSWERED, reports=0)
        .exclude(answer="")
        .filter(fresh)
        .filter(Q(answered_from__isnull=True) | Q(answered_from__reports=0))
        .order_by("-published", "-answered_at", "-id")
    )


#: What :func:`_copy_answer` reads of the stored answer.
_COPIED = ("pk", "answer", "evidence", "fingerprint", "answered_from_id")
#: Stand-ins for a product id and a question key while the stored-answer query is compiled:
#: no product has a negative id, and a key is 64 hexadecimal digits.
_PRODUCT_MARK = -7_654_321
_KEY_MARK = "oscar-gpt: the question's key"
#: Per database alias: the stored-answer query's SQL and parameters, and where the product
#: id and the key go among them (None: the query could not be reused; the ORM runs each time).
_STORED_SQL: dict[str, tuple[str, tuple, list[int], list[int]] | None] = {}


def stored_answer(product, key: str) -> Question | None:
    """The answer to reuse for the question ``key`` (:func:`normalise`) on ``product`` (a
    product or its id), or None: the first of ``reusable_answers(product)`` with that key,
    if the product is public (a hidden product's answers are not shown).

    The queryset's SQL is compiled once per database and run with each ask's product and key:
    building and compiling it cost three times the query itself, on the path that answers a
    question asked before.
    """
    alias = router.db_for_read(Question)
    if alias not in _STORED_SQL:
        queryset = _stored_answers(_PRODUCT_MARK, _KEY_MARK)
        sql, params = queryset[:1].query.get_compiler(alias).as_sql()
        products = [i for i, value in enumerate(params) if value == _PRODUCT_MARK]
        keys = [i for i, value in enumerate(params) if value == _KEY_MARK]
        # The product's id: the questions' and the evidence set's; the key once.
        ok = len(products) == 2 and len(keys) == 1
        _STORED_SQL[alias] = (sql, tuple(params), products, keys) if ok else None
    compiled = _STORED_SQL[alias]
    if compiled is None:
        return _stored_answers(product, key).first()
    sql, template, products, keys = compiled
    params = list(template)
    for index in products:
        params[index] = getattr(product, "pk", product)
    for index in keys:
        params[index] = key
    return next(iter(Question.objects.db_manager(alias).raw(sql, params)), None)


def _stored_answers(product, key: str):
    return reusable_answers(product).filter(normalised=key, product__is_public=True).only(*_COPIED)


def _copy_answer(question: Question, stored: Question) -> None:
    question.status = Question.Status.ANSWERED
    question.source = Question.Source.STORED
    question.answer = stored.answer
    question.evidence = stored.evidence
    question.fingerprint = stored.fingerprint
    question.answered_from_id = stored.answered_from_id or stored.pk
    question.answered_at = timezone.now()
    question.trace = {"stored": stored.pk}


# -- answering -------------------------------------------------------------------------------


@dataclass
class ParsedAnswer:
    text: str
    cited: list[int] = field(default_factory=list)
    unknown: bool = False


_CITATION = re.compile(r"\[\s*E?\s*(\d{1,2})(?:\s*[,;]\s*E?\s*(\d{1,2}))*\s*\]", re.IGNORECASE)
_CITED_NUMBER = re.compile(r"\d{1,2}")
_UNKNOWN = re.compile(r"^\W*unknown\b", re.IGNORECASE)
#: Quotation marks the small model likes to put around its answer.
_QUOTES = '"\u201c\u201d'


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def reply_end(raw: str) -> int | None:
    """Where a reply's answer ends, once it has: at the first blank line after some text, or
    at the end of the first line that cites evidence. The prompt asks for one sentence that
    ends with its evidence ids; what a model writes after that (more "[E2] ..." lines, a
    second paragraph) is not the answer. None: not ended yet."""
    start = len(raw) - len(raw.lstrip())
    ends = []
    blank = _BLANK_LINE.search(raw, start)
    if blank is not None:
        ends.append(blank.start())
    line = start
    while (newline := raw.find("\n", line)) >= 0:
        if _CITATION.search(raw, line, newline):
            ends.append(newline)
            break
        line = newline + 1
    return min(ends) if ends else None


def reply_ended(raw: str) -> bool:
    """``stop_when`` for the model: nothing after :func:`reply_end` is read, so the local
    model stops there instead of writing up to ``QA_MAX_NEW_TOKENS``."""
    return reply_end(raw) is not None


def parse_answer(raw: str) -> ParsedAnswer:
    """The model's reply as shopper text: cut at :func:`reply_end`, citations taken out,
    "UNKNOWN" recognised."""
    end = reply_end(raw)
    if end is not None:
        raw = raw[:end]
    text = raw.strip().strip('"').strip()
    if _UNKNOWN.match(text) or text.upper().rstrip(".") == "UNKNOWN":
        return ParsedAnswer("", unknown=True)
    cited: list[int] = []
    for match in _CITATION.finditer(text):
        cited += [int(n) for n in _CITED_NUMBER.findall(match.group(0))]
    text = _CITATION.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split())).strip()
    # '"Battery life: 30 hours" [E1]': the quotes go once the citation has.
    # (A fence's triple quotes stay, for the markup check to see.)
    if '"""' not in text:
        text = text.strip(_QUOTES).strip()
    return ParsedAnswer(text, cited=list(dict.fromkeys(cited)))


def _shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = _NOT_WORD.sub(" ", text.lower()).split()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def question_template(product=None):
    """The question prompt for ``product``: its class's own where the shop has one."""
    product_class = product.get_product_class() if product is not None else None
    class_slug = getattr(product_class, "slug", "") or ""
    return select_template(
        [f"oscar_gpt/prompts/qa_question-for-class-{class_slug}.txt"] * bool(class_slug)
        + ["oscar_gpt/prompts/qa_question.txt"]
    )


def _instructions_text(language_name_: str, product=None) -> str:
    system = render_to_string("oscar_gpt/prompts/qa_system.txt")
    instruction = question_template(product).render(
        {"title": "", "units": [], "question": "", "language_name": language_name_}
    )
    return f"{system}\n{instruction}"


def leaks_instructions(answer: str, language_name_: str = "English", product=None) -> bool:
    """Whether ``answer`` repeats six words in a row of the prompt's instructions (the
    question prompt of ``product``'s class, where it has its own)."""
    return bool(_shingles(answer) & _shingles(_instructions_text(language_name_, product)))


def build_messages(question: Question, product, units: list[EvidenceUnit]) -> list[dict]:
    context = {
        "title": unfence(product.get_title()),
        "units": [replace(unit, text=unfence(unit.text)) for unit in units],
        "question": unfence(question.text),
        "language_name": language_name(question.language),
    }
    return [
        {"role": "system", "content": render_to_string("oscar_gpt/prompts/qa_system.txt").strip()},
        {"role": "user", "content": question_template(product).render(context).strip()},
    ]


def _facts(product, units: list[EvidenceUnit]) -> list[Fact]:
    """What an answer citing ``units`` may state: the product's identity and those units."""
    from ..descriptions.facts import attribute_facts

    facts = [Fact(name="Title", value=product.get_title(), source="title")]
    product_class = product.get_product_class()
    if product_class is not None:
        facts.append(Fact(name="Product class", value=product_class.name, source="class"))
    attributes = {f"attr:{a.code}": a for a in attribute_facts(product)}
    if product.is_child and product.parent_id:
        for a in attribute_facts(product.parent):
            attributes.setdefault(f"attr:{a.code}", a)
    for unit in units:
        attribute = attributes.get(unit.id)
        # An attribute with instructions taken out of its value states only what is left.
        if attribute is not None and attribute.text == unit.text:
            value = attribute.value
            value = float(value) if hasattr(value, "as_tuple") else value
            facts.append(Fact(name=attribute.name, value=value, unit=attribute.unit))
        else:
            facts.append(Fact(name=unit.label, value=unit.text, source=unit.kind))
    return facts


def _context_units(results: list[Scored], best: Scored) -> list[EvidenceUnit]:
    units = [best.unit]
    for result in results:
        if len(units) >= app_settings.QA_EVIDENCE_COUNT:
            break
        if result.unit.id != best.unit.id and result.semantic >= CONTEXT_FLOOR:
            units.append(result.unit)
    return units


def _scores(results: list[Scored]) -> list[dict]:
    return [
        {
            "id": r.unit.id,
            "score": round(r.score, 4),
            "semantic": round(r.semantic, 4),
            "lexical": round(r.lexical, 4),
        }
        for r in results
    ]


def _near_identical(question: Question, vector: np.ndarray) -> Question | None:
    threshold = app_settings.QA_SAME_QUESTION_SIMILARITY
    base = question.language.split("-")[0]
    best, best_score = None, threshold
    candidates = reusable_answers(question.product).exclude(pk=question.pk).exclude(vector=b"")
    for other in candidates.only("pk", "vector", "language", "answered_from")[:200]:
        if other.language.split("-")[0] != base:
            continue
        other_vector = np.frombuffer(bytes(other.vector), dtype=np.float32)
        if other_vector.shape != vector.shape:
            continue
        score = float(other_vector @ vector)
        if score >= best_score:
            best, best_score = other, score
    if best is None:
        return None
    return Question.objects.get(pk=best.pk)


#: How long a worker holds the questions it claimed while it generates their answers.
CLAIM_SECONDS = 120


class QuestionBusy(Exception):
    """Another worker holds the question (it is generating its answer right now)."""

    def __init__(self, seconds: float):
        super().__init__(f"claimed by another worker for {seconds:.0f} s more")
        self.seconds = seconds


def answer(question_id: int) -> Question | None:
    """Answer a queued question (the work of the Celery task). Safe to run twice.

    Other questions waiting at the same moment are answered with it, in one batch of model
    calls (``QA_BATCH_SIZE``): shoppers who ask together wait for one generation, not for
    each other's. Rows are claimed with ``SKIP LOCKED`` and marked ``claimed_until`` before
    the model runs (outside the transaction), so two workers never generate for the same
    question. Raises :class:`QuestionBusy` when another worker holds ``question_id``: the
    task looks again once that claim has run out.
    """
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        waiting = list(
            Question.objects.filter(free, status=Question.Status.QUEUED)
            .exclude(pk=question_id)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[: max(0, app_settings.QA_BATCH_SIZE - 1)]
        )
        claimed = list(
            Question.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("product", "user")
            .filter(free, pk__in=[question_id, *waiting], status=Question.Status.QUEUED)
            .order_by("created_at", "id")
        )
        until = now + timedelta(seconds=CLAIM_SECONDS)
        Question.objects.filter(pk__in=[q.pk for q in claimed]).update(claimed_until=until)
    # Outside the transaction: a generation must not hold the database (SQLite's write lock,
    # PostgreSQL's budget rows) for seconds.
    if claimed:
        try:
            _answer_together(claimed)
        finally:  # answered, handed off, or failed: either way no longer this worker's
            Question.objects.filter(pk__in=[q.pk for q in claimed]).update(claimed_until=None)
    question = Question.objects.select_related("product").filter(pk=question_id).first()
    if (
        question is not None
        and question.status == Question.Status.QUEUED
        and question.claimed_until is not None
        and question.claimed_until > timezone.now()
        and all(q.pk != question_id for q in claimed)
    ):
        raise QuestionBusy((question.claimed_until - timezone.now()).total_seconds())
    return question


@dataclass
class _Pending:
    """A question that passed the gate and waits for the model."""

    question: Question
    units: list[EvidenceUnit]
    best: Scored


def _answer_together(questions: list[Question]) -> None:
    pending: list[_Pending] = []
    for question in questions:
        ready = _prepare(question)
        if ready is not None:
            pending.append(ready)
    if not pending:
        return
    names = sorted({name for item in pending for name in _names(item.question.user)})
    try:
        completions = llm.chat_batch(
            FEATURE,
            [build_messages(p.question, p.question.product, p.units) for p in pending],
            objs=[p.question for p in pending],
            user=pending[0].question.user if len(pending) == 1 else None,
            shopper_text=True,
            names=names,
            max_tokens=app_settings.QA_MAX_NEW_TOKENS,
            temperature=0.0,
            stop_when=[
                stop_when_refused(p.question.product, p.units, p.question.text) for p in pending
            ],
        )
    except BackendError as exc:
        if exc.retryable:
            raise  # the task tries again later; give_up() hands it off in the end
        # Over budget, refused, misconfigured: staff answer instead; nothing is lost.
        for item in pending:
            item.question.trace["error"] = type(exc).__name__
            _hand_off(item.question)
        return
    for item, completion in zip(pending, completions, strict=True):
        _conclude(item, completion)


def _prepare(question: Question) -> _Pending | None:
    """Everything before the model: moderation, evidence, stored answers, the gate. Returns
    None when the question is settled without the model."""
    product = question.product
    moderation = llm.moderate(
        FEATURE, question.text, obj=question, user=question.user, names=_names(question.user)
    )
    if moderation.flagged:
        # Not answered, not shown to anyone, not reused; staff see why in the queue.
        question.trace = {"moderation": moderation.categories}
        question.status = Question.Status.REJECTED
        question.reject_reason = Question.RejectReason.OTHER
        _finish(question)
        return None
    index = evidence_index(product)
    vector = np.asarray(index._get_embedder().embed([question.text])[0], dtype=np.float32)
    question.vector = vector.tobytes()
    question.fingerprint = index.fingerprint
    stored = _near_identical(question, vector)
    if stored is not None:
        _copy_answer(question, stored)
        question.trace["similar"] = True
        _finish(question)
        return None
    results = index.search(question.text, k=8, question_vector=vector)
    decision = relevance_gate(
        results, min_semantic=app_settings.QA_MIN_SEMANTIC, min_score=app_settings.QA_MIN_SCORE
    )
    question.trace = {"gate": decision.reason, "results": _scores(results)}
    if not decision.answerable:
        _hand_off(question)
        return None
    return _Pending(question, _context_units(results, decision.best), decision.best)


def _conclude(item: _Pending, completion) -> None:
    question = item.question
    verdict = check_answer(
        completion.text,
        question.product,
        item.units,
        question.language,
        question.text,
        cut_off=completion.finish_reason == "length",
    )
    question.trace |= {"model": completion.model, "check": verdict.as_trace()}
    if verdict.unknown:
        _hand_off(question)
        return
    # A quote is the best evidence as the shopper may see it: without instructions that came
    # in it; none when it was nothing but instructions (then staff answer).
    quote = shown_units([item.best.unit])
    if verdict.ok:
        question.answer = verdict.text
        question.source = Question.Source.MODEL
        question.evidence = [unit_as_dict(u) for u in verdict.cited_units]
    elif app_settings.QA_ON_FAILED_CHECK == "quote" and quote:
        question.answer = quote[0].text
        question.source = Question.Source.QUOTE
        question.evidence = [unit_as_dict(quote[0])]
    else:
        _hand_off(question)
        return
    question.status = Question.Status.ANSWERED
    question.answered_at = timezone.now()
    _finish(question)


@dataclass
class AnswerCheck:
    text: str
    cited_units: list[EvidenceUnit]
    unknown: bool = False
    cited: bool = True
    problems: list[str] = field(default_factory=list)
    claims: dict = field(default_factory=dict)
    novel_words: list[str] = field(default_factory=list)
    wording: dict = field(default_factory=dict)
    #: Ids of the cited units whose instructions were taken out (staff see where an attack is).
    instructions_removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unknown and not self.problems

    def as_trace(self) -> dict:
        return {
            "ok": self.ok,
            "unknown": self.unknown,
            "cited": self.cited,
            "cited_ids": [u.id for u in self.cited_units],
            "problems": self.problems,
            "novel_words": self.novel_words,
            "wording": self.wording,
            "claims": self.claims,
            "instructions_removed": self.instructions_removed,
        }


#: Words any answer may use without evidence for them.
GENERIC_WORDS = frozenset(
    question_terms(
        "yes no not product item it they this these that one ones has have having comes come "
        "features feature offers offer include includes including made make use used using "
        "up about approximately around roughly over under only both each per also well "
        "good great nice suitable fine sure unfortunately however but and or answer question "
        "according specification specifications description review reviews customer customers "
        "say says said state states stated list listed mention mentions mentioned "
        "fact facts available cannot"
    )
)


def unsupported_words(
    text: str, product, units: list[EvidenceUnit], question: str = ""
) -> list[str]:
    """Content words of an answer found neither in its cited evidence, nor in the question,
    nor in the product's title, class or categories: "smartwatch" in an answer about
    headphones. Numbers are left to the claims check."""
    return _novel_terms(text, _known_terms(product, units, question))


def _known_terms(product, units: list[EvidenceUnit], question: str) -> set[str]:
    known = set(GENERIC_WORDS)
    sources = [question, product.get_title()]
    product_class = product.get_product_class()
    if product_class is not None:
        sources.append(product_class.name)
    sources += [category.name for category in product.get_categories().all()]
    sources += [unit.text for unit in units]
    for source in sources:
        known.update(question_terms(source))
    return known


def _novel_terms(text: str, known: set[str]) -> list[str]:
    novel = []
    for term in question_terms(text):
        if term in known or any(char.isdigit() for char in term) or len(term) < 3:
            continue
        if term not in novel:
            novel.append(term)
    return novel


#: The last place a word ends for good: a space or a sentence's punctuation.
_LAST_WORD_END = re.compile(r"[\s.,;:!?][^\s.,;:!?]*\Z")


def _finished_words(raw: str) -> str:
    """The part of a reply still being written whose words are final: up to the last space
    or punctuation, and before a citation still open ("word[E1, E2]more" reads "wordmore"
    once :func:`parse_answer` takes the citation out), citations taken out."""
    end = _LAST_WORD_END.search(raw)
    text = raw[: end.start()] if end else ""
    opened = text.rfind("[")
    if opened > text.rfind("]"):
        end = _LAST_WORD_END.search(text[:opened])
        text = text[: end.start()] if end else ""
    return _CITATION.sub("", text)


def stop_when_refused(product, units: list[EvidenceUnit], question: str):
    """``stop_when`` for the reply to ``question`` from ``units``: where it has ended
    (:func:`reply_ended`), or as soon as the checks must refuse it whatever comes next. That
    is when its finished words hold more than ``QA_MAX_UNSUPPORTED_WORDS`` content words
    that none of ``units``, the question or the product's names have: the check reads only
    the evidence the reply cites, a part of ``units``, so it finds those words too. The
    shopper gets the same outcome (the quote, or staff), without waiting for the rest of a
    reply nobody will read. Runs in the model's thread: no database access."""
    known = _known_terms(product, units, question)
    limit = app_settings.QA_MAX_UNSUPPORTED_WORDS

    def stop(raw: str) -> bool:
        if reply_ended(raw):
            return True
        return len(_novel_terms(_finished_words(raw), known)) > limit

    return stop


def check_answer(
    raw: str,
    product,
    units: list[EvidenceUnit],
    language: str,
    question_text: str = "",
    *,
    cut_off: bool = False,
) -> AnswerCheck:
    """Whether the model's reply may be shown: see the module's doc. ``cut_off``: the reply
    ran into the token limit (``finish_reason`` "length"); unless it had already ended
    (:func:`reply_end`), it stops mid-way and is not shown. (Keeping its full sentences
    was tried on 400 ePQA questions: 2 of the 3 replies it let through were a bare
    preamble, "The answer to the question is:.", that no check has ground to refuse.)"""
    parsed = parse_answer(raw)
    if parsed.unknown:
        return AnswerCheck("", [], unknown=True)
    if cut_off and reply_end(raw) is None:
        check = AnswerCheck(parsed.text, [], cited=bool(parsed.cited))
        check.problems.append("cut_off")
        return check
    cited_units = [units[n - 1] for n in parsed.cited if 1 <= n <= len(units)]
    # The answer may draw on, and shows, its evidence as data only: a review's or an
    # attribute's instructions to the model are no support for anything it says.
    drawn_on = cited_units or units[:1]
    shown = shown_units(drawn_on)
    check = AnswerCheck(parsed.text, shown, cited=bool(cited_units))
    check.instructions_removed = [u.id for u in drawn_on if u not in shown]
    if len(parsed.text) < 2 or not any(char.isalnum() for char in parsed.text):
        check.problems.append("empty")
        return check
    if not shown:
        check.problems.append("evidence_instructions")
    if not cited_units:
        # The prompt requires citations: an answer that names no evidence can't be checked
        # against what it drew on, so it isn't shown.
        check.problems.append("uncited")
    if '"""' in parsed.text or "[E" in parsed.text:
        check.problems.append("prompt_markup")
    if leaks_instructions(parsed.text, language_name(language), product):
        check.problems.append("instructions")
    if external_links(parsed.text):
        check.problems.append("external_link")
    novel = unsupported_words(parsed.text, product, check.cited_units, question_text)
    if len(novel) > app_settings.QA_MAX_UNSUPPORTED_WORDS:
        check.problems.append("unsupported_words")
    check.novel_words = novel
    wording = check_product_copy(parsed.text, product, language)
    if not wording.ok:
        check.problems.append("wording")
        check.wording = wording.as_dict()
    report = check_claims(
        parsed.text, _facts(product, check.cited_units), language=language.split("-")[0]
    )
    check.claims = report.as_dict()
    if not report.ok:
        check.problems.append("unsupported_claims")
    return check


def give_up(question_id: int, reason: str) -> Question | None:
    """The model could not be reached in time: the question goes to staff."""
    question = Question.objects.filter(pk=question_id, status=Question.Status.QUEUED).first()
    if question is None:
        return None
    question.trace = question.trace | {"error": reason}
    return _hand_off(question)


def _hand_off(question: Question) -> Question:
    question.status = Question.Status.NEEDS_STAFF
    question.answer = ""
    question.source = ""
    question.evidence = []
    return _finish(question)


def _finish(question: Question) -> Question:
    """Save the outcome unless another run of the task got there first."""
    fields = [
        "status",
        "answer",
        "source",
        "evidence",
        "trace",
        "fingerprint",
        "vector",
        "answered_from",
        "answered_at",
        "reject_reason",
    ]
    values = {name: getattr(question, name) for name in fields}
    updated = Question.objects.filter(pk=question.pk, status=Question.Status.QUEUED).update(
        **values
    )
    if not updated:
        question.refresh_from_db()
    return question


# -- what the shopper sees -----------------------------------------------------------------


def status_payload(question: Question) -> dict:
    """The question's state for the widget and the API (nothing internal: no trace)."""
    with translation.override(question.language):
        payload = {
            "id": str(question.public_id),
            "question": question.text,
            "status": question.status,
            "done": question.done,
            "answer": question.answer if question.status == Question.Status.ANSWERED else "",
            "source": question.source,
            "evidence": [
                {
                    "label": str(LABELS.get(e.get("kind"), "")) or e.get("label", ""),
                    "text": e["text"],
                }
                for e in question.evidence
            ]
            if question.status == Question.Status.ANSWERED
            else [],
            "message": "",
        }
        if question.status == Question.Status.NEEDS_STAFF:
            payload["message"] = str(DONT_KNOW)
            if question.notify and question.email:
                payload["message"] += " " + _("We will e-mail you the answer.")
        elif question.status == Question.Status.REJECTED:
            payload["message"] = _("This question won't be answered.")
        elif (
            question.status == Question.Status.ANSWERED and question.source == Question.Source.QUOTE
        ):
            payload["message"] = _("Here is what we know:")
    return payload


def faq(product, *, limit: int | None = None):
    """The product's published questions and answers, newest first."""
    questions = Question.objects.filter(
        product=product, published=True, status=Question.Status.ANSWERED
    ).order_by("-answered_at", "-id")
    return questions[:limit] if limit else questions


def report(question: Question, reason: str = "") -> Question:
    """A shopper found the answer unhelpful or wrong: staff see it in their queue, and the
    answer is not reused for other shoppers until staff have looked at it."""
    reason = " ".join(str(reason or "").split())[:500]
    # A stored answer's report counts against the answer it copied too, so it stops being
    # given to the next shopper.
    ids = [question.pk] + ([question.answered_from_id] if question.answered_from_id else [])
    Question.objects.filter(pk__in=ids).update(
        reports=F("reports") + 1, report_reason=scrub(reason).text if reason else ""
    )
    question.refresh_from_db()
    return question


# -- staff -----------------------------------------------------------------------------------


def staff_queue(*, status: str = "open", product=None):
    """Questions staff should look at: ``open`` (waiting or reported), ``waiting``,
    ``reported``, ``answered``, ``published``, ``rejected``, or ``all``."""
    questions = Question.objects.select_related("product", "answered_by")
    if product is not None:
        questions = questions.filter(product=product)
    filters = {
        "open": Q(status=Question.Status.NEEDS_STAFF) | Q(reports__gt=0),
        "waiting": Q(status=Question.Status.NEEDS_STAFF),
        "reported": Q(reports__gt=0),
        "answered": Q(status=Question.Status.ANSWERED),
        "published": Q(published=True),
        "rejected": Q(status=Question.Status.REJECTED),
        "all": Q(),
    }
    if status not in filters:
        raise QuestionError(_("Unknown filter: %(status)s") % {"status": status})
    return questions.filter(filters[status]).order_by("-reports", "created_at", "id")


def staff_answer(question: Question, text: str, *, user, publish: bool = False) -> Question:
    """Staff answer (or correct) a question; optionally publish it to the product's FAQ.

    The shopper is e-mailed where they left an address and asked to be told.
    """
    text = " ".join(str(text or "").split()) if "\n" not in str(text) else str(text).strip()
    if not text:
        raise QuestionError(_("Please write an answer."))
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        before = question.answer
        question.answer = text
        question.source = Question.Source.STAFF
        question.evidence = []  # staff speak for themselves: the model's evidence goes
        question.status = Question.Status.ANSWERED
        question.answered_by = user
        question.answered_at = timezone.now()
        question.reports = 0
        question.reject_reason = ""
        question.published = bool(publish)
        question.save()
        audit.record(audit.Action.QUESTION_ANSWERED, question, user=user, before=before, after=text)
        if publish:
            audit.record(audit.Action.QUESTION_PUBLISHED, question, user=user, after=text)
        if question.notify and question.email and question.notified_at is None:
            transaction.on_commit(lambda: notify_shopper(question.pk))
    _refresh_evidence_later(question.product_id)
    return question


def set_published(question: Question, published: bool, *, user=None) -> Question:
    if published and (question.status != Question.Status.ANSWERED or not question.answer):
        raise QuestionError(_("Only an answered question can go into the FAQ."))
    with transaction.atomic():
        Question.objects.filter(pk=question.pk).update(published=published)
        question.refresh_from_db()
        action = audit.Action.QUESTION_PUBLISHED if published else audit.Action.QUESTION_UNPUBLISHED
        audit.record(action, question, user=user, after=question.answer)
    _refresh_evidence_later(question.product_id)
    return question


def reject(question: Question, reason: str, *, user=None) -> Question:
    """Spam or off-topic: never answered, never shown, never reused."""
    if reason not in Question.RejectReason.values:
        raise QuestionError(_("Choose why the question is rejected."))
    audit.record(
        audit.Action.QUESTION_REJECTED, question, user=user, before=question.answer, reason=reason
    )
    Question.objects.filter(pk=question.pk).update(
        status=Question.Status.REJECTED,
        reject_reason=reason,
        published=False,
        answer="",
        reports=0,
        answered_by=user,
        email="",
    )
    question.refresh_from_db()
    _refresh_evidence_later(question.product_id)
    return question


def suggest(question: Question, *, user=None) -> Question:
    """A model-drafted answer staff can edit, from the best evidence (no gate); its claims
    check is kept so staff see what it says beyond the facts."""
    product = question.product
    index = evidence_index(product)
    results = index.search(question.text, k=8)
    if not results:
        question.suggestion = ""
        question.save(update_fields=["suggestion"])
        return question
    units = _context_units(results, results[0])
    completion = llm.chat(
        FEATURE,
        build_messages(question, product, units),
        obj=question,
        user=user,
        shopper_text=True,
        names=_names(question.user),
        max_tokens=app_settings.QA_MAX_NEW_TOKENS,
        temperature=0.0,
        stop_when=reply_ended,
    )
    verdict = check_answer(
        completion.text,
        product,
        units,
        question.language,
        question.text,
        cut_off=completion.finish_reason == "length",
    )
    question.suggestion = verdict.text
    question.trace = question.trace | {"suggestion": verdict.as_trace()}
    question.save(update_fields=["suggestion", "trace"])
    return question


def notify_shopper(question_id: int) -> bool:
    """E-mail the answer to a shopper who asked for it; the address is then forgotten."""
    question = Question.objects.select_related("product").filter(pk=question_id).first()
    if question is None or not (question.notify and question.email) or question.notified_at:
        return False
    with translation.override(question.language):
        context = {
            "question": question,
            "product": question.product,
            "product_url": _absolute(question.product.get_absolute_url()),
        }
        subject = _("Your question about %(title)s") % {"title": question.product.get_title()}
        body = render_to_string("oscar_gpt/qa/answer_email.txt", context)
    send_mail(subject, body, None, [question.email])
    Question.objects.filter(pk=question.pk).update(notified_at=timezone.now(), email="")
    return True


def refresh(product_id: int) -> None:
    """Bring a product's stored evidence up to date (the work of the refresh task)."""
    from oscar.core.loading import get_model

    product = get_model("catalogue", "Product").objects.filter(pk=product_id).first()
    if product is not None:
        evidence_index(product)


def _absolute(path: str) -> str:
    from django.contrib.sites.models import Site

    return f"https://{Site.objects.get_current().domain}{path}"


def _refresh_evidence_later(product_id: int) -> None:
    from .signals import schedule_refresh

    schedule_refresh(product_id)


# -- a shopper's data ------------------------------------------------------------------------


def anonymise_customer(user) -> int:
    """Keep a deleted customer's questions for the shop (the FAQ) but nothing of theirs."""
    return Question.objects.filter(user=user).update(user=None, email="", session_key="")


def export_customer(user) -> list[dict]:
    """A customer's questions and answers, for a data-access request."""
    return [
        {
            "asked": q.created_at.isoformat(),
            "product": q.product.get_title(),
            "question": q.text,
            "status": q.status,
            "answer": q.answer,
            "answered": q.answered_at.isoformat() if q.answered_at else None,
        }
        for q in Question.objects.filter(user=user).select_related("product").order_by("id")
    ]
