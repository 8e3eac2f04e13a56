"""The sandbox under load: shoppers browsing and asking, and one client abusing the Q&A door.

The sandbox's WSGI application under gunicorn (``--web-workers``, 5 sync workers by default:
gunicorn's 2 x cores + 1 for the 2-core machine), a real Celery worker
(``-P solo``), a throwaway PostgreSQL database (created and dropped here) and Redis as the
broker and as Django's cache (the rate limiter's counters, shared by the gunicorn workers, as
``docs/deployment.md`` asks), all on 127.0.0.1; the demo catalogue
(``manage.py oscar_gpt_demo_data``), every used product's Q&A evidence built before the first
question. The settings are the sandbox's (``bench/qa_settings.py`` with
``BENCH_RATE_LIMITS=shipped``: the app's shipped ``RATE_LIMITS``, printed with the figures).

Each shopper is a thread with its own loopback address (127.0.P.10, 127.0.P.11, ...), so
the per-IP limit sees separate shoppers, and its own session and CSRF cookies. It opens a
product page (the HTML), asks a question about it on ``--ask-share`` of them through the
widget's JSON door and polls the question until it is answered (every
``QA_POLL_INTERVAL_MS``, as the widget does), then reads for ``--think`` seconds. Questions
come from a short list per product class, so some repeat (stored answers) and most do not.

Phases, each ``--duration`` seconds of shoppers (a shopper still waiting for an answer at the
end finishes it, up to ``--answer-timeout``), each with fresh shoppers and addresses, the
worker's queue empty between them:

1. ``baseline``: ``--shoppers`` shoppers alone;
2. ``abuse:cookie``: the same, and from second ``--abuse-at`` one client (one address, one
   session kept) fires up to ``--abuse-requests`` questions within ``--abuse-seconds``,
   ``--abuse-connections`` (8) at a time: its 200/202s against its 429s (with ``Retry-After``),
   and the shoppers' latency while it fires against phase 1's. The client runs in a process
   of its own, as it would on its own machine (``--abuse-in-process``: as threads beside the
   shoppers', sharing their interpreter lock, which slows the shoppers' own measurements);
3. ``abuse:no-cookie``: the same client without cookies (each request a new session), and
4. ``abuse:xff``: without cookies, sending a different ``X-Forwarded-For`` each time
   (``--abusers`` chooses among the three; all by default).

Figures per phase: requests/s, page loads p50/p95, ask POST p50/p95, time to answer (POST to
the answer, for questions the worker answered) p50/p95, shoppers' 429s and errors; the load
average and the machine. Every loop is bounded in count and in time; the server, the worker,
the database and the run's Redis keys go on exit, Ctrl-C included.

    python bench/load_qa.py                       # ~4 min on the shared 2-core machine
    python bench/load_qa.py --duration 30 --abusers cookie
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from qa_latency import (  # noqa: E402
    Asked,
    GunicornServer,
    Shopper,
    Worker,
    ask_and_wait,
    free_port,
    throwaway_database,
)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/oscar_gpt_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
#: Shoppers' latency during the abuse, against the baseline's: "holds" up to this ratio.
HOLD_RATIO = 1.5
#: Set on Ctrl-C (or SIGTERM): every shopper and the abusive client stop at once.
STOP = threading.Event()

#: Questions shoppers ask, per product class (the demo's); "any" for every product.
QUESTIONS = {
    "any": [
        "How much does it weigh?",
        "What colour is it?",
        "Is there a warranty?",
        "Can I return it if it does not fit?",
        "Is it in stock?",
        "What is it made of?",
    ],
    "Headphones": [
        "How long does the battery last?",
        "Does it have noise cancelling?",
        "Is it wireless?",
        "Does it have a microphone for calls?",
        "Is it water resistant?",
        "Which bluetooth codecs does it support?",
        "Can I use it with a cable?",
    ],
    "Laptops": [
        "How much RAM does it have?",
        "What is the screen size?",
        "Is the screen a touchscreen?",
        "Which processor does it have?",
        "How long does the battery last?",
        "How big is the SSD?",
        "Does it have a USB-C port?",
    ],
    "Running shoes": [
        "Is it waterproof?",
        "What is the heel to toe drop?",
        "Is it good for trail running?",
        "How much does one shoe weigh?",
        "Does it have a carbon plate?",
        "Is it suitable for wide feet?",
    ],
}


# -- the shop --------------------------------------------------------------------------------


def configure(work: Path, database: str, redis_url: str, run: str) -> dict[str, str]:
    queue = f"bench-load-{run}"
    env = {
        "DJANGO_SETTINGS_MODULE": "qa_settings",
        "BENCH_RATE_LIMITS": "shipped",
        "BENCH_CACHE_URL": redis_url,
        "BENCH_CACHE_PREFIX": f"bench-load-{run}",
        "DATABASE_URL": database,
        "SANDBOX_VAR_DIR": str(work / "var"),
        "SANDBOX_SEARCH_INDEX": str(work / "var" / "whoosh_index"),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "BENCH_QA_QUEUE": queue,
        "DJANGO_DEBUG": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        "OSCAR_GPT_LOG": "WARNING",
    }
    python_path = [str(ROOT), str(BENCH)]
    if os.environ.get("PYTHONPATH"):
        python_path.append(os.environ["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    os.environ.update(env)
    return os.environ.copy()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class ShopProduct:
    pk: int
    url: str
    questions: list[str]


def build_shop(limit: int) -> list[ShopProduct]:
    """Migrate, load the demo shop, and build the Q&A evidence of ``limit`` of its products
    (spread over the catalogue), as the refresh task of a real shop would have."""
    from django.core.management import call_command
    from django.utils import translation
    from oscar.core.loading import get_model

    from oscar_gpt.qa.evidence import evidence_index

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("oscar_gpt_demo_data", stdout=quiet)
    Product = get_model("catalogue", "Product")
    browsable = list(Product.objects.browsable().select_related("product_class").order_by("pk"))
    step = max(1, len(browsable) // max(limit, 1))
    chosen = browsable[::step][:limit]
    log(f"demo shop: {len(browsable)} browsable products in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    shop = []
    with translation.override("en-gb"):
        for product in chosen:
            evidence_index(product)
            kind = product.get_product_class().name
            shop.append(
                ShopProduct(
                    product.pk,
                    product.get_absolute_url(),
                    QUESTIONS["any"] + QUESTIONS.get(kind, []),
                )
            )
    log(f"evidence of {len(shop)} products built in {time.perf_counter() - started:.0f} s")
    return shop


def queued_questions() -> int:
    from django.db import connection

    from oscar_gpt.models import Question

    count = Question.objects.filter(status=Question.Status.QUEUED).count()
    connection.close()
    return count


def wait_idle(worker: Worker, timeout: float) -> float:
    """Until no question is queued (the worker answered them all), at most ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        worker.check_alive()
        if not queued_questions():
            break
        time.sleep(1)
    return time.monotonic() - started


# -- what each request took ------------------------------------------------------------------


@dataclass
class Hit:
    #: Seconds from the phase's start to the request's start.
    at: float
    kind: str  # page | ask | status | abuse
    seconds: float
    status: int  # 0: no response (connection error, timeout)
    retry_after: str = ""


class Recorder:
    def __init__(self, start: float):
        self.start = start
        self.hits: list[Hit] = []
        self.asked: list[tuple[float, Asked]] = []
        self.lock = threading.Lock()

    def add(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)


class CountingShopper(Shopper):
    """A shopper whose every request is recorded (errors as status 0)."""

    def __init__(self, port, recorder: Recorder, source: str | None, kind: str = "", **kw):
        super().__init__(port, source=source, timeout=30, **kw)
        self.recorder = recorder
        self.kind = kind

    def _request(self, method, path, body=None, accept="application/json"):
        kind = self.kind or (
            "ask" if method == "POST" else ("status" if "/qa/questions/" in path else "page")
        )
        at = time.perf_counter() - self.recorder.start
        started = time.perf_counter()
        try:
            reply = super()._request(method, path, body, accept)
        except OSError:
            self.recorder.add(Hit(at, kind, time.perf_counter() - started, 0))
            raise
        self.recorder.add(Hit(at, kind, reply.seconds, reply.status, reply.retry_after))
        return reply


# -- one phase -------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    #: "" (shoppers alone), "cookie", "no-cookie" or "xff".
    abuser: str
    recorder: Recorder | None = None
    seconds: float = 0.0
    #: (start, end) of the abuse, in seconds from the phase's start.
    abuse_window: tuple[float, float] | None = None
    load: list[float] = field(default_factory=list)
    drained_in: float = 0.0
    errors: list[str] = field(default_factory=list)


def shopper_loop(args, port, shop, recorder, source, seed, deadline, poll, errors) -> None:
    rng = random.Random(seed)
    shopper = CountingShopper(port, recorder, source)
    for _step in range(args.max_steps):
        if time.perf_counter() >= deadline or STOP.is_set():
            return
        product = rng.choice(shop)
        try:
            shopper.page(product.url)
            if rng.random() < args.ask_share:
                asked = Asked("", product.pk, rng.choice(product.questions))
                ask_and_wait(shopper, asked, poll, timeout=args.answer_timeout)
                with recorder.lock:
                    recorder.asked.append((time.perf_counter() - recorder.start, asked))
        except OSError as exc:
            errors.append(f"{source}: {type(exc).__name__}: {exc}")
        pause = rng.uniform(*args.think)
        STOP.wait(max(0.0, min(pause, deadline - time.perf_counter())))


#: What the abusive client needs, handed to its own process as JSON.
ABUSE_KEYS = (
    "abuse_product",
    "abuse_requests",
    "abuse_seconds",
    "abuse_connections",
    "abuse_paced",
)


def fire_abuse(spec: dict, port: int, recorder, mode: str, source: str) -> tuple[float, float]:
    """Up to ``abuse_requests`` questions within ``abuse_seconds``, ``abuse_connections`` at
    a time, each recorded in ``recorder`` as an "abuse" hit; returns when it began and ended
    (``time.perf_counter()``, the same clock in every process)."""
    product_id = spec["abuse_product"]
    client = CountingShopper(port, recorder, source, kind="abuse")
    counter = iter(range(spec["abuse_requests"]))
    lock = threading.Lock()
    begun = time.perf_counter()
    stop = begun + spec["abuse_seconds"]
    if mode == "cookie":  # its session first, then every question in it
        with contextlib.suppress(OSError):
            client.ask(product_id, "Question number 0: does it come in size 0?")
        next(counter)

    def fire() -> None:
        while time.perf_counter() < stop and not STOP.is_set():
            with lock:
                number = next(counter, None)
            if number is None:
                return
            if spec["abuse_paced"]:  # question n no sooner than n/N of the way through
                due = begun + number * spec["abuse_seconds"] / spec["abuse_requests"]
                if STOP.wait(max(0.0, due - time.perf_counter())):
                    return
            sender = client
            if mode != "cookie":  # a client that drops its cookies: a new session each time
                sender = CountingShopper(port, recorder, source, kind="abuse")
            if mode == "xff":
                sender.headers = {"X-Forwarded-For": f"10.{number // 250}.{number % 250}.1"}
            with contextlib.suppress(OSError):  # recorded as status 0
                sender.ask(product_id, f"Question number {number}: does it come in size {number}?")

    threads = [threading.Thread(target=fire, daemon=True) for _ in range(spec["abuse_connections"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return begun, time.perf_counter()


class _Lines:
    """The abusive client's recorder in its own process: a JSON line per hit on stdout, at
    ``time.perf_counter()`` (absolute; the parent makes it relative to its phase)."""

    start = 0.0

    def __init__(self):
        self.lock = threading.Lock()

    def add(self, hit: Hit) -> None:
        line = json.dumps([hit.at, hit.seconds, hit.status, hit.retry_after])
        with self.lock:
            print(line, flush=True)


def abuse_client_main(arguments: list[str]) -> None:
    """``load_qa.py --abuse-client PORT MODE SOURCE SPEC``: the abusive client alone."""
    port, mode, source, spec = int(arguments[0]), arguments[1], arguments[2], arguments[3]
    signal.signal(signal.SIGTERM, lambda signum, frame: STOP.set())
    begun, ended = fire_abuse(json.loads(spec), port, _Lines(), mode, source)
    print(json.dumps({"window": [begun, ended]}), flush=True)


def abuse(args, port, recorder, mode: str, source: str, phase: Phase) -> None:
    """One client: up to ``--abuse-requests`` questions within ``--abuse-seconds``, from
    second ``--abuse-at``; in a process of its own (as a client on another machine would
    be: it shares the cores but not this process's interpreter lock with the shoppers'
    threads) unless ``--abuse-in-process``."""
    if STOP.wait(args.abuse_at):
        return
    spec = {key: getattr(args, key) for key in ABUSE_KEYS}
    if args.abuse_in_process:
        begun, ended = fire_abuse(spec, port, recorder, mode, source)
        phase.abuse_window = (begun - recorder.start, ended - recorder.start)
        return
    command = [sys.executable, __file__, "--abuse-client", str(port), mode, source]
    process = subprocess.Popen(command + [json.dumps(spec)], stdout=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            record = json.loads(line)
            if isinstance(record, dict):
                begun, ended = record["window"]
                phase.abuse_window = (begun - recorder.start, ended - recorder.start)
                continue
            at, seconds, status, retry_after = record
            recorder.add(Hit(at - recorder.start, "abuse", seconds, status, retry_after))
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
    if phase.abuse_window is None:
        phase.errors.append(f"the abusive client's process ended with {process.returncode}")


def run_phase(args, port, shop, poll, worker, number: int, name: str, mode: str) -> Phase:
    phase = Phase(name, mode)
    recorder = Recorder(time.perf_counter())
    phase.recorder = recorder
    deadline = recorder.start + args.duration
    sampling = threading.Event()

    def sample_load() -> None:
        while not sampling.wait(2):
            phase.load.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    sampler.start()
    threads = [
        threading.Thread(
            daemon=True,
            target=shopper_loop,
            args=(args, port, shop, recorder, f"127.0.{number}.{10 + i}")
            + (args.seed * 1000 + number * 100 + i, deadline, poll, phase.errors),
        )
        for i in range(args.shoppers)
    ]
    if mode:
        source = f"127.0.{number}.250"
        threads.append(
            threading.Thread(
                target=abuse, args=(args, port, recorder, mode, source, phase), daemon=True
            )
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - recorder.start
    sampling.set()
    phase.load.append(os.getloadavg()[0])
    worker.check_alive()
    phase.drained_in = wait_idle(worker, args.drain_timeout)
    return phase


# -- the figures -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank; a request without a response counts as infinitely slow."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latencies(hits: list[Hit], kind: str, window=None) -> list[float]:
    chosen = [h for h in hits if h.kind == kind]
    if window:
        chosen = [h for h in chosen if window[0] <= h.at <= window[1]]
    return [h.seconds if h.status else math.inf for h in chosen]


def figures(phases: list[Phase], during: bool = False) -> dict:
    """The shoppers' figures (the abuser's requests left out) of ``phases`` pooled (the
    rounds of one kind of phase); ``during``: only while each phase's client fired."""
    hits, asked, span = [], [], 0.0
    for phase in phases:
        window = phase.abuse_window if during else None
        if during and window is None:
            continue
        low, high = window or (-math.inf, math.inf)
        hits += [h for h in phase.recorder.hits if h.kind != "abuse" and low <= h.at <= high]
        asked += [a for at, a in phase.recorder.asked if low <= at <= high]
        span += (window[1] - window[0]) if window else phase.seconds
    worked = [a for a in asked if a.http_status in (200, 202) and not a.answered_at_once]
    answer = [math.inf if a.error else a.seconds for a in worked]
    f = {
        "requests": len(hits),
        "per_second": len(hits) / span if span else None,
        "pages": len(latencies(hits, "page")),
        "asks": len(latencies(hits, "ask")),
        "polls": len(latencies(hits, "status")),
        "answered_at_once": sum(a.answered_at_once for a in asked),
        "worker_answered": len(worked),
        "answer_failed": sum(bool(a.error) for a in worked),
        "outcomes": {},
        "shopper_429": sum(h.status == 429 for h in hits),
        "shopper_errors": sum(h.status == 0 or h.status >= 500 for h in hits),
    }
    for kind in ("page", "ask", "status"):
        values = latencies(hits, kind)
        f[f"{kind}_p50"], f[f"{kind}_p95"] = percentile(values, 50), percentile(values, 95)
    f["answer_p50"], f["answer_p95"] = percentile(answer, 50), percentile(answer, 95)
    for a in asked:
        key = f"{a.status or a.http_status}/{a.source}".rstrip("/")
        f["outcomes"][key] = f["outcomes"].get(key, 0) + 1
    return f


def abuse_figures(phase: Phase) -> dict:
    hits = [h for h in phase.recorder.hits if h.kind == "abuse"]
    window = phase.abuse_window or (0, 0)
    limited = [h for h in hits if h.status == 429]
    return {
        "sent": len(hits),
        "seconds": window[1] - window[0],
        "accepted": sum(h.status in (200, 202) for h in hits),
        "limited": len(limited),
        "limited_with_retry_after": sum(bool(h.retry_after) for h in limited),
        "retry_after": sorted({h.retry_after for h in limited}, key=lambda v: int(v or 0)),
        "other": {
            str(s): sum(h.status == s for h in hits)
            for s in sorted({h.status for h in hits} - {200, 202, 429})
        },
        "p50": percentile([h.seconds for h in hits if h.status], 50),
    }


def ms(value) -> str:
    if value is None:
        return "n/a"
    return "failed" if value == math.inf else f"{1000 * value:.0f} ms"


def secs(value) -> str:
    if value is None:
        return "n/a"
    return "failed" if value == math.inf else f"{value:.2f} s"


def holds(value, baseline) -> str:
    if value is None or baseline is None or baseline == math.inf:
        return "-"
    return "yes" if value <= HOLD_RATIO * baseline else "no"


def print_table(rows) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


def report(args, phases: list[Phase], limits: dict, machine: str, load: tuple, commands) -> dict:
    groups: dict[str, list[Phase]] = {}
    for phase in phases:
        groups.setdefault(phase.abuser, []).append(phase)
    base = figures(groups.pop("", []))
    out = {"baseline": base, "abuse": {}, "rounds": args.rounds}
    print(f"machine: {machine}")
    print(
        f"load average (1 min) {load[0]:.2f} before the run, {load[1]:.2f} after; per phase "
        "(sampled every 2 s): "
        + "; ".join(
            f"{p.name} mean {sum(p.load) / len(p.load):.2f} max {max(p.load):.2f}"
            for p in phases
            if p.load
        )
    )
    print(
        f"{args.shoppers} shoppers, {args.duration:.0f} s a phase, think {args.think[0]:g}-"
        f"{args.think[1]:g} s, ask on {args.ask_share:.0%} of pages, status polled every "
        f"{args.poll:g} s; {len(args.products_used)} products; rate limits (shipped): "
        + ", ".join(
            f"{k} {v}" for k, v in limits.items() if k.startswith("qa_") and "report" not in k
        )
    )
    print()
    if args.rounds > 1:
        print(f"{args.rounds} rounds of every phase; each column pools its rounds")
    header = ("shoppers' figure", "baseline")
    columns = []
    for abuser, group in groups.items():
        during = figures(group, during=True)
        columns.append((group, figures(group), during))
        out["abuse"][abuser] = {
            "whole": columns[-1][1],
            "during": during,
            "client": [abuse_figures(phase) for phase in group],
        }
        name = group[0].name
        header += (f"{name} (whole)", f"{name} (while it fires)", "holds?")
    rows = [header]

    def row(label, key, fmt, judge=True):
        value = key if callable(key) else (lambda f: f[key])
        cells = (label, fmt(value(base)))
        for _phase, whole, during in columns:
            cells += (
                fmt(value(whole)),
                fmt(value(during)),
                holds(value(during), value(base)) if judge else "",
            )
        return cells

    def worker_and_at_once(f):
        return f"{f['worker_answered']} / {f['answered_at_once']}"

    rows += [
        row("requests/s (pages, asks, polls)", "per_second", lambda v: f"{v:.1f}", False),
        row("page loads", "pages", str, False),
        row("page load p50", "page_p50", ms),
        row("page load p95", "page_p95", ms),
        row("ask POSTs", "asks", str, False),
        row("ask POST p50", "ask_p50", ms),
        row("ask POST p95", "ask_p95", ms),
        row("status poll p95", "status_p95", ms),
        row("questions answered by the worker / at once", worker_and_at_once, str, False),
        row("time to answer p50 (POST to answer)", "answer_p50", secs),
        row("time to answer p95", "answer_p95", secs),
        row("shoppers' 429s (want 0)", "shopper_429", str, False),
        row("shoppers' errors (5xx, none)", "shopper_errors", str, False),
    ]
    print_table(rows)
    print()
    if len(phases) > 1:
        client_rows = [
            (
                "abusive client",
                "sent",
                "in",
                "200/202",
                "429",
                "429 w/ Retry-After",
                "Retry-After values",
                "other",
                "p50",
                "limited?",
            )
        ]
        for phase in phases:
            if not phase.abuser:
                continue
            c = abuse_figures(phase)
            client_rows.append(
                (
                    phase.abuser,
                    str(c["sent"]),
                    f"{c['seconds']:.1f} s",
                    str(c["accepted"]),
                    str(c["limited"]),
                    str(c["limited_with_retry_after"]),
                    ",".join(c["retry_after"]) or "-",
                    json.dumps(c["other"]) if c["other"] else "-",
                    ms(c["p50"]),
                    "yes" if c["sent"] and c["accepted"] <= 0.05 * c["sent"] else "no",
                )
            )
        print_table(client_rows)
        print()
    print(
        f"holds?: the shoppers' figure while the client fires <= {HOLD_RATIO:g} x the "
        "baseline's. limited?: at most 5% of the client's questions accepted."
    )
    for phase in phases:
        f = figures([phase])
        print(
            f"{phase.name}: {phase.seconds:.0f} s, outcomes {f['outcomes']}, queue drained "
            f"{phase.drained_in:.0f} s after"
            + (f"; errors: {phase.errors[:3]}" if phase.errors else "")
        )
    print()
    print("Reproduce (from the repository root, with .venv activated):")
    print("  " + shlex.join(["python", "bench/load_qa.py", *sys.argv[1:]]))
    print("  which starts, with DJANGO_SETTINGS_MODULE=qa_settings PYTHONPATH=.:bench")
    print(f"  BENCH_RATE_LIMITS=shipped DATABASE_URL={args.database}")
    print(f"  CELERY_BROKER_URL={args.redis} BENCH_CACHE_URL={args.redis}:")
    for command in commands:
        print(f"    {command}")
    return out


# -- the run ---------------------------------------------------------------------------------


def clean_redis(url: str, run: str) -> int:
    """The run's own keys: its cache prefix, its queue and its binding; nothing else."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    removed = 0
    for pattern in (f"bench-load-{run}:*", f"*bench-load-{run}*"):
        keys = list(client.scan_iter(match=pattern, count=500))[:100000]
        if keys:
            removed += client.delete(*keys)
    return removed


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({model or platform.processor()}), shared; "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    if sys.argv[1:2] == ["--abuse-client"]:
        abuse_client_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=45, help="seconds a phase")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 5.0), help="seconds")
    parser.add_argument("--ask-share", type=float, default=0.5, help="pages with a question")
    parser.add_argument("--poll", type=float, default=None, help="seconds (the widget's)")
    parser.add_argument("--answer-timeout", type=float, default=90)
    parser.add_argument("--max-steps", type=int, default=200, help="pages per shopper, at most")
    parser.add_argument("--products", type=int, default=30, help="products browsed")
    parser.add_argument("--abusers", default="cookie,no-cookie,xff")
    parser.add_argument("--abuse-at", type=float, default=10, help="second of the phase")
    parser.add_argument("--abuse-seconds", type=float, default=10)
    parser.add_argument("--abuse-requests", type=int, default=1000)
    parser.add_argument("--abuse-connections", type=int, default=8)
    parser.add_argument(
        "--abuse-paced",
        action="store_true",
        help="spread the client's questions evenly over --abuse-seconds (default: as fast as"
        " its connections go)",
    )
    parser.add_argument(
        "--abuse-in-process",
        action="store_true",
        help="the abusive client as threads of this process (default: a process of its own)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the baseline and every abuse phase this many times; the figures pool them",
    )
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn sync workers")
    parser.add_argument("--web-threads", type=int, default=1, help="1: sync workers")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="broker and cache")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument(
        "--no-fast-refusals",
        action="store_true",
        help="without the sandbox's RateLimitedClientsMiddleware (limits in the views only)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder")
    args = parser.parse_args()
    modes = [m for m in args.abusers.split(",") if m]
    if set(modes) - {"cookie", "no-cookie", "xff"}:
        parser.error("--abusers: cookie, no-cookie, xff")
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds: 1 to 50")
    if not args.redis.startswith("redis://127.0.0.1") or args.redis.rstrip("/").endswith("/0"):
        parser.error("--redis: a database other than 0 on 127.0.0.1")

    def interrupted(signum, frame):
        STOP.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    load_before = os.getloadavg()[0]
    run = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="load_qa_"))
    env = configure(work, args.database, args.redis, run)
    if args.no_fast_refusals:
        env["BENCH_FAST_REFUSALS"] = "0"
    log(f"run {run}: logs in {work}; fast refusals {'off' if args.no_fast_refusals else 'on'}")
    worker = server = None
    phases: list[Phase] = []
    try:
        with throwaway_database(args.database):
            import django

            django.setup()
            from django.db import connections

            from oscar_gpt.app_settings import app_settings

            try:
                args.poll = args.poll or app_settings.QA_POLL_INTERVAL_MS / 1000
                shop = build_shop(args.products)
                args.products_used = shop
                args.abuse_product = shop[0].pk
                connections.close_all()
                worker = Worker(env, work / "worker.log", env["BENCH_QA_QUEUE"], "solo", 1)
                server = GunicornServer(
                    env, work / "server.log", free_port(), args.web_workers, args.web_threads
                )
                worker.start()
                server.start()
                worker.wait_ready()
                server.wait_ready()
                started = time.perf_counter()
                warm = Shopper(server.port, source="127.0.0.2")
                for text in ("How long does the battery last?", "What colour is it?"):
                    warm.page(shop[0].url)
                    a = ask_and_wait(warm, Asked("", shop[0].pk, text), args.poll, 600)
                    if a.error:
                        raise RuntimeError(f"warm-up: {a.error}\n{server.log()}")
                log(f"warm ({time.perf_counter() - started:.0f} s: model loaded); phases...")
                number = 0  # each phase's shoppers get addresses of their own
                for round_ in range(1, args.rounds + 1):
                    for mode in ["", *modes]:
                        number += 1
                        name = f"abuse:{mode}" if mode else "baseline"
                        phases.append(
                            run_phase(
                                args, server.port, shop, args.poll, worker, number, name, mode
                            )
                        )
                        log(f"{name} done (round {round_} of {args.rounds})")
                commands = [server.shell, worker.shell]
            finally:
                STOP.set()
                for process in (server, worker):
                    if process is not None:
                        process.stop()
                connections.close_all()
        limits = app_settings.RATE_LIMITS
        out = report(args, phases, limits, machine(), (load_before, os.getloadavg()[0]), commands)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            out |= {"argv": sys.argv[1:], "limits": limits, "machine": machine()}
            args.json.write_text(json.dumps(out, indent=2, default=str))
    except KeyboardInterrupt:
        log("interrupted: server, worker and database stopped")
        sys.exit(130)
    finally:
        try:
            clean_redis(args.redis, run)
        except Exception as exc:  # noqa: BLE001 - cleaning up; say so and go on
            log(f"Redis keys of run {run} left: {exc}")
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs kept in {work}")


if __name__ == "__main__":
    main()
