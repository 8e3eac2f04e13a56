"""The output layer of a greedy step from 8-bit weights, with float32's choice of token.

A greedy step keeps only the highest logit of each row, but the output layer computes all of
them: the default model's is 49,152 x 576 float32 weights (113 MB) read at every step, a
fifth to a quarter of a step once the other layers multiply from 4 bits (``llm.int4``), and
more with every row. :class:`GreedyHead` computes every logit from an 8-bit copy of the
weights (one scale per row, torch's ``_weight_int8pack_mm``: a quarter of the bytes) and
bounds how far each one can be from float32's:

    |a_j - e_j| <= |x - x~|_1 * m_j + |x~|_1 * (r_j + g * 127 * s_j) + 2^-8 * |a_j|

for token j, with x the row's hidden state, x~ its bfloat16 rounding (the kernel's input),
m_j the largest float32 weight of the token, r_j the largest difference between its float32
and 8-bit weights, s_j its scale, g float32's rounding over the sum, and 2^-8 the rounding
of the kernel's bfloat16 output; the bound used is twice that. A token whose upper bound
reaches the highest lower bound of the row may be the argmax: its logit is computed again
from the float32 weights. Every other token's 8-bit logit is below that float32 maximum, so
``argmax`` over the logits returned is float32's argmax, for a row alone or with others (the
float32 logits are computed row by row, the same whatever else is in the batch).

Only the continuous generation's greedy passes use it (``LoadedModel.greedy``), and only
where loading found the 8-bit kernel faster than float32 and the choices the same.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from .int4 import best_seconds

logger = logging.getLogger(__name__)

#: How much faster than float32 the 8-bit output layer must be for one row to be used.
GAIN = 1.3
#: Safety factor on the bound.
MARGIN = 2.0
_BF16_OUT = 2.0**-8


class GreedyHead:
    """Wraps an ``nn.Linear`` output layer; while :meth:`active`, greedy passes get logits
    whose argmax is float32's (see the module's docstring), else its own forward."""

    def __init__(self, linear):
        import torch

        self.linear = linear
        self.original = linear.forward
        weight = linear.weight.detach()
        self.largest = weight.abs().amax(1)  # m_j
        # One scale per token, rounded up to bfloat16 so that no weight needs more than 127.
        scale = (self.largest / 127 * (1 + 2.0**-7)).clamp_min(1e-30).to(torch.bfloat16)
        self.quantised = (
            (weight / scale.float()[:, None]).round().clamp(-127, 127).to(torch.int8).contiguous()
        )
        self.scale = scale
        self.error = (weight - self.quantised.float() * scale.float()[:, None]).abs().amax(1)
        self.sum_error = weight.shape[1] * 2.0**-24 * 127 * scale.float()  # g * 127 * s_j
        self._local = threading.local()
        #: Tokens recomputed in float32 per row, summed (tests and benchmarks read it).
        self.recomputed = 0
        self.rows = 0
        linear.forward = self._forward

    @contextlib.contextmanager
    def active(self):
        self._local.on = True
        try:
            yield
        finally:
            self._local.on = False

    def _forward(self, x):
        if not getattr(self._local, "on", False) or not x.dtype.is_floating_point:
            return self.original(x)
        return self.logits(x)

    def logits(self, x):
        import torch

        shape = x.shape
        rows = x.reshape(-1, shape[-1]).float()
        rounded = rows.to(torch.bfloat16)
        approx = torch.ops.aten._weight_int8pack_mm(rounded, self.quantised, self.scale).float()
        bias = self.linear.bias
        if bias is not None:
            approx += bias.float()
        lost = (rows - rounded.float()).abs().sum(1, keepdim=True)  # |x - x~|_1
        size = rounded.float().abs().sum(1, keepdim=True)  # |x~|_1
        bound = MARGIN * (
            lost * self.largest + size * (self.error + self.sum_error) + _BF16_OUT * approx.abs()
        )
        floor = (approx - bound).amax(1, keepdim=True)
        row, token = torch.nonzero(approx + bound >= floor, as_tuple=True)
        weight = self.linear.weight
        exact = (weight[token] * rows[row]).sum(1)
        if bias is not None:
            exact += bias[token].float()
        approx[row, token] = exact
        self.recomputed += len(token)
        self.rows += rows.shape[0]
        return approx.reshape(*shape[:-1], approx.shape[-1]).to(x.dtype)


def greedy_head(model) -> GreedyHead | None:
    """Give ``model``'s output layer a :class:`GreedyHead` where it pays: a float32
    ``nn.Linear`` on CPU, torch's 8-bit kernel present, at least ``GAIN`` times faster than
    float32 for one row, and the same argmax as float32 on the layer's own rows as inputs."""
    import torch

    linear = model.get_output_embeddings()
    if (
        not isinstance(linear, torch.nn.Linear)
        or linear.weight is None
        or linear.weight.dtype != torch.float32
        or linear.weight.device.type != "cpu"
        or not hasattr(torch.ops.aten, "_weight_int8pack_mm")
    ):
        return None
    with torch.inference_mode():
        try:
            head = GreedyHead(linear)
        except (RuntimeError, NotImplementedError) as exc:  # no kernel for this CPU or build
            logger.info("No 8-bit output layer: %s", exc)
            return None
        generator = torch.Generator().manual_seed(0)
        # Inputs the size of the layer's own: its weight rows, scaled up to a hidden state's.
        picks = torch.randint(0, linear.weight.shape[0], (8,), generator=generator)
        inputs = linear.weight[picks] * 20
        try:
            agrees = bool(
                (
                    head.logits(inputs).argmax(-1)
                    == torch.nn.functional.linear(inputs, linear.weight, linear.bias).argmax(-1)
                ).all()
            )
        except (RuntimeError, NotImplementedError) as exc:
            logger.info("No 8-bit output layer: %s", exc)
            agrees = False
        one = inputs[:1]
        faster = agrees and best_seconds(lambda: head.original(one)) >= GAIN * best_seconds(
            lambda: head.logits(one)
        )
    if not faster:
        linear.forward = head.original
        return None
    head.recomputed = head.rows = 0
    return head
