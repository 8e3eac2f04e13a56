"""The output layer of a greedy step: float32 (the reference) against ``llm.greedy_head``.

The default model's hidden states as its output layer sees them (its prompts and answers to
a few questions), then for 1, 2, 4 and 8 rows at once: the float32 layer's time, the 8-bit
layer's (with the tokens it recomputes in float32), and whether every row's argmax is the
same; then the time per token of greedy answers through the local backend's running
generation, with the 8-bit layer and without it. With the threads a shopper's step gets
(``THREADS`` "auto": all cores but one). Run from the repository root:

    python bench/bench_greedy_head.py

Not a test; nothing is asserted.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

QUESTIONS = [
    "What is the battery life of these wireless headphones? Answer briefly.",
    "Product: Kettle\nFacts:\n[E1] Capacity: 1.7 l\nQuestion: How much water does it hold?",
    "Write a short poem about the sea.",
    "Explain in three sentences what a laptop is.",
]


def main() -> None:
    import django

    django.setup()
    import torch

    from oscar_gpt.llm.greedy_head import GreedyHead
    from oscar_gpt.llm.int4 import best_seconds
    from oscar_gpt.llm.local import TransformersBackend

    backend = TransformersBackend("local", {})
    lm = backend.loaded
    lm.use_threads(1)
    threads = torch.get_num_threads()
    linear = lm.model.get_output_embeddings()
    states = []
    hook = linear.register_forward_hook(
        lambda module, args, output: states.append(args[0].reshape(-1, args[0].shape[-1]))
    )
    with torch.inference_mode():
        for question in QUESTIONS:
            prompt = lm.tokenizer.apply_chat_template(
                [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
            )
            encoded = lm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
            lm.model.generate(**encoded, max_new_tokens=30, do_sample=False)
    hook.remove()
    hidden = torch.cat(states)
    head = lm.greedy or GreedyHead(linear)
    print(
        f"{lm.source.label}: output layer {tuple(linear.weight.shape)}, {threads} thread(s), "
        f"{len(hidden)} hidden states; the backend {'keeps' if lm.greedy else 'did not keep'} "
        f"the 8-bit layer; load average {os.getloadavg()[0]:.1f}"
    )
    header = f"{'rows':>4} {'float32':>10} {'8-bit':>10} {'speed-up':>9} {'recomputed/row':>15}"
    print(header + f" {'same argmax':>12}")
    print("-" * (len(header) + 13))
    with torch.inference_mode():
        exact = torch.nn.functional.linear(hidden, linear.weight).argmax(-1)
        head.recomputed = head.rows = 0
        with head.active():
            same = int((linear(hidden).argmax(-1) == exact).sum())
        print(
            f"{'all':>4} {'':>10} {'':>10} {'':>9} {head.recomputed / head.rows:>15.0f} "
            f"{same:>5} of {len(hidden)}"
        )
        for rows in (1, 2, 4, 8):
            inputs = hidden[:rows]
            reference = best_seconds(lambda x=inputs: head.original(x), 20)
            with head.active():
                ours = best_seconds(lambda x=inputs: linear(x), 20)
            print(
                f"{rows:>4} {reference * 1e3:>8.2f}ms {ours * 1e3:>8.2f}ms "
                f"{reference / ours:>8.2f}x"
            )

    # Whole steps through the running generation, 8-bit layer against float32.
    print("\ngreedy answers through the backend (rows generated together, 40 tokens at most)")
    kept = lm.greedy
    for rows in (1, 4):
        conversations = [[{"role": "user", "content": q}] for q in QUESTIONS[:rows]]
        figures = []
        for greedy in (None, kept):
            lm.greedy = greedy
            backend.complete_batch(conversations, max_tokens=4)  # warm
            best = None
            for _ in range(3):
                started = time.perf_counter()
                short = backend.complete_batch(conversations, max_tokens=4)
                middle = time.perf_counter()
                long = backend.complete_batch(conversations, max_tokens=40)
                ended = time.perf_counter()
                steps = max(c.completion_tokens for c in long) - max(
                    c.completion_tokens for c in short
                )
                per_step = ((ended - middle) - (middle - started)) / max(steps, 1)
                best = per_step if best is None else min(best, per_step)
            figures.append((best, [c.text for c in long]))
        lm.greedy = kept
        (plain, plain_texts), (fast, fast_texts) = figures
        if kept is None:
            print(f"{rows} row(s): float32 {plain * 1e3:.1f} ms per step (no 8-bit layer kept)")
            continue
        print(
            f"{rows} row(s): float32 output layer {plain * 1e3:.1f} ms per step, 8-bit "
            f"{fast * 1e3:.1f} ms ({plain / fast:.2f}x); the same answers: "
            f"{plain_texts == fast_texts}"
        )


if __name__ == "__main__":
    main()
