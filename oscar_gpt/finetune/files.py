"""The files of a training data export, and reading them back: no models and no database, so
the trainer (and ``bench/gpu_check.py``) can use them without a shop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FILES = {
    "train": "train.jsonl",
    "validation": "validation.jsonl",
    "openai_train": "openai-train.jsonl",
    "openai_validation": "openai-validation.jsonl",
    "summary": "summary.json",
}


def read_examples(path: str | Path) -> list[dict[str, Any]]:
    """The records of one of the local JSONL files."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
