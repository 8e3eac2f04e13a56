"""Faults against the real services: the model server dies mid-job, the worker is SIGKILLed,
PostgreSQL drops the worker's connections, Redis restarts, and a shopper asks while the only
backend is down.

Every test runs a real ``celery worker`` (``tests.support.fault_settings``: the sandbox's
settings plus the test's, passed as JSON, since a worker reads its settings once at
start-up) on a Redis database of its own, the test PostgreSQL database and the real local
model; "openai" is llama-cpp-python's OpenAI-compatible server on the same GGUF. Only the
``meta_title`` field is generated (32 tokens at most) and nothing is regenerated, to keep the
runtime bounded on a small machine.

Redelivery after a SIGKILL: the tasks are ``acks_late``, so the message of the task that
was running stays in Redis' ``unacked`` set. Redis has no consumer acknowledgements of its
own: kombu gives such a message back to its queue once it is older than the transport's
``visibility_timeout`` (one hour by default), in a sweep every ``unacked_restore_interval`` x
``unacked_restore_throttle`` seconds (100 s by default). The test worker uses 20 s and a
sweep every second, so the job finishes in test time. ``reject_on_worker_lost`` is for a
prefork child that dies; with the main process gone it is this timeout that counts. (A
production visibility timeout must stay above the longest task plus its ``eta``/retry
countdown: any worker's sweep gives back a message that a live worker is still running.)

Redis is restarted with ``SHUTDOWN SAVE``, as a Redis with persistence restarts: the queued
chunks survive. The sandbox's Redis runs with ``--save ""``; a restart without saving loses
every queued message, and nothing in the app queues a lost chunk again.
"""

from __future__ import annotations

import time

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from oscar_gpt.descriptions import service
from oscar_gpt.descriptions.prompts import GenerationParams
from oscar_gpt.models import Draft, GenerationJob, GenerationJobItem, LedgerEntry, Question
from tests.conftest import missing_service, start_llama_server
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.integration.conftest import wait_for
from tests.support.faults import (
    FaultWorker,
    faults_redis_url,
    kill_server,
    redis_client,
    redis_restarted,
    redis_up,
    tasks_sent_to,
    terminate_backends,
)
from tests.support.llamacpp import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

#: Short outputs: a meta title is at most 32 tokens.
PARAMS = {"fields": ["meta_title"], "length": "short"}
#: Products per task of a bulk job.
BATCH = 10
#: Seconds after which Redis gives an unacknowledged message back (see the module's doc).
VISIBILITY_TIMEOUT = 20
#: Settings of the test process and the workers alike.
COMMON = {
    "DESCRIPTIONS_BATCH_SIZE": BATCH,
    "DESCRIPTIONS_REGENERATE_ATTEMPTS": 0,
    "TASK_RETRY_BACKOFF_MAX": 2,
    "QA_REFRESH_IN_BACKGROUND": False,  # 100 products must not queue 100 re-embeddings
    "PRICES": {"smollm2": ["0", "0"]},
}
BROKER_OPTIONS = {
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}


def openai_backend(base_url: str, **config) -> dict:
    return {
        "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
        "CONFIG": {"MODEL": "smollm2", "BASE_URL": base_url, "TIMEOUT": 30} | config,
    }


def gpt_settings(django_settings, openai: dict, features: dict, **more) -> dict:
    """The sandbox's OSCAR_GPT with backend "openai" added and ``features`` chosen."""
    shop = django_settings.OSCAR_GPT
    return {
        **shop,
        **COMMON,
        "BACKENDS": {"local": shop["BACKENDS"]["local"], "openai": openai},
        "FEATURES": {**shop["FEATURES"], **features},
        **more,
    }


class Workers:
    """The worker of a module's tests; a test may kill it and start a replacement."""

    def __init__(self, database, broker, overrides, log_dir):
        self.database, self.broker, self.overrides = database, broker, overrides
        self.log_dir = log_dir
        self.current: FaultWorker | None = None
        self.started = 0

    def _log(self):
        self.started += 1
        return self.log_dir / f"worker-{self.started}.log"

    def start(self) -> FaultWorker:
        queue = self.current.queue if self.current else None
        name = self.current.application_name if self.current else None
        worker = FaultWorker(
            self.database,
            self.broker,
            self._log(),
            self.overrides,
            queue=queue,
            application_name=name,
        )
        try:
            worker.start(timeout=240)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        self.current = worker
        return worker

    def alive(self) -> FaultWorker:
        """The worker, started again if a test left it dead."""
        if self.current is None or not self.current.alive:
            self.start()
        return self.current

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()


#: Redis databases: one per group of workers (see faults_redis_url).
BULK_BROKER, DOWN_BROKER = faults_redis_url(0), faults_redis_url(1)


@pytest.fixture(scope="module")
def fault_broker():
    if not redis_up(BULK_BROKER):
        missing_service(f"Redis is not reachable at {BULK_BROKER}")
    for url in (BULK_BROKER, DOWN_BROKER):
        redis_client(url).flushdb()  # the fault tests' own databases: what earlier runs left


@pytest.fixture(scope="module")
def fault_server():
    """llama.cpp's server of this module's own: the tests kill it."""
    server = start_llama_server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def bulk_settings(fault_server):
    from django.conf import settings

    return gpt_settings(
        settings,
        openai_backend(fault_server.base_url, MAX_RETRIES=1, CONCURRENCY=2),
        {"descriptions": ["openai", "local"]},
        TASK_MAX_RETRIES=8,
    )


@pytest.fixture(scope="module")
def bulk_workers(postgres, fault_broker, bulk_settings, tmp_path_factory):
    """Workers for bulk jobs: descriptions try llama.cpp's server, then the local model."""
    workers = Workers(
        postgres,
        BULK_BROKER,
        {"OSCAR_GPT": bulk_settings, "CELERY_BROKER_TRANSPORT_OPTIONS": BROKER_OPTIONS},
        tmp_path_factory.mktemp("fault-workers"),
    )
    workers.start()
    yield workers
    workers.stop()


@pytest.fixture
def bulk(bulk_workers, bulk_settings, fault_server, settings):
    """This process set up like the workers; the server running; a live worker."""
    settings.OSCAR_GPT = bulk_settings
    fault_server.start()  # a test that failed may have left it dead
    return bulk_workers.alive()


def make_products(count: int) -> list:
    product_class = headphones_class()
    return [
        headphones(product_class, title=f"Quietwave {n}", battery_life_hours=10 + n % 40)
        for n in range(count)
    ]


def start_job(worker, products) -> GenerationJob:
    with tasks_sent_to(worker):  # the chunks are queued when start_job's transaction commits
        return service.start_job([p.pk for p in products], GenerationParams(**PARAMS))


def finished_items(job) -> int:
    return job.items.exclude(status=GenerationJobItem.Status.PENDING).count()


def wait_until_finished(job, worker, timeout: float) -> GenerationJob:
    return wait_for(
        lambda: GenerationJob.objects.filter(pk=job.pk, status="done").first(),
        timeout=timeout,
        interval=1,
        worker=worker,
    )


def assert_one_draft_each(job, products) -> list[Draft]:
    """Every product has one meta title draft, pending; no product was generated twice."""
    ids = {p.pk for p in products}
    drafts = list(Draft.objects.filter(product_id__in=ids))
    assert {d.product_id for d in drafts} == ids  # nothing lost
    assert len(drafts) == len(ids)  # nothing generated twice (not even superseded)
    assert {(d.field, d.variant, d.status) for d in drafts} == {("meta_title", 0, "pending")}
    assert all(d.text for d in drafts)
    per_product = (
        Draft.objects.filter(status="pending", product_id__in=ids)
        .values("product", "field", "variant")
        .annotate(n=Count("id"))
    )
    assert {row["n"] for row in per_product} == {1}
    assert not GenerationJob.objects.filter(status=GenerationJob.Status.RUNNING).exists()
    return drafts


def assert_items_accounted_for(job, products) -> None:
    """One item per product, each done, or skipped because its draft was already written
    (by a run of the task that did not get to mark it)."""
    items = list(job.items.all())
    assert sorted(i.product_id for i in items) == sorted(p.pk for p in products)
    for item in items:
        assert item.status in ("done", "skipped"), (item.product_title, item.reason)
        if item.status == "skipped":
            assert Draft.objects.filter(product_id=item.product_id, job=job).exists()


def test_model_server_killed_mid_job(bulk, fault_server):
    products = make_products(100)
    job = start_job(bulk, products)
    wait_for(lambda: finished_items(job) >= BATCH, timeout=300, interval=0.5, worker=bulk)

    kill_server(fault_server)
    killed_at = timezone.now()
    at_kill = finished_items(job)
    # The chain falls back to the local model: the job carries on without the server.
    wait_for(
        lambda: (
            finished_items(job) >= at_kill + BATCH
            and LedgerEntry.objects.filter(
                feature="descriptions", backend="local", status="ok"
            ).exists()
        ),
        timeout=300,
        interval=0.5,
        worker=bulk,
    )
    fault_server.start()
    restarted_at = timezone.now()
    assert finished_items(job) < len(products)  # work is left for the server that is back

    job = wait_until_finished(job, bulk, timeout=900)
    items = job.items.all()
    assert items.count() == 100
    assert set(items.values_list("status", flat=True)) == {"done"}  # each exactly once
    drafts = assert_one_draft_each(job, products)

    # The database, not luck, keeps it at one pending draft per product, field and variant.
    first = drafts[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Draft.objects.create(
            product_id=first.product_id,
            field=first.field,
            variant=first.variant,
            text="A second pending draft",
            language=first.language,
            params_hash=first.params_hash,
            backend="local",
            model="m",
        )

    # The ledger shows the failures, and who wrote what: the server before it died and
    # after it came back, the local model in between.
    ledger = LedgerEntry.objects.filter(feature="descriptions")
    errors = ledger.filter(status="error")
    assert errors.exists() and set(errors.values_list("backend", flat=True)) == {"openai"}
    assert set(errors.values_list("error_class", flat=True)) == {"BackendUnavailable"}
    assert not errors.filter(created_at__lt=killed_at).exists()
    ok = ledger.filter(status="ok")
    assert ok.filter(backend="openai", created_at__lt=killed_at).exists()
    assert ok.filter(backend="local", created_at__gte=killed_at).exists()
    assert ok.filter(backend="openai", created_at__gte=restarted_at).exists()
    for draft in drafts:
        entries = list(draft.ledger_entries.all())
        assert [(e.status, e.backend) for e in entries] == [("ok", draft.backend)]
    assert {d.backend for d in drafts} == {"openai", "local"}


def test_worker_killed_mid_job_is_redelivered(bulk, bulk_workers):
    products = make_products(2 * BATCH)
    unacked = redis_client(BULK_BROKER)
    job = start_job(bulk, products)
    # Kill it while a task is running: its message is delivered and not yet acknowledged.
    wait_for(
        lambda: finished_items(job) >= BATCH and unacked.hlen("unacked") > 0,
        timeout=300,
        interval=0.2,
        worker=bulk,
    )
    bulk.kill()
    assert bulk.process.returncode == -9
    assert unacked.hlen("unacked") >= 1  # the running task's message, never acknowledged
    assert finished_items(job) < len(products)

    replacement = bulk_workers.start()  # the same queue
    wait_until_finished(job, replacement, timeout=300)
    assert_items_accounted_for(job, products)
    assert_one_draft_each(job, products)
    wait_for(lambda: unacked.hlen("unacked") == 0, timeout=60, worker=replacement)


def test_postgres_drops_the_workers_connections(bulk):
    products = make_products(2 * BATCH)
    job = start_job(bulk, products)
    terminated, progress = 0, -1
    deadline = time.monotonic() + 300
    # Three times, each once the job has moved on since the last: a task holds its
    # connection while it generates, and loses it.
    while terminated < 3 and time.monotonic() < deadline:
        finished = finished_items(job)
        if finished == len(products):
            break
        if finished > progress:
            hit = terminate_backends(bulk.application_name)
            if hit:
                terminated += 1
                progress = finished
        time.sleep(0.5)
    assert terminated >= 1

    wait_until_finished(job, bulk, timeout=420)
    assert_items_accounted_for(job, products)
    assert_one_draft_each(job, products)
    log = bulk.log_path.read_text(errors="replace")
    assert "retry: Retry in" in log and "OperationalError" in log  # the fault did strike
    assert bulk.alive


def test_redis_restarts_mid_job(bulk):
    products = make_products(2 * BATCH)
    job = start_job(bulk, products)
    wait_for(lambda: finished_items(job) >= BATCH, timeout=300, interval=0.5, worker=bulk)
    pid = bulk.pid
    assert finished_items(job) < len(products)  # mid-job: a task is running
    with redis_restarted():  # started again afterwards, even if this test fails
        assert not redis_up(BULK_BROKER) and bulk.alive

    wait_until_finished(job, bulk, timeout=420)
    assert bulk.alive and bulk.pid == pid  # the same worker, reconnected
    assert_items_accounted_for(job, products)
    assert_one_draft_each(job, products)
    log = bulk.log_path.read_text(errors="replace")
    assert "Connection to broker lost" in log or "Cannot connect to redis" in log


# -- the only backend is down ------------------------------------------------------------------
#: Retries of a task before it gives up (three attempts in all).
DOWN_RETRIES = 2


@pytest.fixture(scope="module")
def down_settings():
    from django.conf import settings

    nowhere = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    return gpt_settings(
        settings,
        openai_backend(nowhere, MAX_RETRIES=0, TIMEOUT=5),
        {"qa": ["openai"], "descriptions": ["openai"]},
        TASK_MAX_RETRIES=DOWN_RETRIES,
        DESCRIPTIONS_BATCH_SIZE=3,
    )


@pytest.fixture(scope="module")
def down_worker(postgres, fault_broker, down_settings, tmp_path_factory):
    workers = Workers(
        postgres,
        DOWN_BROKER,
        {"OSCAR_GPT": down_settings, "CELERY_BROKER_TRANSPORT_OPTIONS": BROKER_OPTIONS},
        tmp_path_factory.mktemp("down-workers"),
    )
    workers.start()
    yield workers
    workers.stop()


@pytest.fixture
def down(down_worker, down_settings, settings):
    settings.OSCAR_GPT = down_settings
    return down_worker.alive()


def test_question_while_the_backend_is_down_goes_to_staff(down, client):
    product = headphones(
        headphones_class(),
        description="Closed-back wireless headphones. The ear cushions are memory foam.",
    )
    with tasks_sent_to(down):
        asked = client.post(
            reverse("oscar_gpt:qa-ask", kwargs={"product_id": product.pk}),
            {"question": "What is the battery life?"},
            HTTP_ACCEPT="application/json",
        )
    assert asked.status_code == 202
    status_url = asked.json()["status_url"]
    codes = []

    def handed_off():
        response = client.get(status_url, HTTP_ACCEPT="application/json")
        codes.append(response.status_code)
        return response.json() if response.status_code == 200 and response.json()["done"] else None

    payload = wait_for(handed_off, timeout=240, interval=0.5, worker=down)
    assert set(codes) == {200}  # never a 5xx while the worker retried
    assert payload["status"] == "needs_staff" and payload["answer"] == ""
    assert payload["message"].startswith("We don't know yet")

    # It went to staff because the backend stayed down (service.give_up), after the task's
    # retries: it passed the relevance gate, and each attempt reached for the backend.
    question = Question.objects.get(product=product)
    assert question.trace["error"] == "BackendUnavailable"
    log = down.log_path.read_text(errors="replace")
    assert log.count("WARNING/MainProcess] openai failed for qa") == DOWN_RETRIES + 1
    assert log.count(" retry: Retry in ") == DOWN_RETRIES
    assert not LedgerEntry.objects.filter(feature="qa", status="ok").exists()

    # The pages a shopper without JavaScript sees are pages, not errors.
    page = client.get(status_url)
    assert page.status_code == 200 and "We don" in page.content.decode()
    assert client.get(product.get_absolute_url()).status_code == 200


def test_job_whose_only_backend_stays_down_ends(down):
    products = make_products(5)
    job = start_job(down, products)
    job = wait_until_finished(job, down, timeout=120)
    items = list(job.items.all())
    assert {i.status for i in items} == {"failed"}
    assert all("could not be reached" in i.reason for i in items)  # said to the shop owner
    assert not Draft.objects.filter(product__in=products).exists()
    errors = LedgerEntry.objects.filter(feature="descriptions", backend="openai", status="error")
    assert errors.count() == len(products) * (DOWN_RETRIES + 1)
    assert not GenerationJob.objects.filter(status=GenerationJob.Status.RUNNING).exists()
