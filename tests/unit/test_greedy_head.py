"""The 8-bit output layer of greedy steps: float32's argmax at a quarter of the bytes."""

import pytest

torch = pytest.importorskip("torch")

from oscar_gpt.llm import greedy_head as module  # noqa: E402
from oscar_gpt.llm.greedy_head import GreedyHead, greedy_head  # noqa: E402

pytestmark = pytest.mark.skipif(
    not hasattr(torch.ops.aten, "_weight_int8pack_mm"), reason="torch without the 8-bit kernel"
)


def layer(vocabulary=4096, hidden=96, seed=0):
    generator = torch.Generator().manual_seed(seed)
    linear = torch.nn.Linear(hidden, vocabulary, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(vocabulary, hidden, generator=generator) * 0.05)
    return linear, generator


def near_ties(linear, generator, rows=64):
    """Hidden states whose two best tokens are apart by less than the 8-bit error."""
    weight = linear.weight.detach()
    inputs = torch.randn(rows, weight.shape[1], generator=generator) * 3
    best = (inputs @ weight.T).argmax(-1)
    for token in best.tolist():
        # A second token almost the same as the best one: their logits differ by ~1e-4.
        other = (token + 1) % weight.shape[0]
        weight[other] = weight[token] + torch.randn(weight.shape[1], generator=generator) * 1e-5
    return inputs


def test_the_argmax_is_float32_s_where_the_8_bit_logits_alone_would_miss_it():
    linear, generator = layer()
    with torch.inference_mode():
        inputs = near_ties(linear, generator)
        head = GreedyHead(linear)
        exact = torch.nn.functional.linear(inputs, linear.weight)
        scale = head.scale.float()
        rough = (inputs.bfloat16().float() @ (head.quantised.float() * scale[:, None]).T).argmax(-1)
        with head.active():
            got = linear(inputs)
    assert (rough != exact.argmax(-1)).any()  # the 8-bit logits alone get some rows wrong
    assert torch.equal(got.argmax(-1), exact.argmax(-1))
    assert head.recomputed >= 2 * len(inputs)  # at least both tied tokens of every row


def test_the_bound_holds_with_room_to_spare():
    linear, generator = layer(seed=1)
    with torch.inference_mode():
        inputs = torch.randn(32, 96, generator=generator) * 4
        head = GreedyHead(linear)
        rows = inputs.float()
        rounded = rows.bfloat16()
        approx = torch.ops.aten._weight_int8pack_mm(rounded, head.quantised, head.scale).float()
        lost = (rows - rounded.float()).abs().sum(1, keepdim=True)
        size = rounded.float().abs().sum(1, keepdim=True)
        bound = (
            lost * head.largest
            + size * (head.error + head.sum_error)
            + module._BF16_OUT * approx.abs()
        )
        exact = torch.nn.functional.linear(rows, linear.weight)
    assert ((approx - exact).abs() <= bound).all()


def test_logits_of_the_same_row_are_the_same_alone_and_in_a_batch():
    linear, generator = layer(seed=2)
    with torch.inference_mode():
        inputs = near_ties(linear, generator, rows=8)
        head = GreedyHead(linear)
        with head.active():
            together = linear(inputs[:, None, :]).argmax(-1)
            alone = torch.cat([linear(inputs[i : i + 1, None, :]).argmax(-1) for i in range(8)])
    assert together.shape == (8, 1)
    assert torch.equal(together, alone)


def test_outside_a_greedy_pass_the_layer_is_float32_as_before():
    linear, generator = layer(seed=3)
    inputs = torch.randn(4, 96, generator=generator)
    with torch.inference_mode():
        before = linear(inputs)
        GreedyHead(linear)
        after = linear(inputs)
    assert torch.equal(before, after)


def test_kept_only_where_it_is_faster(monkeypatch):
    class Model(torch.nn.Module):
        def __init__(self, linear):
            super().__init__()
            self.head = linear

        def get_output_embeddings(self):
            return self.head

    linear, _ = layer(seed=4)
    inputs = torch.randn(2, 96)
    with torch.inference_mode():
        reference = linear(inputs)
    timings = iter([1.0, 1.0])  # float32, then 8-bit: no faster
    monkeypatch.setattr(module, "best_seconds", lambda work: next(timings))
    assert greedy_head(Model(linear)) is None
    with torch.inference_mode():
        assert torch.equal(linear(inputs), reference)  # float32's forward back in place

    timings = iter([1.0, 0.5])
    head = greedy_head(Model(linear))
    assert isinstance(head, GreedyHead) and head.recomputed == head.rows == 0

    half = torch.nn.Linear(96, 10).to(torch.float16)
    assert greedy_head(Model(half)) is None
    assert greedy_head(Model(torch.nn.Identity())) is None
