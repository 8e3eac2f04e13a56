"""Half-precision weights for the steps that generate a token (llm.local.half_decode), on a
small float32 network: which path a product takes, and that both give the same numbers."""

import pytest

torch = pytest.importorskip("torch")

from oscar_gpt.llm import ConfigurationError  # noqa: E402
from oscar_gpt.llm.local import _half_forward, half_decode  # noqa: E402


def network():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(64, 96), torch.nn.ReLU(), torch.nn.Linear(96, 32, bias=False)
    )


def calls(module):
    """Records which weights each of ``module``'s products used."""
    used = []
    real = torch.nn.functional.linear

    def spy(x, weight, bias=None):
        used.append(weight.dtype)
        return real(x, weight, bias)

    return used, spy


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_few_rows_use_the_half_copy_and_many_the_float32_weights(dtype, monkeypatch):
    model = network()
    reference = network()
    assert half_decode(model, dtype) == (dtype, 4)
    half = getattr(torch, dtype)
    first = model[0]
    assert first.half_weight.dtype == half and not first.half_weight.requires_grad
    # the float32 weights are the half copy's values, so both paths use the same weights
    assert torch.equal(first.weight, first.half_weight.float())
    assert "half_weight" not in model.state_dict()  # nothing new is saved with the model
    used, spy = calls(model)
    monkeypatch.setattr(torch.nn.functional, "linear", spy)
    with torch.inference_mode():
        for rows, kind in ((1, half), (4, half), (5, torch.float32), (300, torch.float32)):
            used.clear()
            x = torch.randn(rows, 64)
            y = model(x)
            assert used == [kind, kind], rows
            assert y.dtype == torch.float32
            # close to the unrounded network: the rounding of weights, inputs and outputs
            expected = reference(x)
            assert torch.allclose(y, expected, rtol=0.05, atol=0.05), rows


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_row_gets_the_same_numbers_alone_and_in_a_large_batch(dtype):
    model = network()
    half_decode(model, dtype)
    torch.manual_seed(1)
    batch = torch.randn(64, 64)
    with torch.inference_mode():
        together = model(batch)  # float32 kernels (64 rows)
        alone = torch.cat([model(row[None]) for row in batch])  # half kernels (1 row)
    # Only the order of additions differs: nearly every value is equal, none is more than a
    # rounding step of the half type apart (without the float32 path's rounding: ~none equal).
    assert (together == alone).float().mean() >= 0.95
    step = torch.finfo(getattr(torch, dtype)).eps
    assert torch.allclose(together, alone, rtol=2 * step, atol=2 * step)
    assert not torch.equal(network()(batch), together)  # and the rounding did happen


def test_values_out_of_float16_range_fall_back_to_float32():
    model = torch.nn.Linear(4, 2, bias=True)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.5)
    half_decode(model, "float16")
    x = torch.full((1, 4), 30_000.0)  # each product fits, their sum (120,000) does not
    with torch.inference_mode():
        y = model(x)
    assert torch.equal(y, torch.full((1, 2), 120_000.5))


def test_inputs_of_other_dtypes_use_the_full_precision_weights():
    model = torch.nn.Linear(8, 8).double()
    model.half_weight, model.half_rows = model.weight.detach().half(), 4
    x = torch.randn(1, 8, dtype=torch.float64)
    with torch.inference_mode():
        out = _half_forward(model, x)
    assert out.dtype == torch.float64
    assert torch.equal(out, torch.nn.functional.linear(x, model.weight, model.bias))


def test_unknown_decode_dtype_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="DECODE_DTYPE"):
        half_decode(network(), "int8")


def test_auto_keeps_the_model_as_it_is_where_half_weights_are_not_faster(monkeypatch):
    from oscar_gpt.llm import local

    monkeypatch.setattr(local, "_measure_half_rows", lambda linears, dtype: 0)
    model = network()
    before = model[0].weight.clone()
    assert half_decode(model, "auto") is None
    assert torch.equal(model[0].weight, before) and not hasattr(model[0], "half_weight")


def test_auto_measures_rows_on_the_models_own_weights(monkeypatch):
    from oscar_gpt.llm import local

    seen = []

    def measure(linears, dtype):
        seen.append((len(linears), dtype))
        return 2

    monkeypatch.setattr(local, "_measure_half_rows", measure)
    model = network()
    assert half_decode(model, "auto") == ("float16", 2)
    assert seen == [(2, torch.float16)] and model[0].half_rows == 2


def test_the_measurement_answers_with_a_row_count_it_tried():
    from oscar_gpt.llm.local import _DECODE_ROWS, _measure_half_rows

    linears = [torch.nn.Linear(256, 512) for _ in range(4)]
    assert _measure_half_rows(linears, torch.float16) in (0, *_DECODE_ROWS)
    assert _measure_half_rows([], torch.float16) == 0
