"""The local backend on a CUDA GPU: load the default GGUF, generate single, batched and
streamed, print tokens/s per batch size and the first-token latency of a stream; then a few
real fine-tuning steps of the app's trainer (``oscar_gpt.finetune.trainer``) on a tiny
dataset, with the step time and the validation loss before and after.

Run by ``bench/gpu_check.sh`` on a machine with a GPU; on a CPU-only machine it runs the same
steps on the CPU (``--device cpu``) so the script itself can be checked anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402


def setup(model: str | None, device: str) -> None:
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        USE_TZ=True,
        # The trainer finds the model it fine-tunes by its backend alias.
        OSCAR_GPT={
            "BACKENDS": {
                "gpu": {
                    "CLASS": "oscar_gpt.llm.local.TransformersBackend",
                    "CONFIG": {"MODEL": model, "DEVICE": device},
                }
            }
        },
    )
    django.setup()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="GGUF path, folder or HF id")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batches", default="1,8,32,64")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--train-steps", type=int, default=6, help="0: no fine-tuning steps")
    args = parser.parse_args(argv)
    setup(args.model, args.device)

    import torch
    from prompts import conversations

    from oscar_gpt.llm.registry import get_backend

    backend = get_backend("gpu")
    started = time.perf_counter()
    lm = backend.loaded
    load = time.perf_counter() - started
    info = backend.describe()
    print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    print(f"model {info['model']} on {info['device']}, loaded in {load:.1f}s")

    messages = conversations(1)[0]
    first = backend.complete(messages, max_tokens=args.max_tokens)
    again = backend.complete(messages, max_tokens=args.max_tokens)
    print(f"greedy reproducible: {first.text == again.text}; sample: {first.text[:100]!r}")

    print(f"{'batch':>6} {'requests':>9} {'tokens':>7} {'seconds':>8} {'tokens/s':>9}")
    for batch in [int(b) for b in args.batches.split(",")]:
        prompts = conversations(max(batch, 8))
        backend.complete_batch(prompts[:batch], max_tokens=8, batch_size=batch)  # warm-up
        if lm.device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        results = backend.complete_batch(prompts, max_tokens=args.max_tokens, batch_size=batch)
        if lm.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        tokens = sum(r.completion_tokens for r in results)
        empty = sum(1 for r in results if not r.text)
        print(
            f"{batch:>6} {len(prompts):>9} {tokens:>7} {seconds:>8.2f} {tokens / seconds:>9.1f}"
            + (f"  ({empty} empty)" if empty else "")
        )

    started = time.perf_counter()
    first_token = None
    pieces = []
    for chunk in backend.stream(messages, max_tokens=args.max_tokens):
        if chunk.delta and first_token is None:
            first_token = time.perf_counter() - started
        pieces.append(chunk.delta)
    total = time.perf_counter() - started
    same = "".join(pieces).strip() == first.text
    print(
        f"stream: first token after {first_token * 1000:.0f} ms, {chunk.completion_tokens} "
        f"tokens in {total:.2f}s; same text as complete(): {same}"
    )
    if args.train_steps:
        finetune_steps(args.train_steps)
    return 0


def finetune_steps(steps: int) -> None:
    """A few optimisation steps of the app's trainer on a tiny dataset written here."""
    import json
    import tempfile

    from prompts import conversations

    from oscar_gpt.finetune.files import FILES
    from oscar_gpt.finetune.trainer import TrainingParams, train

    answers = [
        "Closed-back wireless headphones with 30 hours of battery and USB-C charging.",
        "A steel kettle for 1.7 litres that switches itself off when the water boils.",
        "A two-person tent of 2.1 kg with taped seams and two doors.",
        "Trail running shoes with a 6 mm drop and a grippy outsole.",
    ]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        prompts = conversations(12)
        records = [
            {"messages": [*prompts[n], {"role": "assistant", "content": answers[n % 4]}]}
            for n in range(12)
        ]
        for name, rows in (("train", records[:8]), ("validation", records[8:])):
            with (data / FILES[name]).open("w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row) + "\n" for row in rows)
        params = TrainingParams(
            base="gpu", max_steps=steps, batch_size=4, max_length=256, save_steps=10_000
        )
        params.lora = False
        result = train(data, Path(folder) / "model", params)
    per_step = result["train_seconds"] / max(1, result["steps"])
    print(
        f"fine-tuning on {result['device']}: {result['steps']} steps of 4 examples, "
        f"{per_step:.2f} s a step; validation loss {result['eval_loss_before']:.3f} -> "
        f"{result['eval_loss_after']:.3f}; {result['trainable_parameters']:,} parameters trained"
    )


if __name__ == "__main__":
    sys.exit(main())
