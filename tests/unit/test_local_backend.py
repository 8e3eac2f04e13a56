"""The local transformers backend on the real SmolLM2-135M-Instruct GGUF."""

import pytest

from oscar_gpt.llm import BadRequest
from oscar_gpt.llm.local import (
    DEFAULT_GGUF_FILE,
    ModelSource,
    default_gguf_path,
    resolve_model_source,
)

pytestmark = pytest.mark.slow


def ask(text):
    return [{"role": "user", "content": text}]


def generated_alone(lm, conversation, max_new_tokens):
    """What transformers' generate() writes for ``conversation``'s prompt alone, greedy."""
    import torch

    prompt = lm.tokenizer.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=False
    )
    encoded = lm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        output = lm.model.generate(
            **encoded,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=lm.tokenizer.pad_token_id,
        )
    new = output[0, encoded["input_ids"].shape[1] :]
    return lm.tokenizer.decode(new, skip_special_tokens=True).strip()


@pytest.fixture(scope="module")
def float32_backend():
    """The default model with float32 arithmetic throughout (INT4 off), for this module."""
    from oscar_gpt.llm import local

    backend = local.TransformersBackend("float32", {"MAX_NEW_TOKENS": 24, "INT4": False})
    assert backend.loaded.int4.layers == 0
    yield backend
    device = local.pick_device(backend.config["DEVICE"])
    key = local.model_key(backend.source, device, backend.config["DTYPE"], int4=False)
    local._models.pop(key, None)  # not kept for the rest of the run


def test_default_model_is_the_gguf_from_the_wheel():
    path = default_gguf_path()
    assert path is not None and path.name == DEFAULT_GGUF_FILE and path.stat().st_size > 10**7
    assert resolve_model_source(None) == ModelSource(str(path.parent), DEFAULT_GGUF_FILE)
    assert resolve_model_source(str(path)) == ModelSource(str(path.parent), DEFAULT_GGUF_FILE)


def test_missing_model_paths_are_configuration_errors(tmp_path):
    from oscar_gpt.llm import ConfigurationError

    with pytest.raises(ConfigurationError, match="GGUF file not found"):
        resolve_model_source(str(tmp_path / "nope.gguf"))
    with pytest.raises(ConfigurationError, match="Model folder not found"):
        resolve_model_source(str(tmp_path / "missing-folder") + "/")
    # anything else is a hub id, passed through untouched
    assert resolve_model_source("HuggingFaceTB/SmolLM2-360M-Instruct").gguf_file is None


def test_completion_from_a_chat_prompt(local_backend):
    completion = local_backend.complete(
        [
            {"role": "system", "content": "You are a helpful shop assistant."},
            {"role": "user", "content": "Describe a pair of wireless headphones in one sentence."},
        ],
        max_tokens=20,
    )
    assert completion.text.strip()
    assert completion.completion_tokens > 0
    assert completion.prompt_tokens > 10  # the chat template wraps the messages
    assert completion.model == "SmolLM2-135M-Instruct.Q4_1"
    assert completion.finish_reason in {"stop", "length"}
    assert completion.extra["device"] == "cpu"


def test_max_tokens_bounds_the_answer(local_backend):
    completion = local_backend.complete(ask("Write a long essay about coffee."), max_tokens=5)
    assert completion.completion_tokens <= 5
    assert completion.finish_reason == "length"


def test_greedy_generation_is_reproducible(local_backend):
    messages = ask("Name a colour.")
    first = local_backend.complete(messages, max_tokens=8)
    second = local_backend.complete(messages, max_tokens=8)
    assert first.text == second.text


def test_seeded_sampling_is_reproducible(local_backend):
    messages = ask("Invent a name for a coffee machine.")
    runs = [
        local_backend.complete(messages, max_tokens=12, temperature=1.0, seed=7).text
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_batch_returns_one_answer_per_conversation_in_order(local_backend):
    # Prompts of different token lengths: the batch is sorted by length internally and must
    # come back in the order asked.
    words = ["hippopotamus", "banana", "umbrella", "giraffe", "toaster", "laptop"]
    conversations = [ask(f"Say the word {word}.") for word in words]
    completions = local_backend.complete_batch(conversations, max_tokens=8, batch_size=4)
    assert len(completions) == len(conversations)
    for word, completion in zip(words, completions, strict=True):
        assert word in completion.text.lower(), (word, completion.text)


def test_batched_matches_unbatched_greedy(float32_backend):
    """With float32 arithmetic a row's answer is the same alone and in a batch. (With INT4's
    bfloat16 inputs the other rows' padding can tip a near-tie: "Say hello." gives "Hello
    there, ..." with another prompt and "Hello! I'm ..." alone on a CPU with AMX.)"""
    conversations = [ask("Say hello."), ask("What is a laptop? Answer in one short sentence.")]
    batched = float32_backend.complete_batch(conversations, max_tokens=10)
    single = [float32_backend.complete(c, max_tokens=10) for c in conversations]
    assert [c.completion_tokens for c in batched] == [c.completion_tokens for c in single]
    assert [c.text for c in batched] == [c.text for c in single]


def test_threads_asking_at_the_same_time_share_a_batch(local_backend):
    """A threaded worker's threads: those that ask while the model is busy join the running
    generation together, and each gets its own answer, as it would alone."""
    import threading
    import time

    lm = local_backend.loaded
    words = ["banana", "umbrella", "giraffe", "toaster"]
    alone = {w: local_backend.complete(ask(f"Say the word {w}."), max_tokens=8).text for w in words}
    lm.batcher.admitted.clear()
    answers = {}

    def shopper(word):
        answers[word] = local_backend.complete(ask(f"Say the word {word}."), max_tokens=8).text

    threads = [threading.Thread(target=shopper, args=(word,)) for word in words]
    with lm.lock:  # the model is busy: the first thread waits for it, the others queue
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(lm.batcher.queue) < len(words) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(lm.batcher.queue) == len(words) - 1
    for thread in threads:
        thread.join(120)
    assert answers == alone
    assert lm.batcher.admitted == [1, 3]  # the first thread's prompt, then the three together


def test_a_question_asked_during_a_generation_joins_it_and_leaves_when_it_ends(float32_backend):
    """Continuous batching: a short answer asked while a long one is being written starts at
    the next step, and its caller has it back long before the long one ends, with exactly
    the answer it gets alone. Exactly needs float32 arithmetic: with INT4's bfloat16 inputs
    the joined row's padding (a different order of additions in attention) can tip a
    near-tie, and here it does, in the last words of the short answer."""
    import threading
    import time

    local_backend = float32_backend
    lm = local_backend.loaded
    essay = ask("Write a long essay about coffee.")
    short = ask("Say the word banana.")
    alone = {
        "essay": local_backend.complete(essay, max_tokens=60),
        "short": local_backend.complete(short, max_tokens=60),
    }
    assert alone["essay"].completion_tokens == 60 and alone["short"].completion_tokens < 20
    lm.batcher.admitted.clear()
    finished, results = {}, {}

    def run(name, messages):
        results[name] = local_backend.complete(messages, max_tokens=60)
        finished[name] = time.monotonic()

    writer = threading.Thread(target=run, args=("essay", essay))
    writer.start()
    deadline = time.monotonic() + 60
    while not (lm.batcher.rows and len(lm.batcher.rows[0].ids) >= 5):  # well under way
        assert time.monotonic() < deadline
        time.sleep(0.005)
    run("short", short)
    writer.join(120)
    assert lm.batcher.admitted == [1, 1]  # no new generation: the short one joined
    assert finished["short"] < finished["essay"]
    for name in ("essay", "short"):
        assert results[name].text == alone[name].text, name
        assert results[name].completion_tokens == alone[name].completion_tokens
        assert results[name].prompt_tokens == alone[name].prompt_tokens
    assert not lm.batcher.rows and not lm.batcher.queue and lm.batcher.cache is None


def test_no_request_joins_ahead_of_an_older_one_with_other_settings(local_backend, monkeypatch):
    """First come, first served: a sampled request waiting for the running greedy generation
    to end is not overtaken by greedy requests that arrive after it."""
    import threading
    import time

    lm = local_backend.loaded
    order = []
    real = lm.model.generate

    def sampled_batch(**kwargs):
        order.append("sampled")
        return real(**kwargs)

    monkeypatch.setattr(lm.model, "generate", sampled_batch)
    lm.batcher.admitted.clear()

    def run(name, messages, **params):
        local_backend.complete(messages, **params)
        order.append(name)

    essay = threading.Thread(
        target=run,
        args=("essay", ask("Write a long essay about coffee.")),
        kwargs={"max_tokens": 40},
    )
    essay.start()
    deadline = time.monotonic() + 60
    while not lm.batcher.rows:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    later = [
        threading.Thread(
            target=run,
            args=("fruit", ask("Name a fruit.")),
            kwargs={"max_tokens": 6, "temperature": 0.8, "seed": 1},
        ),
        threading.Thread(
            target=run, args=("short", ask("Say the word banana.")), kwargs={"max_tokens": 6}
        ),
    ]
    for count, thread in enumerate(later, 1):
        thread.start()
        while len(lm.batcher.queue) < count:
            assert time.monotonic() < deadline and lm.batcher.rows
            time.sleep(0.005)
    for thread in (essay, *later):
        thread.join(120)
    assert lm.batcher.admitted == [1, 1]  # the short one read after the essay, on its own
    assert order == ["essay", "sampled", "fruit", "short"]


def test_greedy_rows_read_as_generate_reads_them(float32_backend):
    """The running generation's own loop (its output layer included) gives what
    transformers' generate() gives for each prompt alone (float32: see above)."""

    lm = float32_backend.loaded
    conversations = [ask("Say hello."), ask("What is a laptop? Answer in one short sentence.")]
    ours = float32_backend.complete_batch(conversations, max_tokens=12)
    for conversation, completion in zip(conversations, ours, strict=True):
        assert completion.text == generated_alone(lm, conversation, 12)


def test_a_failed_generation_reaches_its_caller_and_the_next_one_runs(local_backend, monkeypatch):
    lm = local_backend.loaded

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(lm.model, "forward", out_of_memory)
    with pytest.raises(RuntimeError, match="out of memory"):
        local_backend.complete(ask("Say hello."), max_tokens=4)
    monkeypatch.undo()
    assert not lm.batcher.queue and not lm.batcher.running and not lm.batcher.rows
    assert local_backend.complete(ask("Say hello."), max_tokens=4).completion_tokens > 0


def test_a_step_that_fails_fails_every_row_running_and_nothing_else(local_backend, monkeypatch):
    lm = local_backend.loaded
    real = lm.model.forward
    calls = []

    def fails_on_the_third_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("device lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(lm.model, "forward", fails_on_the_third_step)
    with pytest.raises(RuntimeError, match="device lost"):
        local_backend.complete_batch([ask("Say hello."), ask("Name a colour.")], max_tokens=20)
    monkeypatch.undo()
    assert not lm.batcher.rows and lm.batcher.cache is None and not lm.batcher.running
    assert local_backend.complete(ask("Say hello."), max_tokens=4).completion_tokens > 0


def test_sampling_is_generated_as_a_batch_of_its_own(local_backend, monkeypatch):
    """Sampled completions don't join the greedy generation: they go through generate()."""
    lm = local_backend.loaded
    sizes = []
    real = lm.model.generate

    def counting(**kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        return real(**kwargs)

    monkeypatch.setattr(lm.model, "generate", counting)
    completions = local_backend.complete_batch(
        [ask("Name a fruit."), ask("Name a city.")], max_tokens=6, temperature=0.8, seed=3
    )
    assert sizes == [2] and all(c.completion_tokens > 0 for c in completions)


def test_stop_when_ends_each_completion_where_it_says_and_no_other(local_backend):
    conversations = [ask("Say the word banana."), ask("Write a long essay about coffee.")]
    full = local_backend.complete_batch(conversations, max_tokens=60)
    at = len(full[0].text) + 10  # past the short answer, well before the essay's end
    assert len(full[1].text) > at + 20
    stopped = local_backend.complete_batch(
        conversations, max_tokens=60, stop_when=lambda text: len(text) >= at
    )
    assert stopped[0].text == full[0].text  # ended by itself before the stop applied
    assert len(stopped[1].text) >= at and full[1].text.startswith(stopped[1].text)
    assert stopped[1].completion_tokens < full[1].completion_tokens
    assert stopped[1].finish_reason == "stop"
    # One function per conversation: the essay's stops, the other has none.
    each = local_backend.complete_batch(
        conversations, max_tokens=60, stop_when=[None, lambda text: len(text) >= at]
    )
    assert [c.text for c in each] == [full[0].text, stopped[1].text]
    with pytest.raises(ValueError, match="2 conversations"):
        local_backend.complete_batch(conversations, max_tokens=60, stop_when=[None])


def test_sampled_completions_stop_each_where_its_own_function_says(local_backend):
    """Sampling goes through generate() (not the running generation): one function per
    conversation there too."""
    conversations = [ask("Write a long essay about tea."), ask("Write a long essay about coffee.")]
    sampled = {"max_tokens": 40, "temperature": 0.8, "seed": 5}
    full = local_backend.complete_batch(conversations, **sampled)
    assert all(len(c.text) > 40 for c in full)
    stopped = local_backend.complete_batch(
        conversations, **sampled, stop_when=[None, lambda text: len(text) >= 20]
    )
    assert stopped[0].text == full[0].text
    assert 20 <= len(stopped[1].text) < len(full[1].text)
    assert full[1].text.startswith(stopped[1].text)


def test_stream_yields_deltas_that_add_up_to_the_completion(local_backend):
    messages = ask("Describe running shoes in one sentence.")
    chunks = list(local_backend.stream(messages, max_tokens=16))
    deltas = [c.delta for c in chunks if c.delta]
    assert len(deltas) >= 3
    final = chunks[-1]
    assert final.delta == "" and final.completion_tokens and final.prompt_tokens
    full = local_backend.complete(messages, max_tokens=16)
    assert "".join(deltas).strip() == full.text
    assert final.completion_tokens == full.completion_tokens


def test_empty_conversation_is_a_bad_request(local_backend):
    with pytest.raises(BadRequest):
        local_backend.complete([])


def test_model_is_loaded_once_per_process(local_backend):
    from oscar_gpt.llm.local import TransformersBackend

    other_alias = TransformersBackend("another", {})
    assert other_alias.loaded is local_backend.loaded


def test_each_pass_runs_with_the_threads_its_rows_get(local_backend, monkeypatch):
    """THREADS "auto": the token steps of a few rows (a shopper's answer) leave a core free;
    reading prompts (a row per token) and the steps of ALL_CORES_ROWS rows or more (bulk)
    take them all; streaming is one row, its prompt included."""
    import torch

    from oscar_gpt.llm.local import ALL_CORES_ROWS

    lm = local_backend.loaded
    monkeypatch.setattr(lm, "threads", (1, 2))
    passes = []
    forward = lm.model.forward

    def counting(*args, **kwargs):
        ids = kwargs["input_ids"]
        kind = "prompt" if ids.shape[1] > 1 else "step"
        passes.append((ids.shape[0], kind, torch.get_num_threads()))
        return forward(*args, **kwargs)

    before = torch.get_num_threads()
    monkeypatch.setattr(lm.model, "forward", counting)
    try:
        local_backend.complete(ask("Say hello."), max_tokens=3)
        few = set(passes)
        passes.clear()
        many = [ask(f"Say hello to {n}.") for n in range(ALL_CORES_ROWS)]
        local_backend.complete_batch(many, max_tokens=3)
        bulk = set(passes)
        passes.clear()
        list(local_backend.stream(ask("Say hello."), max_tokens=3))
        streamed = set(passes)
    finally:
        torch.set_num_threads(before)
    assert few == {(1, "prompt", 2), (1, "step", 1)}
    assert bulk == {(ALL_CORES_ROWS, "prompt", 2), (ALL_CORES_ROWS, "step", 2)}
    assert streamed == {(1, "prompt", 1), (1, "step", 1)}


def test_a_system_message_is_read_once_and_its_cache_reused(float32_backend, monkeypatch):
    """Prompts that begin with the same system message (every Q&A prompt) read it once:
    later prompts read only what follows it. The answers are generate()'s for the whole
    prompt (float32: see above)."""

    lm = float32_backend.loaded
    lm.prefixes.clear()
    system = {"role": "system", "content": "You answer questions about one product in a shop."}
    conversations = [
        [system, {"role": "user", "content": "Battery life: 30 h. How long does it last?"}],
        [system, {"role": "user", "content": "Weight: 250 g. How heavy is it?"}],
    ]
    passes = []
    forward = lm.model.forward

    def counting(*args, **kwargs):
        passes.append(kwargs["input_ids"].shape[1])
        return forward(*args, **kwargs)

    monkeypatch.setattr(lm.model, "forward", counting)
    first = float32_backend.complete(conversations[0], max_tokens=12)
    prompt_passes = [length for length in passes if length > 1]
    passes.clear()
    second = float32_backend.complete(conversations[1], max_tokens=12)
    monkeypatch.undo()
    prefix = next(iter(lm.prefixes.values()))
    assert list(lm.prefixes) == [prefix.text] and prefix.text.endswith("<|im_end|>\n")
    prompts = [
        lm.tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
        for c in conversations
    ]
    whole = [len(lm.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    assert prompt_passes == [prefix.length, whole[0] - prefix.length]
    assert [length for length in passes if length > 1] == [whole[1] - prefix.length]
    assert first.prompt_tokens == whole[0] and second.prompt_tokens == whole[1]
    for conversation, completion in zip(conversations, (first, second), strict=True):
        assert completion.text == generated_alone(lm, conversation, 12)


def test_the_gguf_s_four_bit_layers_multiply_as_four_bits_with_the_same_answers(
    local_backend, float32_backend
):
    """The default GGUF's linear layers are 4-bit groups: INT4 "auto" packs every one of
    them (the output layer is 8-bit and stays), and answers as the float32 weights do."""
    import torch

    lm = local_backend.loaded
    linears = [m for m in lm.model.modules() if isinstance(m, torch.nn.Linear)]
    packed = [m for m in linears if m.weight is None]
    assert lm.int4.layers == len(packed) == len(linears) - 1
    assert lm.model.get_output_embeddings().weight is not None
    assert "4-bit" in local_backend.describe()["device"]
    question = (
        "Product: Wireless headphones\nFacts:\n[E1] Battery life: 30 h\n"
        "Question: What is the battery life? Answer in one short sentence."
    )
    assert float32_backend.loaded is not lm
    expected = float32_backend.complete(ask(question), max_tokens=16)
    got = local_backend.complete(ask(question), max_tokens=16)
    assert got.text == expected.text and "30" in got.text


def test_embeddings(embedder):
    vectors = embedder.embed(
        [
            "Wireless noise-cancelling headphones with 30 hours of battery life",
            "Bluetooth headphones with active noise cancellation and a 30 h battery",
            "A paperback novel about a detective in Victorian London",
        ]
    )
    assert vectors.shape == (3, 384)
    near, far = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert near > far + 0.3, (near, far)
    assert embedder.embed([]).shape == (0, 384)
