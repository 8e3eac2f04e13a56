"""Schemathesis against every operation of the app's OpenAPI schema (``gpt/api/schema/``).

Each operation is called with generated requests, valid and invalid, as an anonymous
shopper and as a signed-in superuser, with the cookies and CSRF header a shop's own front
end sends. No request may end in a 5xx; a success must be the one the schema documents, and
every response the schema documents must match it (content type and body).

Requests go through Django's real WSGI handler and middleware (sessions, CSRF, locale,
``ATOMIC_REQUESTS``) inside the test's transaction, which is never committed: the Celery
tasks that asking a question or starting a job queue "on commit" are never sent, and a
guard fails the test should anything reach a model or the broker all the same.
"""

from __future__ import annotations

import hashlib
import json
import traceback
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from uuid import UUID

import haystack
import numpy as np
import pytest
import schemathesis
import werkzeug
from celery.app.task import Task
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from oscar_gpt import llm
from oscar_gpt.app_settings import app_settings
from oscar_gpt.descriptions import service as descriptions
from oscar_gpt.llm import embeddings
from oscar_gpt.models import Draft, GenerationJob, GenerationJobItem, Revision
from oscar_gpt.qa import service as qa
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.fuzz import EXPLORE, fuzz_settings

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:.* is not implemented in this backend:UserWarning"),
]

#: Requests per operation and caller in the random (fuzzing) phase; schemathesis adds its
#: examples and coverage cases (boundaries, missing and wrong-typed fields) to these.
MAX_EXAMPLES = 25
#: The client errors DRF may answer any endpoint with (bad input, not signed in, not allowed,
#: no such object, wrong method, media type or Accept header). The schema documents them for
#: the Q&A endpoints only; the descriptions endpoints document their success alone.
CLIENT_ERRORS = {400, 401, 403, 404, 405, 406, 415}
#: A CSRF secret as Django's cookie holds it (32 letters and digits); the header carries it.
CSRF_TOKEN = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"


def _schema_url() -> str:
    with translation.override("en-gb"):
        return reverse("oscar_gpt:schema")


def _schema() -> dict:
    """The schema ``gpt/api/schema/`` serves (the test below checks they are the same),
    generated here because collection runs before any database is there to serve it."""
    with translation.override("en-gb"):
        generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


class InProcessDjango:
    """Django's WSGI handler as Django's test client runs it: a request must not close the
    test's database connection (Django closes it at request start and end otherwise)."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return [body]


SCHEMA = schemathesis.openapi.from_dict(
    _schema(),
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": not EXPLORE,
                # The callers below bring their own session; random credentials would only
                # measure the password hasher.
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)
SCHEMA.app = InProcessDjango()


# -- callers and the shop they call ----------------------------------------------------------


class HashedEmbedder:
    """Stands in for the sentence-embedding model the finder searches with: a unit vector
    from each text's hash. The fuzz is about what the code does with any input, not about
    what the input means, and no model may run here."""

    name = "fuzz-hashed"
    dimension = 32

    def embed(self, texts) -> np.ndarray:
        vectors = np.ones((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).digest()
            vectors[row] += np.frombuffer(digest, dtype=np.uint8)[: self.dimension]
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@dataclass
class Caller:
    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture(params=["anonymous", "superuser"])
def caller(request, django_user_model) -> Caller:
    cookies = {"csrftoken": CSRF_TOKEN}
    if request.param == "superuser":
        user = django_user_model.objects.create_superuser("fuzz-admin", "admin@example.com", "pw")
        client = Client()
        client.force_login(user)
        cookies["sessionid"] = client.cookies["sessionid"].value
    return Caller(request.param, cookies, {"X-CSRFToken": CSRF_TOKEN})


@dataclass
class Shop:
    """Objects of each kind the API addresses, so that generated requests find some."""

    #: Path prefix -> path parameter -> the ids of the shop's objects there.
    ids: dict[str, dict[str, list[object]]]
    #: Celery tasks sent while the test ran (must stay empty).
    sent: list[str]


@pytest.fixture
def shop(settings, monkeypatch, django_user_model) -> Shop:
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        # Rate limits would turn most of the generated requests into 429s.
        "RATE_LIMITS": dict.fromkeys(app_settings.RATE_LIMITS, None),
        # The finder reads the shopper's text against the shop's vocabulary alone.
        "FINDER_USE_MODEL": False,
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A crash is reported with its own traceback, not as a bare 500.
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    cache.clear()
    # Whoosh, the sandbox's search index, is no part of the API: it fails on a burst of
    # saves of one product (reported), and nothing here searches.
    settings.HAYSTACK_CONNECTIONS = {
        "default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}
    }
    haystack.connections.connections_info = settings.HAYSTACK_CONNECTIONS
    haystack.connections.reload("default")

    sent: list[str] = []

    def no_model(*args, **kwargs):
        raise AssertionError("the API called a model while fuzzed")

    def record(task, *args, **kwargs):
        sent.append(task.name)

    for name in ("chat", "chat_batch", "moderate", "get_backend"):
        monkeypatch.setattr(llm, name, no_model)
    monkeypatch.setattr(Task, "apply_async", record)
    monkeypatch.setattr(embeddings, "get_embedder", HashedEmbedder)

    staff = django_user_model.objects.create_user("fuzz-staff", "staff@example.com", "pw")
    product = headphones(headphones_class(), description="Old text.")
    job = GenerationJob.objects.create(
        created_by=staff, status=GenerationJob.Status.RUNNING, params={}, params_hash="fuzz"
    )
    GenerationJobItem.objects.create(
        job=job, product=product, product_title=product.title, status="failed", reason="Timeout."
    )

    def draft(text: str) -> Draft:
        return Draft.objects.create(
            product=product,
            field="description",
            text=text,
            language="en-gb",
            params={},
            params_hash="fuzz",
            backend="local",
            model="m",
            job=job,
        )

    approved = descriptions.approve(draft("Wireless headphones."), user=staff)
    pending = draft("Wireless headphones with a 30 hour battery.")
    answered = qa.ask(product, "Does it fold flat?", enqueue=False)
    qa.staff_answer(answered, "Yes, it folds flat.", user=staff, publish=True)
    waiting = qa.ask(product, "Is it red?", enqueue=False)
    revision = Revision.objects.get(product=product)
    ids = {
        "/descriptions/drafts/": {"id": [pending.pk, approved.pk]},
        "/descriptions/jobs/": {"id": [job.pk]},
        "/descriptions/revisions/": {"id": [revision.pk]},
        "/qa/products/": {"product_id": [product.pk]},
        "/qa/questions/": {"public_id": [str(answered.public_id), str(waiting.public_id)]},
    }
    return Shop(ids, sent)


def _aim_at_the_shop(case, shop: Shop) -> None:
    """Three in four well-formed ids become one of the shop's (chosen by the generated id
    and body, so that runs repeat): requests reach past the 404 to the code behind it."""
    for prefix, values in shop.ids.items():
        if prefix not in case.path:
            continue
        for name, known in values.items():
            current = case.path_parameters.get(name)
            body = case.body if isinstance(case.body, dict | list | str | int) else None
            choice = zlib.crc32(json.dumps([current, body], default=str).encode())
            if choice % 4 and _well_formed(current, known[0]):
                case.path_parameters[name] = known[choice // 4 % len(known)]


def _well_formed(generated, known) -> bool:
    if isinstance(known, int):
        return isinstance(generated, int) and not isinstance(generated, bool)
    try:
        UUID(str(generated))
    except ValueError:
        return False
    return True


def _routed(response) -> bool:
    """Whether the request reached the operation: a malformed id ("null,null" for a UUID)
    matches no URL, and Django's own 404 page answers, not the API."""
    path = unquote(urlsplit(response.request.url).path)
    with translation.override("en-gb"):
        try:
            resolve(path)
        except Resolver404:
            return False
    return True


# -- the tests --------------------------------------------------------------------------------


def test_the_served_schema_is_the_one_fuzzed(client):
    response = client.get(_schema_url(), {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content) == SCHEMA.raw_schema
    assert len(list(SCHEMA.get_all_operations())) >= 15


@pytest.mark.parametrize("caller", ["anonymous"], indirect=True)
def test_work_is_queued_on_commit_only(caller, shop):
    """Why no generated request reaches a worker: asking queues the answering task when
    the transaction commits, and the test's transaction never does."""
    client = werkzeug.Client(SCHEMA.app)
    for name, value in caller.cookies.items():
        client.set_cookie(name, value)
    pending = len(connection.run_on_commit)
    product_id = shop.ids["/qa/products/"]["product_id"][0]
    response = client.post(
        "/en-gb/gpt/api/qa/questions/",
        json={"product": product_id, "question": "How heavy is it?"},
        headers=caller.headers,
    )
    assert response.status_code == 202, response.get_data()
    assert len(connection.run_on_commit) == pending + 1
    assert shop.sent == []


@SCHEMA.parametrize()
@fuzz_settings(MAX_EXAMPLES)
def test_no_server_error_and_documented_responses(case, caller, shop):
    _aim_at_the_shop(case, shop)
    try:
        response = case.call(headers=caller.headers, cookies=caller.cookies)
    except Exception as exc:  # noqa: BLE001 - a crash in the view, with its traceback
        raise AssertionError(
            f"{case.operation.label} crashed for the {caller.name} caller:\n"
            + "".join(traceback.format_exception(exc))
        ) from exc
    assert shop.sent == [], "a Celery task was sent"
    if not _routed(response):
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code == 404
        return
    if case.method.upper() != case.operation.method.upper():
        # A method the operation doesn't have: DRF answers OPTIONS (and HEAD where GET is
        # allowed); any other must be refused.
        case.validate_response(response, checks=[not_a_server_error])
        if case.method.upper() not in ("OPTIONS", "HEAD"):
            assert 400 <= response.status_code < 500, case.as_curl_command()
        return
    case.validate_response(
        response,
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
    # Schemathesis's status_code_conformance, less the undocumented client errors above:
    # a success must be the one the schema documents.
    documented = {int(code) for code in case.operation.definition.raw["responses"]}
    allowed = documented if response.status_code < 400 else documented | CLIENT_ERRORS
    assert response.status_code in allowed, (
        f"{case.operation.label} answered {response.status_code}, documented: "
        f"{sorted(documented)}\n{case.as_curl_command()}"
    )
