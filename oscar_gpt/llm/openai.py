"""The OpenAI API and any OpenAI-compatible server (vLLM, llama.cpp, Ollama, Azure, TGI).

Uses the official ``openai`` client. The API key is read from the environment
(``OPENAI_API_KEY`` by default, ``API_KEY_ENV`` names another variable); it is never stored
in the database, logged or printed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any

import openai
from django.core.checks import Error, Warning

from .base import Backend, Completion, Messages, Moderation, StreamChunk
from .errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadRequest,
    RateLimited,
)

logger = logging.getLogger(__name__)

#: What servers that need no key (a local llama.cpp or vLLM) are sent as the key.
NO_KEY = "no-key-needed"


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return seconds / 1000 if name.endswith("-ms") else seconds
    return None


def map_error(exc: Exception, alias: str) -> BackendError:
    """Translate the client's exceptions into our small set (retryable or final)."""
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, openai.APITimeoutError):
        return BackendTimeout(message, backend=alias)
    if isinstance(exc, openai.APIConnectionError):
        return BackendUnavailable(message, backend=alias)
    if isinstance(exc, openai.RateLimitError):
        return RateLimited(message, backend=alias, retry_after=_retry_after(exc))
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return AuthenticationFailed(message, backend=alias)
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (408, 409) or exc.status_code >= 500:
            return BackendUnavailable(message, backend=alias, retry_after=_retry_after(exc))
        return BadRequest(message, backend=alias)
    if isinstance(exc, openai.OpenAIError):
        return BackendUnavailable(message, backend=alias)
    raise exc


class OpenAIBackend(Backend):
    """Chat completions, streaming and embeddings through ``openai.OpenAI``."""

    default_config = {
        "MODEL": "gpt-4o-mini",
        #: None: api.openai.com. Any OpenAI-compatible server: "http://host:8000/v1".
        "BASE_URL": None,
        #: The environment variable that holds the key; the key itself is never a setting.
        "API_KEY_ENV": "OPENAI_API_KEY",
        "ORGANIZATION": None,
        #: Seconds per request.
        "TIMEOUT": 60.0,
        #: The client's own retries (with back-off) before an error reaches us.
        "MAX_RETRIES": 2,
        "MAX_TOKENS": 512,
        "TEMPERATURE": 0.7,
        #: Parallel requests made by complete_batch.
        "CONCURRENCY": 4,
        "EMBEDDING_MODEL": None,
        #: Calls leave the shop: personal data is scrubbed first.
        "EXTERNAL": True,
        #: Send shoppers' questions through the moderation endpoint first. None: only on
        #: OpenAI's own API (OpenAI-compatible servers rarely have the endpoint).
        "MODERATION": None,
        "MODERATION_MODEL": "omni-moderation-latest",
    }

    @property
    def model_name(self) -> str:
        return self.config["MODEL"]

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.config["API_KEY_ENV"] or "OPENAI_API_KEY") or None

    @cached_property
    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=self.api_key or NO_KEY,
            base_url=self.config["BASE_URL"] or None,
            organization=self.config["ORGANIZATION"],
            timeout=float(self.config["TIMEOUT"]),
            max_retries=int(self.config["MAX_RETRIES"]),
        )

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["device"] = self.config["BASE_URL"] or "api.openai.com"
        return info

    def check(self):
        messages = []
        if self.api_key is None:
            env = self.config["API_KEY_ENV"]
            if self.config["BASE_URL"]:
                messages.append(
                    Warning(
                        f"Backend '{self.alias}' has no API key (${env} is not set); the "
                        f"server at {self.config['BASE_URL']} must accept requests without one.",
                        hint=f"Export {env} if the server needs a key.",
                        id="oscar_gpt.W002",
                    )
                )
            else:
                messages.append(
                    Error(
                        f"Backend '{self.alias}' talks to the OpenAI API but ${env} is not set.",
                        hint=f"Export {env} in the environment of the web server and the "
                        "workers. Keys are never read from the database.",
                        id="oscar_gpt.E004",
                    )
                )
        if not self.config["MODEL"]:
            messages.append(Error(f"Backend '{self.alias}' has no MODEL.", id="oscar_gpt.E007"))
        return messages

    def _request(self, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model_name,
            "messages": list(messages),
            "max_tokens": int(params.get("max_tokens") or self.config["MAX_TOKENS"]),
            "temperature": float(
                self.config["TEMPERATURE"]
                if params.get("temperature") is None
                else params["temperature"]
            ),
        }
        if params.get("seed") is not None:
            request["seed"] = int(params["seed"])
        if params.get("stop"):
            request["stop"] = list(params["stop"])
        return request

    def complete(self, messages: Messages, **params: Any) -> Completion:
        try:
            response = self.client.chat.completions.create(**self._request(messages, params))
        except openai.OpenAIError as exc:
            raise map_error(exc, self.alias) from exc
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=(choice.message.content or "").strip(),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            model=response.model or self.model_name,
            finish_reason=choice.finish_reason or "",
            extra={"request_id": getattr(response, "_request_id", None) or response.id},
        )

    def complete_batch(self, conversations: Sequence[Messages], **params: Any) -> list[Completion]:
        """Concurrent requests (``CONCURRENCY``); results in the order asked."""
        workers = max(1, min(int(self.config["CONCURRENCY"]), len(conversations)))
        with ThreadPoolExecutor(workers, thread_name_prefix="oscar-gpt-openai") as pool:
            futures = [pool.submit(self.complete, m, **params) for m in conversations]
        results, first_error = {}, None
        for index, future in enumerate(futures):
            try:
                results[index] = future.result()
            except BackendError as exc:
                first_error = first_error or exc
        if first_error is not None:
            #: what did complete, so the ledger records the tokens those calls used
            first_error.completed = results
            raise first_error
        return [results[i] for i in range(len(conversations))]

    def stream(self, messages: Messages, **params: Any) -> Iterator[StreamChunk]:
        request = self._request(messages, params)
        reason, usage = "", None
        try:
            # ``with``: a reader that stops early closes the HTTP response, and the server
            # stops generating.
            with self.client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            ) as stream:
                for event in stream:
                    if event.usage is not None:
                        usage = event.usage
                    for choice in event.choices or ():
                        if choice.finish_reason:
                            reason = choice.finish_reason
                        if choice.delta and choice.delta.content:
                            yield StreamChunk(delta=choice.delta.content)
        except openai.OpenAIError as exc:
            raise map_error(exc, self.alias) from exc
        if usage is None:
            logger.warning(
                "%s (%s) sent no token usage with a stream; the ledger row has 0 tokens",
                self.alias,
                self.config["BASE_URL"] or "api.openai.com",
            )
        yield StreamChunk(
            delta="",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            finish_reason=reason,
        )

    @property
    def moderates(self) -> bool:
        setting = self.config["MODERATION"]
        return not self.config["BASE_URL"] if setting is None else bool(setting)

    def moderate(self, text: str) -> Moderation:
        if not self.moderates:
            return Moderation(flagged=False)
        try:
            response = self.client.moderations.create(
                model=self.config["MODERATION_MODEL"], input=text
            )
        except openai.OpenAIError as exc:
            raise map_error(exc, self.alias) from exc
        result = response.results[0]
        categories = result.categories.model_dump(by_alias=True) if result.categories else {}
        return Moderation(
            flagged=bool(result.flagged),
            categories=sorted(name for name, hit in categories.items() if hit),
            model=getattr(response, "model", "") or self.config["MODERATION_MODEL"],
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not self.config["EMBEDDING_MODEL"]:
            return super().embed(texts)
        try:
            response = self.client.embeddings.create(
                model=self.config["EMBEDDING_MODEL"], input=list(texts)
            )
        except openai.OpenAIError as exc:
            raise map_error(exc, self.alias) from exc
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
