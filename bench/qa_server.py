"""``manage.py runserver --noreload`` with room for 50 shoppers at once, for ``bench_qa.py``.

The same server (Django's threaded WSGI development server, one thread per request, the
sandbox's WSGI application), with a listen backlog of 128 connections instead of its 10:
with 10, the 50 concurrent shoppers of the cache-hit run find connections reset.

    python bench/qa_server.py PORT
"""

from __future__ import annotations

import sys

import django
from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)


class BenchServer(ThreadedWSGIServer):
    #: socketserver's listen() backlog (Django's WSGIServer: 10).
    request_queue_size = 128


def main() -> None:
    port = int(sys.argv[1])
    django.setup()
    server = BenchServer(("127.0.0.1", port), WSGIRequestHandler, ipv6=False)
    server.set_app(get_internal_wsgi_application())
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
