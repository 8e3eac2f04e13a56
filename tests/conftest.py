"""Shared fixtures: the real local model, the real services and the real model server.

A test that needs a service (PostgreSQL, Redis, a Celery worker, llama.cpp's server) skips
with the reason when it is missing on a developer's machine, and FAILS when ``CI`` or
``OSCAR_GPT_REQUIRE_SERVICES`` is set: CI must never go green by skipping them.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = bool(os.environ.get("CI") or os.environ.get("OSCAR_GPT_REQUIRE_SERVICES"))


def missing_service(reason: str):
    """Fail in CI, skip elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_backend():
    """The default local backend (SmolLM2-135M-Instruct GGUF), loaded once per test run."""
    from oscar_gpt.llm.local import TransformersBackend

    backend = TransformersBackend("local", {"MAX_NEW_TOKENS": 24})
    assert backend.loaded.model is not None  # load now: the first test isn't billed for it
    return backend


@pytest.fixture(scope="session")
def embedder():
    from oscar_gpt.llm.embeddings import Embedder

    return Embedder()


def start_llama_server():
    """A started llama.cpp server of its own, or the test fails in CI (skips elsewhere)."""
    from tests.support.llamacpp import LlamaServer

    if not LlamaServer.available():
        missing_service("llama-cpp-python's server is not installed (see README: make test)")
    server = LlamaServer()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - any start failure is reported the same way
        missing_service(f"llama.cpp server did not start: {exc}")
    return server


@pytest.fixture(scope="session")
def llama_server():
    """llama-cpp-python's OpenAI-compatible server on the same GGUF, on a free port."""
    server = start_llama_server()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _search_index(settings, tmp_path):
    """A fresh Whoosh index per test: catalogue pages never list another test's products."""
    from haystack import connections

    settings.HAYSTACK_CONNECTIONS = {
        "default": {
            "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
            "PATH": str(tmp_path / "whoosh_index"),
        }
    }
    connections.connections_info = settings.HAYSTACK_CONNECTIONS
    connections.reload("default")
    yield
    connections.reload("default")


@pytest.fixture(autouse=True)
def _fresh_vector_index():
    """No test searches the product vectors another test loaded: a process trusts its index
    for ``RECHECK_SECONDS``, and a rolled-back transaction sends no signal."""
    import sys

    module = sys.modules.get("oscar_gpt.recommendations.embeddings")
    if module is not None:
        module.clear_cache()
    yield


@pytest.fixture(autouse=True)
def _no_remembered_refusals():
    """The fast-refusal middleware's table is per process: no test inherits another's."""
    import sys

    module = sys.modules.get("oscar_gpt.middleware")
    if module is not None:
        module.REFUSED.clear()
    yield
