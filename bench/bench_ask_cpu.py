"""What one cache hit of the Q&A ask costs the web process, in process and one at a time.

A question asked before is answered from its stored answer by the ask view
(``oscar_gpt.qa.views.AskView``, JSON). Each request goes through Django's WSGI handler and
the sandbox's whole middleware stack, as gunicorn's worker calls it, with no network and no
other load: the wall and CPU time of each, and its SQL statements. The reference, in the same
run, is the framework's floor: the same POST to a view that does nothing but start the
shopper's session (``bench/qa_urls.py``).

Under load (``bench_qa.py --latency-only``) a hit's p95 depends on everything else sharing
the cores; the CPU a hit costs here does not, so two versions of the code compare better here.

The shop is throwaway: the sandbox's settings (``bench/qa_settings.py``, ``DJANGO_DEBUG=0``,
database connections kept as a production web tier keeps them), a fresh SQLite file in a
temporary folder, or ``--database-url postgres://.../NAME``, a database created for the run
and dropped after it. ``--sessions`` and ``--cache-url`` try another session engine and a
cache in Redis (``cached_db`` sessions read the cache first). Run from the repository root::

    python bench/bench_ask_cpu.py [--requests 500] \\
        [--database-url postgres://postgres@127.0.0.1:5432/oscar_gpt_bench_ask] \\
        [--sessions django.contrib.sessions.backends.cached_db \\
         --cache-url redis://127.0.0.1:6379/14]

Not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def wsgi_caller(app):
    """``call(path)``: one shopper's form POST (CSRF cookie and header, its session cookie
    once set) through ``app``; returns the status line."""
    csrf = secrets.token_hex(16)
    cookies = {"csrftoken": csrf}
    body = b"question=What+is+the+battery+life%3F"

    def start_response(status, headers, exc_info=None):
        for header, value in headers:
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
        start_response.status = status

    def call(path: str) -> str:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_ACCEPT": "application/json",
            "HTTP_X_CSRFTOKEN": csrf,
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        b"".join(app(environ, start_response))
        return start_response.status

    return call


def make_shop():
    """A public product with an answer stored for the benchmark's question; its id."""
    from django.utils import timezone
    from oscar.core.loading import get_model

    from oscar_gpt.models import EvidenceSet, Question
    from oscar_gpt.qa import service

    ProductClass = get_model("catalogue", "ProductClass")
    Product = get_model("catalogue", "Product")
    product = Product.objects.create(
        product_class=ProductClass.objects.create(name="Headphones"),
        title="Quietwave Pro",
        structure=Product.STANDALONE,
        is_public=True,
    )
    fingerprint = "f" * 64
    EvidenceSet.objects.create(product=product, fingerprint=fingerprint, embedding_model="bench")
    text = "What is the battery life?"
    Question.objects.create(
        product=product,
        text=text,
        normalised=service.normalise(text),
        language="en-gb",
        status=Question.Status.ANSWERED,
        source=Question.Source.STAFF,
        answer="30 hours.",
        fingerprint=fingerprint,
        answered_at=timezone.now(),
    )
    return product.pk


def measure(call, path: str, requests: int) -> dict:
    from django.db import connection

    for _ in range(max(requests // 10, 5)):  # warm: the session made, the query compiled
        status = call(path)
        if not status.startswith("200"):
            raise RuntimeError(f"{path}: {status}")
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call(path)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        call(path)
    return {
        "wall_ms": (time.perf_counter() - wall) / requests * 1e3,
        "cpu_ms": (time.process_time() - cpu) / requests * 1e3,
        "queries": len(statements),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="timed requests of each")
    parser.add_argument("--database-url", help="postgres://.../NAME, created and dropped")
    parser.add_argument("--rounds", type=int, default=2, help="hits and floor, in turns")
    parser.add_argument(
        "--sessions",
        help="SESSION_ENGINE, e.g. django.contrib.sessions.backends.cached_db (default: the "
        "sandbox's database sessions)",
    )
    parser.add_argument("--cache-url", help="Django's cache in Redis: redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    sys.path[:0] = [str(ROOT), str(BENCH)]
    from qa_latency import throwaway_database

    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_ask_")))
        database = args.database_url or f"sqlite:///{work / 'shop.sqlite3'}"
        if args.database_url:
            stack.enter_context(throwaway_database(args.database_url))
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "qa_settings",
                "DATABASE_URL": database,
                "SANDBOX_VAR_DIR": str(work / "var"),
                "SANDBOX_SEARCH_INDEX": str(work / "var" / "whoosh_index"),
                "DJANGO_DEBUG": "0",
                "BENCH_CONN_MAX_AGE": "60",
                "OSCAR_GPT_LOG": "WARNING",
                "HF_HUB_OFFLINE": "1",
            }
        )
        if args.sessions:
            os.environ["BENCH_SESSION_ENGINE"] = args.sessions
        if args.cache_url:
            os.environ["BENCH_CACHE_URL"] = args.cache_url
            os.environ["BENCH_CACHE_PREFIX"] = f"bench-ask-{secrets.token_hex(4)}"
        import django

        django.setup()
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application
        from django.db import connection, connections

        call_command("migrate", verbosity=0)
        product_id = make_shop()
        call = wsgi_caller(get_wsgi_application())
        paths = {
            "ask, answered from the stored answer": f"/en-gb/gpt/qa/{product_id}/ask/",
            "the floor (bench/qa_urls.py)": f"/en-gb/bench/floor/{product_id}/ask/",
        }
        results: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                results[name].append(measure(call, path, args.requests))
        from django.conf import settings

        vendor = connection.vendor
        setup = f"{vendor}; sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}"
        setup += f"; cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
        if args.cache_url:  # the run's keys out of the shared Redis (its own prefix)
            import redis

            client = redis.Redis.from_url(args.cache_url)
            for key in client.scan_iter(match=os.environ["BENCH_CACHE_PREFIX"] + ":*"):
                client.delete(key)
        connections.close_all()

    print(
        f"Q&A ask in process, one request at a time ({args.requests} timed a round, "
        f"{args.rounds} rounds in turns); {setup}; load average {os.getloadavg()[0]:.1f}, "
        f"{os.cpu_count()} cores"
    )
    header = f"{'request':<40} {'wall ms':>16} {'CPU ms':>16} {'SQL':>4}"
    print(header)
    print("-" * len(header))
    for name, rounds in results.items():
        wall = ", ".join(f"{r['wall_ms']:.2f}" for r in rounds)
        cpu = ", ".join(f"{r['cpu_ms']:.2f}" for r in rounds)
        print(f"{name:<40} {wall:>16} {cpu:>16} {rounds[-1]['queries']:>4}")
    hit, floor = (results[name] for name in paths)
    extra = [h["cpu_ms"] - f["cpu_ms"] for h, f in zip(hit, floor, strict=True)]
    print("the hit's own CPU (hit - floor, each round): " + ", ".join(f"{e:.2f} ms" for e in extra))


if __name__ == "__main__":
    main()
