"""Linear layers multiplying from 4-bit weights (llm.int4.pack_int4), on small networks
whose weights are 4-bit groups as a Q4_1 GGUF's are, and on random ones."""

import pytest

torch = pytest.importorskip("torch")

from oscar_gpt.llm import ConfigurationError, int4  # noqa: E402
from oscar_gpt.llm.int4 import GROUP, pack_int4, quantise  # noqa: E402

pytestmark = pytest.mark.skipif(not int4.kernel_available(), reason="torch has no int4 kernel")


def four_bit(rows, columns, seed=0):
    """Weights as a Q4_1 GGUF de-quantises them: offset + scale * q, q in 0..15 per group."""
    generator = torch.Generator().manual_seed(seed)
    groups = rows * columns // GROUP
    q = torch.randint(0, 16, (groups, GROUP), generator=generator).float()
    q[:, 0], q[:, 1] = 0, 15  # as Q4_1 makes them: each group's ends are 0 and 15
    scale = torch.rand(groups, 1, generator=generator) * 0.01 + 0.001
    offset = -torch.rand(groups, 1, generator=generator) * 0.1
    return (offset + scale * q).reshape(rows, columns)


class Network(torch.nn.Module):
    def __init__(self, exact=True):
        super().__init__()
        torch.manual_seed(0)
        self.up = torch.nn.Linear(64, 128, bias=False)
        self.down = torch.nn.Linear(128, 64, bias=True)
        self.head = torch.nn.Linear(64, 1024, bias=False)
        if exact:
            with torch.no_grad():
                self.up.weight.copy_(four_bit(128, 64, 1))
                self.down.weight.copy_(four_bit(64, 128, 2))
                self.head.weight.copy_(four_bit(1024, 64, 3))

    def get_output_embeddings(self):
        return self.head

    def forward(self, x):
        return self.head(self.down(torch.relu(self.up(x))))


def reference(network, x):
    """What the packed layers compute: bfloat16 inputs, outputs and scales, the same q."""
    out = x
    for layer in (network.up, network.down):
        q, scales, _error = quantise(layer.weight)
        scales = scales.to(torch.bfloat16).float()
        scale = scales[..., 0].t().repeat_interleave(GROUP, dim=1)
        zero = scales[..., 1].t().repeat_interleave(GROUP, dim=1)
        weight = (q.float() - 8) * scale + zero
        out = (out.to(torch.bfloat16).float() @ weight.t()).to(torch.bfloat16).float()
        if layer.bias is not None:
            out = out + layer.bias
        if layer is network.up:
            out = torch.relu(out)
    return network.head(out)


def test_four_bit_groups_quantise_without_loss():
    weight = four_bit(32, 64)
    q, scales, error = quantise(weight)
    assert error < 1e-7
    assert q.dtype == torch.int32 and int(q.min()) == 0 and int(q.max()) == 15
    assert scales.shape == (64 // GROUP, 32, 2)
    # the kernel's form: (q - 8) * scale + zero gives the weights back
    scale = scales[..., 0].t().repeat_interleave(GROUP, dim=1)
    zero = scales[..., 1].t().repeat_interleave(GROUP, dim=1)
    assert torch.allclose((q.float() - 8) * scale + zero, weight, atol=1e-7)
    # random weights are not 4-bit: the error says so
    assert quantise(torch.randn(32, 64))[2] > 1e-3


def test_auto_packs_four_bit_layers_and_frees_their_float32_weights():
    network, plain = Network(), Network()
    assert pack_int4(network, "auto", prompt_copy=False).layers == 2
    for layer in (network.up, network.down):
        assert layer.weight is None
        assert layer.int4_weight.dtype != torch.float32
        assert layer.int4_scales.dtype == torch.bfloat16
    assert network.down.bias is not None  # the bias stays and is added
    assert network.head.weight is not None and not hasattr(network.head, "int4_weight")
    assert not any(name.startswith(("up.int4", "down.int4")) for name in network.state_dict())
    x = torch.randn(5, 64)
    with torch.inference_mode():
        got = network(x)
        expected = reference(plain, x)
        unrounded = plain(x)
    assert got.dtype == torch.float32
    assert torch.allclose(got, expected, rtol=1e-3, atol=1e-4)
    # and close to the float32 network: only bfloat16's rounding of inputs and outputs
    assert torch.allclose(got, unrounded, rtol=0.03, atol=0.03 * float(unrounded.abs().max()))


def test_a_row_gets_the_same_numbers_alone_and_in_a_batch():
    network = Network()
    pack_int4(network, "auto", prompt_copy=False)
    batch = torch.randn(64, 64)
    with torch.inference_mode():
        together = network(batch)
        alone = torch.cat([network(row[None]) for row in batch])
    # one kernel for every row count: at most the order of additions differs
    assert torch.allclose(together, alone, rtol=1e-5, atol=1e-5)


def test_auto_leaves_layers_that_are_not_four_bit():
    network = Network(exact=False)
    before = network.up.weight.clone()
    assert pack_int4(network, "auto").layers == 0
    assert torch.equal(network.up.weight, before)


def test_true_rounds_any_layer_to_four_bits_except_the_output_layer():
    network, plain = Network(exact=False), Network(exact=False)
    assert pack_int4(network, True).layers == 2
    assert network.head.weight is not None
    x = torch.randn(3, 64)
    with torch.inference_mode():
        got, unrounded = network(x), plain(x)
    relative = float((got - unrounded).norm() / unrounded.norm())
    assert 0 < relative < 0.2


def test_layers_the_kernel_cannot_take_stay_as_they_are():
    network = torch.nn.Sequential(torch.nn.Linear(48, 64), torch.nn.Linear(64, 40))
    with torch.no_grad():
        network[1].weight.copy_(four_bit(40, 64))
    # 48 inputs are not whole groups; 40 outputs are not whole blocks of 16
    assert pack_int4(network, True).layers == 0
    assert network[0].weight is not None and network[1].weight is not None


@pytest.mark.parametrize("setting", [None, False])
def test_off_packs_nothing(setting):
    network = Network()
    assert pack_int4(network, setting).layers == 0
    assert network.up.weight is not None


def test_unknown_setting_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="INT4"):
        pack_int4(Network(), "yes")


def test_without_the_kernel_nothing_changes(monkeypatch):
    monkeypatch.setattr(int4, "kernel_available", lambda: False)
    network = Network()
    assert pack_int4(network, "auto").layers == 0
    assert network.up.weight is not None


def test_a_kernel_that_disagrees_with_float32_is_not_used(monkeypatch):
    monkeypatch.setattr(int4, "_agrees", lambda dense, weights, scales: False)
    network, plain = Network(), Network()
    assert pack_int4(network, "auto").layers == 0
    x = torch.randn(2, 64)
    with torch.inference_mode():
        assert torch.equal(network(x), plain(x))


@pytest.fixture
def kernel_calls(monkeypatch):
    """The rows of each call of the 4-bit kernel, as they are made."""
    calls = []
    real = torch._weight_int4pack_mm_for_cpu

    def spy(*args):
        calls.append(args[0].shape[0])
        return real(*args)

    monkeypatch.setattr(torch, "_weight_int4pack_mm_for_cpu", spy)
    return calls


def test_prompt_passes_use_the_bfloat16_copy_and_token_steps_the_kernel(kernel_calls):
    network, plain = Network(), Network()
    packed = pack_int4(network, "auto", prompt_copy=True)
    assert packed.prompt_copy and str(packed) == "2 layers 4-bit, prompts bfloat16"
    copy = network.up.int4_prompt_weight
    assert copy.dtype == torch.bfloat16 and copy.shape == (128, 64)
    kernel_calls.clear()  # packing checked each layer against float32 with the kernel
    prompts = torch.randn(4, 7, 64)  # 4 rows of 7 tokens
    with torch.inference_mode():
        read = network(prompts)
        assert kernel_calls == []
        step = network(prompts[:, -1:])  # one new token per row
        assert kernel_calls == [4, 4]
        # one row's prompt alone: the same numbers as among four
        alone = network(prompts[:1])
        expected = reference(plain, prompts)
    assert torch.allclose(read[:1], alone, rtol=1e-5, atol=1e-5)
    # the copy holds the kernel's numbers, rounded once more to bfloat16
    assert torch.allclose(read, expected, rtol=0.02, atol=0.02 * float(expected.abs().max()))
    assert torch.allclose(step, read[:, -1:], rtol=0.02, atol=0.02 * float(step.abs().max()))


def test_a_float32_copy_reads_prompts_with_the_kernels_weights_and_unrounded_inputs(
    kernel_calls,
):
    network, plain = Network(), Network()
    packed = pack_int4(network, "auto", prompt_copy="float32")
    assert packed.prompt_copy == "float32" and str(packed) == "2 layers 4-bit, prompts float32"
    copy = network.up.int4_prompt_weight
    assert copy.dtype == torch.float32 and copy.shape == (128, 64)
    q, scales, _error = quantise(plain.up.weight)
    assert torch.equal(copy, int4._kernel_weights(q, scales.to(torch.bfloat16)))
    kernel_calls.clear()  # packing checked each layer against float32 with the kernel
    prompts = torch.randn(4, 7, 64)
    with torch.inference_mode():
        read = network.up(prompts)
        assert kernel_calls == []
        # float32 inputs, not rounded: exactly float32's product with the kernel's weights
        assert torch.allclose(read, prompts @ copy.t(), rtol=1e-6, atol=1e-6)
        step = network.up(prompts[:, -1:])
        assert kernel_calls == [4]
    assert torch.allclose(step, read[:, -1:], rtol=0.02, atol=0.02 * float(step.abs().max()))


def test_the_copy_is_kept_only_where_the_cpu_makes_it_faster(monkeypatch):
    measured = []
    monkeypatch.setattr(
        int4, "fastest_prompt_copy", lambda *args: measured.append(args[2].shape) or None
    )
    network = Network()
    packed = pack_int4(network, "auto")
    assert measured == [(128, 64)]  # once, on the first packed layer's weights
    assert packed.layers == 2 and not packed.prompt_copy and str(packed) == "2 layers 4-bit"
    assert network.up.int4_prompt_weight is None and network.down.int4_prompt_weight is None


def test_the_measured_copy_is_the_one_kept(monkeypatch):
    monkeypatch.setattr(int4, "fastest_prompt_copy", lambda *args: "float32")
    network = Network()
    assert pack_int4(network, "auto").prompt_copy == "float32"
    assert network.down.int4_prompt_weight.dtype == torch.float32


@pytest.mark.parametrize(
    ("kernel", "bfloat16", "float32", "expected"),
    [
        (3.0, 1.0, 2.0, "bfloat16"),  # AVX512-BF16 or AMX
        (3.6, 10.8, 1.3, "float32"),  # AVX2 alone: this machine's first layer
        (1.0, 3.0, 0.9, None),  # the kernel about as fast: no copy, less memory
        (3.0, 2.1, 2.1, None),  # 1.5x is asked for: 1.43x is not enough
    ],
)
def test_the_measurement_picks_the_fastest_copy_that_beats_the_kernel_enough(
    monkeypatch, kernel, bfloat16, float32, expected
):
    q, scales, _error = quantise(four_bit(128, 64))
    weights = torch._convert_weight_to_int4pack_for_cpu(q, 2)
    scales = scales.to(torch.bfloat16)
    dense = int4._kernel_weights(q, scales)
    timed = []

    def fake_best_seconds(work):
        result = work()  # what would be timed runs, and is what the name says
        timed.append(result.dtype)
        return {0: kernel, 1: bfloat16, 2: float32}[len(timed) - 1]

    monkeypatch.setattr(int4, "best_seconds", fake_best_seconds)
    assert int4.fastest_prompt_copy(weights, scales, dense) == expected
    assert timed == [torch.bfloat16, torch.bfloat16, torch.float32]


def test_the_real_measurement_gives_a_copy_or_none(monkeypatch):
    q, scales, _error = quantise(four_bit(128, 64))
    weights = torch._convert_weight_to_int4pack_for_cpu(q, 2)
    scales = scales.to(torch.bfloat16)
    dense = int4._kernel_weights(q, scales)
    assert int4.fastest_prompt_copy(weights, scales, dense) in (None, *int4.PROMPT_DTYPES)
    monkeypatch.setattr(int4, "PROMPT_GAIN", 1e9)  # no CPU is that much faster
    assert int4.fastest_prompt_copy(weights, scales, dense) is None


def test_an_unknown_prompt_copy_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="float16"):
        pack_int4(Network(), "auto", prompt_copy="float16")
