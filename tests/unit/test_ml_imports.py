"""The machine-learning libraries are imported one thread at a time (oscar_gpt.llm.imports).

A worker runs tasks in several threads (the threads pool; the solo pool's timer thread runs
countdown tasks), and transformers' lazily built namespace fails a second thread that imports
from it while the first is still building it."""

import sys
import threading
import time

import pytest

from oscar_gpt.llm.imports import import_name, import_names


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    """A module whose import blocks until the test lets it finish."""
    (tmp_path / "oscar_gpt_slow_import.py").write_text(
        "import threading\n"
        "started = threading.Event()\n"
        "release = threading.Event()\n"
        "import builtins\n"
        "builtins._oscar_gpt_slow_import_events = (started, release)\n"
        "started.set()\n"
        "release.wait(10)\n"
        "VALUE = 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "oscar_gpt_slow_import"
    sys.modules.pop("oscar_gpt_slow_import", None)
    import builtins

    if hasattr(builtins, "_oscar_gpt_slow_import_events"):
        del builtins._oscar_gpt_slow_import_events


def test_a_second_import_waits_for_the_one_in_progress(slow_module):
    import builtins

    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("first", import_name(slow_module, "VALUE"))
    )
    first.start()
    for _ in range(1000):
        events = getattr(builtins, "_oscar_gpt_slow_import_events", None)
        if events and events[0].is_set():
            break
        time.sleep(0.01)
    else:
        pytest.fail("the slow import never started")
    started, release = events
    second = threading.Thread(
        target=lambda: results.setdefault("second", import_names("json", "dumps", "loads"))
    )
    second.start()
    second.join(0.5)
    # While the first import is still running, an unrelated one from another thread waits.
    assert second.is_alive() and "second" not in results
    release.set()
    first.join(10)
    second.join(10)
    assert results["first"] == 42
    import json

    assert results["second"] == (json.dumps, json.loads)


def test_a_missing_name_is_an_import_error():
    with pytest.raises(ImportError, match="cannot import name 'no_such_name' from 'json'"):
        import_name("json", "no_such_name")
    with pytest.raises(ModuleNotFoundError):
        import_name("oscar_gpt_no_such_module", "anything")


def _waits_for_loading(build) -> list:
    """Run ``build(record)`` in a thread while this one holds ``loading()``; the model must
    not be built before the lock is let go. Returns what was recorded."""
    from oscar_gpt.llm.imports import loading
    from oscar_gpt.llm.local import pick_device

    pick_device("cpu")  # torch imported here, not in the thread (slow enough to look like waiting)
    built = []
    with loading():
        thread = threading.Thread(target=build, args=(built.append,))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and built == []  # waiting for the other load
    thread.join(10)
    assert not thread.is_alive()
    return built


def test_models_are_built_one_at_a_time(monkeypatch):
    """transformers and accelerate build weights on the "meta" device through process-wide
    switches: a model built in another thread meanwhile gets weights without data."""
    from oscar_gpt.llm import local

    class FakeLoaded:
        def __init__(self, source, *settings):
            self.source = source

    monkeypatch.setattr(local, "LoadedModel", FakeLoaded)
    source = local.ModelSource("test-only-model-built-once", None)

    def build(record):
        record(local.load_model(source, "cpu"))

    try:
        built = _waits_for_loading(build)
        assert built[0].source == source
    finally:
        local._models.pop(local.model_key(source, "cpu"), None)


def test_embedders_are_built_one_at_a_time(monkeypatch):
    from oscar_gpt.llm import embeddings, imports

    class FakeSentenceTransformer:
        def __init__(self, model, device):
            self.model = model

        def get_sentence_embedding_dimension(self):
            return 3

    real = imports.import_name
    monkeypatch.setattr(
        imports,
        "import_name",
        lambda module, name: FakeSentenceTransformer
        if module == "sentence_transformers"
        else real(module, name),
    )

    def build(record):
        record(embeddings.Embedder(model="test-only-embedder", device="cpu"))

    built = _waits_for_loading(build)
    assert built[0].model.model == "test-only-embedder" and built[0].dimension == 3
