"""A WSGI application with no framework, for ``bench/bench_qa.py``'s cache hits: it reads the
POST and answers a short JSON, with no session, database or middleware.

Served by gunicorn as the shop is (the same workers and threads), and asked by the same
shoppers, it is what the web server and the shoppers themselves cost on the machine: the
floor under the framework's floor (``bench/qa_urls.py``).
"""

BODY = b'{"done": true, "status": "answered", "source": "bare"}'


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]
    )
    return [BODY]
