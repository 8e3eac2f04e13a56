"""One tiny completion per backend: is it configured, reachable, and how fast?"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from . import llm
from .llm.registry import get_backend

PROBE_MESSAGES = [
    {"role": "system", "content": "You are a helpful shop assistant. Answer in a few words."},
    {"role": "user", "content": "Say hello to a customer."},
]


@dataclass
class ProbeResult:
    backend: str
    model: str
    device: str
    ok: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    text: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def probe_backend(alias: str, *, max_tokens: int = 12) -> ProbeResult:
    """Run one short completion on ``alias`` through the ledger (feature ``check``)."""
    try:
        backend = get_backend(alias)
        info = backend.describe()
    except llm.BackendError as exc:
        return ProbeResult(alias, "?", "?", ok=False, error=str(exc))
    started = time.perf_counter()
    try:
        completion = llm.chat(
            "check", PROBE_MESSAGES, backend=alias, max_tokens=max_tokens, temperature=0
        )
    except Exception as exc:
        return ProbeResult(
            alias,
            info.get("model", "?"),
            str(info.get("device", "?")),
            ok=False,
            latency_ms=int((time.perf_counter() - started) * 1000),
            error=f"{type(exc).__name__}: {exc}",
        )
    return ProbeResult(
        alias,
        completion.model,
        str(info.get("device", "?")),
        ok=bool(completion.completion_tokens),
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_ms=int((time.perf_counter() - started) * 1000),
        text=completion.text,
        error="" if completion.completion_tokens else "the backend returned no tokens",
    )
