"""Faults for the integration tests: workers that are killed, a model server that dies, a
database that drops its connections, a broker that restarts.

Everything here acts on processes and connections the tests started themselves (the worker's
PostgreSQL connections carry an ``application_name`` of their own), except Redis: a restart
is a restart for every client, so :func:`redis_restarted` keeps the data (``SHUTDOWN SAVE``)
and always starts the server again, the way ``scripts/start-services.sh`` does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.integration.conftest import REPO, WorkerProcess, _forget_connections

#: The first of the Redis databases of the fault tests' own (:func:`faults_redis_url`).
FAULTS_REDIS_URL = os.environ.get("OSCAR_GPT_FAULTS_REDIS_URL", "redis://127.0.0.1:6379/11")


def faults_redis_url(offset: int = 0) -> str:
    """Redis database ``offset`` after :data:`FAULTS_REDIS_URL`'s, for one group of workers.

    kombu keeps the ``unacked`` set per database, and any worker's sweep gives back every
    message in it older than *its* visibility timeout, whoever runs it: workers with a
    short timeout must only share a database with the workers they are meant to rescue
    (never another test run's, nor another group of this run that is busy for longer).
    """
    parts = urlsplit(FAULTS_REDIS_URL)
    db = int(parts.path.strip("/") or 0) + offset
    return urlunsplit(parts._replace(path=f"/{db}"))


#: What start-services.sh runs; used when Redis has to be brought back up.
START_SERVICES = REPO / "scripts" / "start-services.sh"


class FaultWorker(WorkerProcess):
    """A ``celery worker`` on ``tests.support.fault_settings`` with ``overrides`` applied.

    ``queue``: consume an existing worker's queue (a replacement for a killed worker gets
    the messages its predecessor left behind).
    """

    def __init__(
        self,
        database: dict,
        broker: str,
        log_path: Path,
        overrides: dict,
        *,
        queue: str | None = None,
        application_name: str | None = None,
    ):
        super().__init__(database, broker, log_path)
        self.database = database
        if queue:
            self.queue = queue
        self.application_name = application_name or f"oscar-gpt-fault-{uuid.uuid4().hex[:8]}"
        settings = {**overrides, "DB_APPLICATION_NAME": self.application_name}
        self.overrides = overrides
        self.env = self.env | {
            "DJANGO_SETTINGS_MODULE": "tests.support.fault_settings",
            "OSCAR_GPT_TEST_SETTINGS": json.dumps(settings),
        }

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged or given back to the broker."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(30)

    def replacement(self, log_path: Path) -> FaultWorker:
        """A new worker with the same settings, on the same queue (not started yet)."""
        return FaultWorker(
            self.database,
            self.broker,
            log_path,
            self.overrides,
            queue=self.queue,
            application_name=self.application_name,
        )


@contextlib.contextmanager
def tasks_sent_to(worker: WorkerProcess):
    """Point this process's Celery app at ``worker``'s broker and queue, so the services'
    ``task.delay()`` calls (queued on commit) reach it; restore the app afterwards."""
    from sandbox.celery import app

    keys = ("broker_url", "result_backend", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url=worker.broker, result_backend=worker.broker, task_default_queue=worker.queue
    )
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections(app)


def kill_server(server) -> None:
    """SIGKILL llama.cpp's server (a crash, not a shutdown); ``server.start()`` brings it
    back on the same port."""
    process, server.process = server.process, None
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # started in a session of its own
        process.wait(30)


def terminate_backends(application_name: str) -> int:
    """``pg_terminate_backend`` every PostgreSQL connection tagged ``application_name``
    (a worker's); how many were terminated."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = %s",
            [application_name],
        )
        return cursor.fetchone()[0]


def redis_client(url: str = FAULTS_REDIS_URL):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_up(url: str = FAULTS_REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis_client(url).ping())
    except redis.RedisError:
        return False


def _redis_dir(client) -> Path:
    return Path(client.config_get("dir")["dir"])


@contextlib.contextmanager
def redis_restarted(url: str = FAULTS_REDIS_URL, down_s: float = 3.0, timeout: float = 60):
    """Shut Redis down (saving its data first, as a Redis with persistence would: queued
    messages survive) and start it again ``down_s`` later; the body runs while it is down.

    It is started again in every case (``finally``), the way start-services.sh starts it,
    and the snapshot written for the restart is deleted once it has been loaded.
    """
    import redis

    client = redis_client(url)
    snapshot = _redis_dir(client) / (client.config_get("dbfilename")["dbfilename"])
    had_snapshot = snapshot.exists()
    try:
        with contextlib.suppress(redis.ConnectionError):  # it hangs up as it goes down
            client.shutdown(save=True)
        deadline = time.monotonic() + timeout
        while redis_up(url):
            if time.monotonic() > deadline:
                raise RuntimeError("Redis did not shut down")
            time.sleep(0.1)
        yield
        time.sleep(down_s)
    finally:
        start_redis(url, timeout)
        if not had_snapshot:
            snapshot.unlink(missing_ok=True)


def start_redis(url: str = FAULTS_REDIS_URL, timeout: float = 60) -> None:
    """Start Redis if it is down (start-services.sh; it leaves a running server alone)."""
    deadline = time.monotonic() + timeout
    while not redis_up(url):
        subprocess.run(
            ["bash", str(START_SERVICES)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=max(5, deadline - time.monotonic()),
            check=False,
        )
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis did not come back at {url}")
