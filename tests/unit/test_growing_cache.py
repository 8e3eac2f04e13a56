"""The running generation's KV-cache layer (llm.local._growing_layer): room kept at the end
of its tensors, written into at each step, and the same keys and values as transformers'
plain DynamicLayer."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from oscar_gpt.llm import local  # noqa: E402


def layers():
    from transformers.cache_utils import DynamicLayer

    return local._growing_layer()(), DynamicLayer()


def states(batch, tokens, seed):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, 3, tokens, 8, generator=generator),
        torch.randn(batch, 3, tokens, 4, generator=generator),  # values may be narrower
    )


def test_steps_write_into_the_room_and_give_what_concatenation_gives():
    growing, plain = layers()
    growing.update(*states(2, 10, 0))
    plain.update(*states(2, 10, 0))
    room = growing.room[0]
    assert room.shape[2] == 10 + local._KV_ROOM
    for step in range(1, local._KV_ROOM + 1):
        keys, values = growing.update(*states(2, 1, step))
        plain.update(*states(2, 1, step))
        assert torch.equal(keys, plain.keys) and torch.equal(values, plain.values)
        assert growing.get_seq_length() == 10 + step
    # no copy until the room is used up, then one into more room
    assert growing.room[0] is room
    keys, _values = growing.update(*states(2, 1, 99))
    assert growing.room[0] is not room and keys.data_ptr() == growing.room[0].data_ptr()
    plain.update(*states(2, 1, 99))
    assert torch.equal(keys, plain.keys)


def test_keys_replaced_from_outside_are_moved_into_new_room():
    growing, plain = layers()
    for layer in (growing, plain):
        layer.update(*states(3, 6, 0))
        layer.update(*states(3, 1, 1))
        # a row leaves the generation, as the batcher selects rows
        layer.batch_select_indices(torch.tensor([0, 2]))
        # columns every row has as padding are dropped, as the batcher does
        layer.keys, layer.values = layer.keys[:, :, 2:], layer.values[:, :, 2:]
    keys, values = growing.update(*states(2, 1, 2))
    plain.update(*states(2, 1, 2))
    assert keys.shape == (2, 3, 6, 8)
    assert torch.equal(keys, plain.keys) and torch.equal(values, plain.values)
    assert keys.data_ptr() == growing.room[0].data_ptr()


def test_only_plain_layers_are_replaced():
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicSlidingWindowLayer

    cache = DynamicCache()
    cache.layers = [local.import_name("transformers.cache_utils", "DynamicLayer")()]
    cache.layers.append(DynamicSlidingWindowLayer(sliding_window=4))
    local._growing(cache)
    assert type(cache.layers[0]) is local._growing_layer()
    assert type(cache.layers[1]) is DynamicSlidingWindowLayer
