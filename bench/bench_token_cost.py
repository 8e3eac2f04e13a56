"""What one generated token of the local model costs on this machine, by weights and threads.

The reference every other line is compared with is the model's float32 weights as
transformers de-quantises the GGUF (``INT4`` False, torch's threads); the second line is the
local backend's default, ``INT4`` "auto" (the GGUF's 4-bit layers multiplied from packed
4-bit weights, ``llm.int4``); the third adds ``DECODE_DTYPE`` "auto" (a half-precision copy
of the remaining float32 weights for products of few rows, where loading measured it
faster). The last three lines take ``INT4``'s prompt passes each way, whatever loading picks
on this CPU: from the 4-bit kernel, from a bfloat16 copy, from a float32 copy. For each
configuration: one forward pass of one token (no cache), the prompt pass
of a ~290-token prompt (a Q&A prompt's size) and the cost of each further token in
``generate`` (greedy, KV cache), for ``--batch`` copies of the prompt. ``--int8`` adds
torch's dynamic int8 quantisation of the linear layers (not a backend setting: it changes
the answers). Run from the repository root:

    python bench/bench_token_cost.py [--int8] [--tokens 30] [--batch 1]

Not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(model, encoded, tokens: int, pad_token_id: int) -> dict:
    import torch

    ids = encoded["input_ids"]

    def generate(new: int) -> float:
        started = time.perf_counter()
        model.generate(
            **encoded,
            max_new_tokens=new,
            min_new_tokens=new,
            do_sample=False,
            pad_token_id=pad_token_id,
        )
        return time.perf_counter() - started

    with torch.inference_mode():
        model(ids[:, -1:])  # warm
        generate(2)
        passes = []
        for _ in range(20):
            started = time.perf_counter()
            model(ids[:, -1:])
            passes.append(time.perf_counter() - started)
        prompt = min(generate(1) for _ in range(2))
        full = min(generate(tokens + 1) for _ in range(2))
    return {
        "pass_ms": statistics.median(passes) * 1e3,
        "prompt_s": prompt,
        "token_ms": (full - prompt) / tokens * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=30, help="tokens generated after the first")
    parser.add_argument("--int8", action="store_true", help="add dynamic int8 quantisation")
    parser.add_argument("--batch", type=int, default=1, help="prompts generated together")
    args = parser.parse_args()

    import django

    django.setup()
    import torch

    from oscar_gpt.llm.int4 import PROMPT_DTYPES, pack_int4
    from oscar_gpt.llm.local import LoadedModel, load_model, resolve_model_source

    source = resolve_model_source(None)
    cores = os.cpu_count() or 1
    # (dtype, threads, DECODE_DTYPE, INT4, prompt passes' copy: None as loading measures)
    configurations = [("float32", cores, None, False, None), ("float32", cores, None, "auto", None)]
    configurations += [("float32", cores, "auto", "auto", None)]
    configurations += [("float32", cores, "auto", False, None)]
    configurations += [("float32", 1, None, "auto", None)] * (cores > 1)
    configurations += [(half, cores, None, False, None) for half in ("bfloat16", "float16")]
    # INT4's prompt passes each way, whatever loading picks here: the 4-bit kernel, each copy.
    configurations += [("float32", cores, None, "auto", copy) for copy in (False, *PROMPT_DTYPES)]
    results = []
    encoded = None
    for dtype, threads, decode, int4, prompts in configurations:
        torch.set_num_threads(threads)
        if prompts is None:
            lm = load_model(source, "cpu", dtype, decode_dtype=decode, int4=int4)
        else:  # a model of its own (load_model's is shared), packed with that prompt path
            lm = LoadedModel(source, "cpu", dtype, None, decode, False)
            lm.int4 = pack_int4(lm.model, int4, prompt_copy=prompts)
        if encoded is None:
            text = lm.tokenizer.apply_chat_template(
                [{"role": "user", "content": "word " * 250 + "Answer in one sentence."}],
                add_generation_prompt=True,
                tokenize=False,
            )
            encoded = lm.tokenizer(
                [text] * args.batch, return_tensors="pt", add_special_tokens=False
            )
        figures = measure(lm.model, encoded, args.tokens, lm.tokenizer.pad_token_id)
        name = f"{dtype}, {threads} thread(s)"
        if lm.int4.layers:
            name += f", {lm.int4}" + ", prompts 4-bit kernel" * (prompts is False)
        if decode:
            name += f", {lm.decode[0]} <= {lm.decode[1]} rows" if lm.decode else ", no half copy"
        results.append((name, figures))
        if args.int8 and dtype == "float32" and threads == cores and not (decode or int4):
            quantised = torch.ao.quantization.quantize_dynamic(
                copy.deepcopy(lm.model), {torch.nn.Linear}, dtype=torch.qint8
            )
            figures = measure(quantised, encoded, args.tokens, lm.tokenizer.pad_token_id)
            results.append((f"int8 dynamic, {threads} thread(s)", figures))
            del quantised
    torch.set_num_threads(cores)

    reference = results[0][1]
    prompt_tokens = encoded["input_ids"].shape[1]
    print(
        f"{source.label}, batch {args.batch}, a {prompt_tokens}-token prompt, {args.tokens} "
        "tokens after "
        f"the first; load average {os.getloadavg()[0]:.1f}, {cores} cores"
    )
    header = f"{'configuration':<72} {'one pass':>10} {'prompt':>9} {'per token':>10}"
    header += f" {'tokens/s':>9} {'vs ref':>7}"
    print(header)
    print("-" * len(header))
    for name, figures in results:
        print(
            f"{name:<72} {figures['pass_ms']:>8.1f}ms {figures['prompt_s']:>8.2f}s "
            f"{figures['token_ms']:>8.1f}ms {1e3 / figures['token_ms']:>9.1f} "
            f"{reference['token_ms'] / figures['token_ms']:>6.2f}x"
        )
    print(
        f"reference: {results[0][0]} (INT4 off); second: the local backend's default "
        "(INT4 'auto'); third and fourth: with DECODE_DTYPE 'auto'; the last three: INT4's "
        "prompt passes from the 4-bit kernel, a bfloat16 copy, a float32 copy"
    )


if __name__ == "__main__":
    main()
