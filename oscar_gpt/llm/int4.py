"""Linear layers that multiply from 4-bit weights on CPU (the local backend's ``INT4``).

A token step of a small model on CPU reads every weight once for a handful of rows: it runs
at the speed of memory. The default model comes as a GGUF file whose linear weights are
4-bit numbers in groups of 32, each group with its own scale and offset (Q4_1);
transformers de-quantises them to float32 on load, eight times the bytes. Those float32
values are exactly ``offset + scale * q`` with ``q`` in 0..15 for each group, so they pack
back into 4 bits without losing a weight, and torch's CPU kernel for 4-bit weights
(``_weight_int4pack_mm_for_cpu``, as torchao uses it) multiplies from the packed form.

The kernel takes bfloat16 inputs, scales and offsets: the 4-bit values are the GGUF's,
while each group's scale and offset, and each product's inputs and outputs, are rounded to
bfloat16. The float32 copies of packed layers are freed (about 8/9 of their memory).

A prompt pass (many tokens of each row at once) is arithmetic, not memory, and there the
kernel's speed depends on the CPU: about that of float32 matrix products on some, half of it
on AVX2-only CPUs (a 285-token prompt 1.77 s against 0.82 s), while CPUs with AVX512-BF16 or
AMX multiply bfloat16 matrices several times faster than either. Loading measures the three
on the first packed layer and, where a copy of the weights (the kernel's own numbers) in
bfloat16 or float32 reads a prompt's rows :data:`PROMPT_GAIN` times faster than the kernel,
keeps the faster copy for prompt passes: memory for speed (a float32 copy is the size of
the weights before packing). Which path a product takes depends only on whether it reads
prompts or one new token per row, never on how many rows are generated together, and the
kernel gives a row the same numbers whatever rows come with it. (Attention still adds in
another order for a row padded to run with longer ones; bfloat16 inputs can make that a
different near-tie, now and then a different answer.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Weights per group of one scale and offset (GGUF's Q4_0/Q4_1 block, the kernel's group).
GROUP = 32
#: How much faster a copy's matrix products must be than the 4-bit kernel on a prompt's
#: rows for prompt passes to get that copy of the weights.
PROMPT_GAIN = 1.5
#: The copies a prompt pass may multiply from, by name (``pack_int4``'s ``prompt_copy``).
PROMPT_DTYPES = ("bfloat16", "float32")


#: The local backend's ``INT4_PROMPTS``, as :func:`pack_int4`'s ``prompt_copy``.
PROMPT_SETTINGS = {"auto": None, "kernel": False, "bfloat16": "bfloat16", "float32": "float32"}


def prompt_copy_setting(setting) -> str | bool | None:
    """``INT4_PROMPTS`` ("auto", "kernel", "bfloat16", "float32") as ``prompt_copy``."""
    if setting not in PROMPT_SETTINGS:
        raise ConfigurationError(
            f"INT4_PROMPTS must be one of {', '.join(map(repr, PROMPT_SETTINGS))}, not {setting!r}"
        )
    return PROMPT_SETTINGS[setting]


@dataclass(frozen=True)
class Packed:
    """What :func:`pack_int4` did: layers packed, and the dtype of the copy of their weights
    that prompt passes multiply from ("bfloat16", "float32"; "": the kernel)."""

    layers: int = 0
    prompt_copy: str = ""

    def __str__(self) -> str:
        if not self.layers:
            return ""
        return f"{self.layers} layers 4-bit" + (
            f", prompts {self.prompt_copy}" * bool(self.prompt_copy)
        )


def kernel_available() -> bool:
    import torch

    return hasattr(torch, "_weight_int4pack_mm_for_cpu") and hasattr(
        torch, "_convert_weight_to_int4pack_for_cpu"
    )


def quantise(weight, group: int = GROUP):
    """``weight`` ([out, in], in a multiple of ``group``) as 4-bit values in groups along
    each row: (q int32 [out, in], scales and offsets [in/group, out, 2] as the kernel wants
    them, float32, the largest difference between the weights and ``offset + scale * q``)."""
    import torch

    rows, columns = weight.shape
    groups = weight.detach().float().reshape(-1, group)
    low = groups.amin(dim=1, keepdim=True)
    high = groups.amax(dim=1, keepdim=True)
    scale = (high - low) / 15
    # A constant group: any scale gives q = 0; 1 keeps the division defined.
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = (groups - low).div(safe).round().clamp(0, 15)
    error = float((q * scale + low - groups).abs().max())
    # The kernel computes (q - 8) * scale + zero: zero is the group's middle.
    zero = low + scale * 8
    scales = torch.cat([scale.view(rows, -1, 1), zero.view(rows, -1, 1)], dim=2)
    return (
        q.to(torch.int32).reshape(rows, columns),
        scales.transpose(0, 1).contiguous(),
        error,
    )


def pack_int4(model, setting, prompt_copy: str | bool | None = None) -> Packed:
    """Give ``model``'s linear layers 4-bit weights (see the module's docstring).

    ``setting``: "auto" packs the layers whose weights are already 4-bit groups (a
    de-quantised Q4_1 GGUF: nothing of the weights is lost) and leaves the others; True
    packs every layer that fits the kernel, rounding weights that are not 4-bit (smaller
    and faster, less exact); False or None packs nothing. The output (vocabulary) layer,
    often 8-bit in a GGUF, is never packed. ``prompt_copy``: the copy of the weights prompt
    passes multiply from, "bfloat16" or "float32" (True: "bfloat16"), False for the kernel;
    None measures on the first packed layer which is fastest (:func:`fastest_prompt_copy`).
    Nothing is packed where torch has no such kernel.
    """
    import torch

    if setting in (None, False):
        return Packed()
    if setting not in ("auto", True):
        raise ConfigurationError(f"INT4 must be 'auto', True or False, not {setting!r}")
    if prompt_copy is True:
        prompt_copy = "bfloat16"
    if prompt_copy not in (None, False, *PROMPT_DTYPES):
        raise ConfigurationError(
            f"the prompts' copy must be one of {PROMPT_DTYPES}, False or None, not {prompt_copy!r}"
        )
    if not kernel_available():
        if setting is True:
            logger.warning("INT4: this torch has no 4-bit CPU kernel; weights stay as they are")
        return Packed()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    packed = 0
    with torch.inference_mode():
        for linear in linears:
            weight = linear.weight
            if (
                linear is head
                or weight is None
                or weight.device.type != "cpu"
                or weight.dtype not in (torch.float32, torch.bfloat16)
                or linear.in_features % GROUP
                or linear.out_features % 16  # the kernel's block of output columns
            ):
                continue
            q, scales, error = quantise(weight)
            if setting == "auto" and error > 1e-6 * float(weight.abs().max()):
                continue
            weights = torch._convert_weight_to_int4pack_for_cpu(q, 2)
            scales = scales.to(torch.bfloat16)
            dense = _kernel_weights(q, scales)
            if not _agrees(dense, weights, scales):
                logger.warning("INT4: the 4-bit kernel disagrees with float32 here; not used")
                break
            if prompt_copy is None:
                prompt_copy = fastest_prompt_copy(weights, scales, dense) or False
            linear.register_buffer("int4_weight", weights, persistent=False)
            linear.register_buffer("int4_scales", scales, persistent=False)
            prompt = dense.to(getattr(torch, prompt_copy)) if prompt_copy else None
            linear.register_buffer("int4_prompt_weight", prompt, persistent=False)
            # The float32 weights are no longer read: free them (the bias stays).
            del linear.weight
            linear.register_parameter("weight", None)
            linear.forward = _int4_forward.__get__(linear)
            packed += 1
    return Packed(packed, (prompt_copy or "") if packed else "")


def _int4_forward(self, x):
    import torch
    import torch.nn.functional as F

    shape = x.shape
    if self.int4_prompt_weight is not None and x.dim() >= 3 and shape[-2] > 1:
        # A prompt pass ([rows, tokens, features] with several tokens): see the docstring.
        y = F.linear(x.to(self.int4_prompt_weight.dtype), self.int4_prompt_weight).to(x.dtype)
        return y if self.bias is None else y + self.bias
    y = torch._weight_int4pack_mm_for_cpu(
        x.reshape(-1, shape[-1]).to(torch.bfloat16),
        self.int4_weight,
        GROUP,
        self.int4_scales,
    )
    y = y.to(x.dtype).reshape(*shape[:-1], self.out_features)
    return y if self.bias is None else y + self.bias


def _kernel_weights(q, scales):
    """The float32 weights the kernel multiplies by: (q - 8) * scale + zero, per group."""
    rounded = scales.float()  # [groups, out, 2]
    scale = rounded[..., 0].t().repeat_interleave(GROUP, dim=1)
    zero = rounded[..., 1].t().repeat_interleave(GROUP, dim=1)
    return (q.float() - 8) * scale + zero


def _agrees(dense, weights, scales) -> bool:
    """Whether the kernel gives what float32 gives from the same rounded numbers (``dense``,
    :func:`_kernel_weights`): a check of how this torch lays out packed weights, made once
    per layer at load."""
    import torch

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, dense.shape[1], generator=generator).to(torch.bfloat16)
    got = torch._weight_int4pack_mm_for_cpu(x, weights, GROUP, scales).float()
    expected = x.float() @ dense.t()
    return torch.allclose(got, expected, rtol=0.02, atol=0.02 * float(expected.abs().max()))


def fastest_prompt_copy(weights, scales, dense, rows: int = 256) -> str | None:
    """The copy of ``dense`` (:data:`PROMPT_DTYPES`) that multiplies a prompt's ``rows``
    fastest, if that is :data:`PROMPT_GAIN` times faster than the 4-bit kernel; else None
    (the best of three tries each)."""
    import torch
    import torch.nn.functional as F

    x = torch.randn(rows, dense.shape[1])
    low = x.to(torch.bfloat16)
    kernel = best_seconds(lambda: torch._weight_int4pack_mm_for_cpu(low, weights, GROUP, scales))
    copies = {}
    for name in PROMPT_DTYPES:
        dtype = getattr(torch, name)
        copy, inputs = dense.to(dtype), x.to(dtype)
        copies[name] = best_seconds(lambda: F.linear(inputs, copy))  # noqa: B023 - called here
    fastest = min(copies, key=copies.get)
    return fastest if copies[fastest] * PROMPT_GAIN <= kernel else None


def best_seconds(work, tries: int = 3) -> float:
    """The shortest of ``tries`` runs of ``work``, after one untimed run (a kernel's first
    call sets it up)."""
    import time

    work()
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best
