"""Real services for integration tests: PostgreSQL, Redis and a Celery worker process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import missing_service

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("OSCAR_GPT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_alive(url: str = REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def postgres(django_db_setup, django_db_blocker):
    """The test database, which must be PostgreSQL (``DATABASE_URL=postgres://...``)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        missing_service(
            "integration tests need PostgreSQL: run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/oscar_gpt (make test does)"
        )
    with django_db_blocker.unblock():
        connection.ensure_connection()
    return connection.settings_dict


@pytest.fixture(scope="session")
def redis_broker():
    if not redis_alive():
        missing_service(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


class WorkerProcess:
    """``celery -A sandbox worker`` in its own process, on a queue of its own."""

    def __init__(self, database: dict, broker: str, log_path: Path):
        self.queue = f"oscar-gpt-test-{uuid.uuid4().hex[:8]}"
        self.broker = broker
        self.log_path = log_path
        user = database.get("USER") or "postgres"
        password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
        host = database.get("HOST") or "127.0.0.1"
        port = database.get("PORT") or 5432
        self.env = os.environ | {
            "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{database['NAME']}",
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": broker,
            "HF_HUB_OFFLINE": "1",
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "sandbox",
                "worker",
                "-P",
                "solo",
                "-l",
                "info",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if b" ready." in self.log_path.read_bytes()[offset:]:
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def send(self, task, *args, **kwargs):
        """Queue ``task`` for this worker through the real broker."""
        from sandbox.celery import app

        with app.connection_for_write(self.broker) as connection:
            return task.apply_async(
                args=args, kwargs=kwargs, queue=self.queue, connection=connection
            )

    def result(self, async_result, timeout: float = 120):
        """The task's return value, read from the worker's result backend (Redis)."""
        from celery.backends.redis import RedisBackend

        from sandbox.celery import app

        backend = RedisBackend(app=app, url=self.broker)
        return app.AsyncResult(async_result.id, backend=backend).get(timeout=timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def celery_worker_process(_session_worker):
    """The session's worker, started again first if it died, as a process supervisor
    (systemd's ``Restart=always``) would restart it in a shop: kombu's Redis transport can
    exit a worker whose broker restarted under it while it was idle (the fault tests restart
    Redis). What it had taken but not acknowledged is redelivered (``acks_late``)."""
    if _session_worker.process is None or _session_worker.process.poll() is not None:
        try:
            _session_worker.start()
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
    return _session_worker


@pytest.fixture(scope="session")
def _session_worker(postgres, redis_broker, tmp_path_factory):
    """A worker process, and this process's Celery app pointed at its broker and queue, so
    code under test that calls ``task.delay()`` reaches it."""
    from sandbox.celery import app

    worker = WorkerProcess(postgres, redis_broker, tmp_path_factory.mktemp("worker") / "log")
    try:
        worker.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_default_queue")}
    app.conf.update(
        broker_url=redis_broker, result_backend=redis_broker, task_default_queue=worker.queue
    )
    _forget_connections(app)  # pools made for another broker earlier in this run
    yield worker
    app.conf.update(saved)
    _forget_connections(app)
    worker.stop()


def _forget_connections(app) -> None:
    """Make the next ``delay()`` connect with the current ``broker_url``."""
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(predicate, timeout: float = 120, interval: float = 0.25, worker=None):
    """Poll ``predicate`` until it is truthy; fail with the worker's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    details = f"\nworker log:\n{worker.log()}" if worker else ""
    pytest.fail(f"condition not met within {timeout}s{details}", pytrace=False)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0
