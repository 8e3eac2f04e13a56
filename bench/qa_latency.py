"""Shoppers asking through the sandbox's web server and a real Celery worker, for
``bench/bench_qa.py`` and ``bench/load_qa.py``.

:class:`Worker` is ``celery -A sandbox worker``, :class:`Server` Django's ``runserver`` and
:class:`GunicornServer` gunicorn, each a process of its own with the benchmark's environment
(settings, database, broker). :class:`Shopper` is one browser: its own session cookie and
CSRF token, HTTP/1.1 through ``http.client``, the JSON door of the product page's widget
(``Accept: application/json``), optionally from a loopback address of its own (127.0.0.x),
so per-IP rate limits see separate shoppers. :func:`throwaway_database` creates and drops a
PostgreSQL database for one run.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Process:
    """A child process whose output goes to a log file; stopped by its own pid only."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return ""

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"{self.command[:4]} exited with {self.process.returncode}:\n{self.log()}"
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Worker(_Process):
    """A Celery worker on the benchmark's own queue."""

    def __init__(self, env, log_path, queue: str, pool: str = "solo", concurrency: int = 1):
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sandbox",
            "worker",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-l",
            "info",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        super().__init__(command, env, log_path)
        self.shell = (
            f"celery -A sandbox worker -P {pool} -c {concurrency} -Q {queue} "
            "--without-gossip --without-mingle --without-heartbeat"
        )

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if " ready." in self.log():
                return
            time.sleep(0.5)
        raise RuntimeError(f"worker not ready after {timeout:.0f} s:\n{self.log()}")


class _Listening(_Process):
    #: The loopback port it listens on.
    port: int

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with socket.socket() as sock:
                sock.settimeout(1)
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"web server not listening after {timeout:.0f} s:\n{self.log()}")


class Server(_Listening):
    """Django's threaded development server, as ``runserver --noreload`` runs it, with a
    longer listen backlog (``bench/qa_server.py``)."""

    def __init__(self, env, log_path, port: int):
        self.port = port
        super().__init__(
            [sys.executable, str(ROOT / "bench" / "qa_server.py"), str(port)], env, log_path
        )
        self.shell = f"python bench/qa_server.py {port}"


class GunicornServer(_Listening):
    """The sandbox's WSGI application (or ``app``) under gunicorn, on 127.0.0.1 only:
    ``workers`` processes, each with ``threads`` threads (gthread; 1: the sync worker)."""

    def __init__(
        self,
        env,
        log_path,
        port: int,
        workers: int = 2,
        threads: int = 1,
        app: str = "sandbox.wsgi:application",
    ):
        self.port = port
        options = [
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--threads",
            str(threads),
            "--backlog",
            "256",
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
            "--no-control-socket",  # gunicorn 25+: else a socket in ~/.gunicorn, shared
        ]
        super().__init__([sys.executable, "-m", "gunicorn", *options, app], env, log_path)
        self.shell = "gunicorn " + " ".join(options) + " " + app


def make_server(kind: str, env, log_path, port: int, workers: int = 2, threads: int = 1):
    """``kind``: "runserver" (:class:`Server`) or "gunicorn" (:class:`GunicornServer`)."""
    if kind == "gunicorn":
        return GunicornServer(env, log_path, port, workers, threads)
    return Server(env, log_path, port)


class throwaway_database:
    """``with throwaway_database(url):`` a PostgreSQL database created for the run and
    dropped after it (also after an error or Ctrl-C); one left by a killed run is dropped
    first. Only for a name the benchmark owns."""

    def __init__(self, url: str):
        parsed = urllib.parse.urlsplit(url)
        self.name = parsed.path.lstrip("/")
        if not self.name or not parsed.scheme.startswith("postgres"):
            raise ValueError(f"not a PostgreSQL database URL: {url}")
        self.admin_url = urllib.parse.urlunsplit(parsed._replace(path="/postgres"))

    def _execute(self, *statements: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            for statement in statements:
                conn.execute(sql.SQL(statement).format(sql.Identifier(self.name)))

    def __enter__(self):
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", "CREATE DATABASE {}")
        return self

    def __exit__(self, *exc_info):
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        return False


@dataclass
class Reply:
    status: int
    payload: dict
    seconds: float
    #: The ``Retry-After`` header ("" when none).
    retry_after: str = ""


class Shopper:
    """One browser: a session cookie once the shop has set it, and a CSRF cookie + header."""

    def __init__(
        self, port: int, language: str = "en-gb", source: str | None = None, timeout: float = 120
    ):
        self.port = port
        self.language = language
        #: The loopback address it connects from (None: the system's choice, 127.0.0.1).
        self.source = source
        self.timeout = timeout
        #: Extra request headers (``bench/load_qa.py``'s X-Forwarded-For).
        self.headers: dict[str, str] = {}
        self.csrf = secrets.token_hex(16)  # 32 characters: a valid CSRF secret
        self.cookies = {"csrftoken": self.csrf}

    def _request(
        self, method: str, path: str, body: str | None = None, accept: str = "application/json"
    ) -> Reply:
        headers = {
            **self.headers,
            "Accept": accept,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.csrf
        connection = http.client.HTTPConnection(
            "127.0.0.1",
            self.port,
            timeout=self.timeout,
            source_address=(self.source, 0) if self.source else None,
        )
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
        finally:
            connection.close()
        if accept != "application/json":
            payload = {"bytes": len(data)}
        else:
            try:
                payload = json.loads(data or b"{}")
            except ValueError:
                payload = {"error": data[:300].decode(errors="replace")}
        return Reply(response.status, payload, seconds, response.getheader("Retry-After") or "")

    def ask(self, product_id: int, text: str) -> Reply:
        return self.post(f"/{self.language}/gpt/qa/{product_id}/ask/", {"question": text})

    def post(self, path: str, fields: dict[str, str]) -> Reply:
        """A form POST (with the CSRF token) that wants JSON back."""
        return self._request("POST", path, urllib.parse.urlencode(fields))

    def status(self, url: str) -> Reply:
        return self._request("GET", url)

    def page(self, url: str) -> Reply:
        """A page as a browser asks for it (the HTML alone, not its images or scripts)."""
        return self._request("GET", url, accept="text/html,application/xhtml+xml")


@dataclass
class Asked:
    """One question through the shop: submitted, then followed until it is done."""

    key: str
    product_id: int
    text: str
    #: From the POST to the first status that is done (or to the POST's answer).
    seconds: float = 0.0
    #: The POST alone.
    post_seconds: float = 0.0
    http_status: int = 0
    status: str = ""
    source: str = ""
    public_id: str = ""
    #: The POST already answered it (a stored answer): not a cache miss.
    answered_at_once: bool = False
    #: Why the question failed (the POST, or no answer in time); "" when it did not.
    error: str = ""
    #: Status polls that failed (the widget polls again; so does the shopper here).
    poll_errors: int = 0


def ask_and_wait(
    shopper: Shopper, asked: Asked, poll_interval: float = 0.1, timeout: float = 600
) -> Asked:
    started = time.perf_counter()
    reply = shopper.ask(asked.product_id, asked.text)
    asked.post_seconds = reply.seconds
    asked.http_status = reply.status
    if reply.status not in (200, 202):
        asked.error = f"HTTP {reply.status}: {reply.payload}"
        return asked
    payload = reply.payload
    asked.public_id = payload.get("id", "")
    asked.answered_at_once = bool(payload.get("done"))
    while not payload.get("done"):
        if time.perf_counter() - started > timeout:
            asked.error = f"not done after {timeout:.0f} s"
            break
        time.sleep(poll_interval)
        status = shopper.status(reply.payload["status_url"])
        if status.status != 200:
            asked.poll_errors += 1
            continue
        payload = status.payload
    asked.seconds = time.perf_counter() - started
    asked.status = payload.get("status", "")
    asked.source = payload.get("source", "")
    return asked


def run_shoppers(
    port: int, items: list, concurrency: int, work: Callable[[Shopper, object], None]
) -> None:
    """``concurrency`` shoppers, each taking the next item until none is left; all start at
    once (a barrier), so the first requests are concurrent too."""
    lock = threading.Lock()
    pending = list(reversed(items))
    barrier = threading.Barrier(concurrency)
    errors: list[BaseException] = []

    def shopper_loop() -> None:
        shopper = Shopper(port)
        barrier.wait()
        while True:
            with lock:
                if not pending:
                    return
                item = pending.pop()
            try:
                work(shopper, item)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=shopper_loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
