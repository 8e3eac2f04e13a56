"""Fine-tune a local model with transformers' Trainer: the causal-LM objective on the model's
chat template, the loss on the assistant's tokens only.

No database here: :func:`train` reads an export's JSONL files and writes a model folder that
:class:`~oscar_gpt.llm.local.TransformersBackend` loads like any other (``MODEL`` = the
folder). Small models are fine-tuned in full; LoRA (peft) is used above
``LORA_ABOVE_PARAMETERS`` or when asked, and merged into the weights before saving, so the
folder is a plain model either way. CUDA when there is one, else the CPU. Checkpoints every
``save_steps`` let a run that was stopped resume where it was.

The default model starts from the float32 safetensors that the local backend caches when it
first de-quantises the GGUF file, so training does not convert it again.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..app_settings import app_settings
from .files import FILES, read_examples

logger = logging.getLogger(__name__)

IGNORE = -100
#: Written into the model folder: what it was trained from, how, and how it did.
METADATA_FILE = "oscar_gpt_finetune.json"
#: Prompt tokens kept in front of an answer that is cut to fit ``max_length``.
MIN_PROMPT_TOKENS = 16


@dataclasses.dataclass
class TrainingParams:
    """How to train; :meth:`from_settings` fills what is not given from ``FINETUNE_LOCAL``."""

    #: The alias of the transformers backend to fine-tune.
    base: str = "local"
    epochs: float = 2.0
    #: Above 0: stop after this many optimiser steps, whatever ``epochs`` says.
    max_steps: int = -1
    #: None: ``LEARNING_RATE`` (full) or ``LORA_LEARNING_RATE`` (LoRA).
    learning_rate: float | None = None
    batch_size: int = 4
    gradient_accumulation: int = 1
    max_length: int = 512
    #: None: LoRA for models with more than ``lora_above`` parameters.
    lora: bool | None = None
    lora_above: int = 1_000_000_000
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    save_steps: int = 50
    #: The whole of :func:`train` (loading, losses, optimisation, saving) within this time.
    max_minutes: float | None = None
    seed: int = 0
    #: Validation products whose copy is generated in the before/after comparison.
    eval_products: int = 20

    @classmethod
    def from_settings(cls, **overrides: Any) -> TrainingParams:
        local = app_settings.FINETUNE_LOCAL
        values = {
            "base": local["BACKEND"],
            "epochs": local["EPOCHS"],
            "batch_size": local["BATCH_SIZE"],
            "gradient_accumulation": local["GRADIENT_ACCUMULATION"],
            "max_length": local["MAX_LENGTH"],
            "lora": local["LORA"],
            "lora_above": local["LORA_ABOVE_PARAMETERS"],
            "lora_r": local["LORA_R"],
            "lora_alpha": local["LORA_ALPHA"],
            "lora_dropout": local["LORA_DROPOUT"],
            "save_steps": local["SAVE_STEPS"],
            "max_minutes": local["MAX_MINUTES"],
            "seed": app_settings.FINETUNE_SEED,
            "eval_products": local["EVAL_PRODUCTS"],
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingParams:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def rate(self, lora: bool) -> float:
        if self.learning_rate:
            return float(self.learning_rate)
        local = app_settings.FINETUNE_LOCAL
        return float(local["LORA_LEARNING_RATE"] if lora else local["LEARNING_RATE"])


# -- the base model --------------------------------------------------------------------------


def local_backend(alias: str):
    from ..llm.local import TransformersBackend
    from ..llm.registry import get_backend

    backend = get_backend(alias)
    if not isinstance(backend, TransformersBackend):
        from ..llm.errors import ConfigurationError

        raise ConfigurationError(
            f"Backend {alias!r} is not a transformers backend: only local models are "
            "fine-tuned here (hosted ones through the provider's API)."
        )
    return backend


def weights_source(backend) -> tuple[str, dict[str, Any]]:
    """What ``from_pretrained`` reads for ``backend``'s model: the de-quantised safetensors
    cache of a GGUF model (written now if the backend never loaded it), or the model."""
    from ..llm.local import LoadedModel, _gguf_cache_dir

    source = backend.source
    if not source.gguf_file:
        return source.name, {}
    cache = _gguf_cache_dir(source)
    if not (cache / "config.json").is_file():
        # The backend's own loading de-quantises the GGUF once and caches it as float32.
        LoadedModel(source, "cpu", "float32", backend.config["THREADS"])
    if (cache / "config.json").is_file():
        return str(cache), {}
    return source.name, {"gguf_file": source.gguf_file}  # no cache (read-only home)


def load_tokenizer(alias: str):
    """The tokenizer of a local backend's model, and the model's name."""
    from ..llm.imports import import_name
    from ..llm.local import _gguf_cache_dir

    AutoTokenizer = import_name("transformers", "AutoTokenizer")

    backend = local_backend(alias)
    source = backend.source
    name, kwargs = source.name, {}
    if source.gguf_file:
        cache = _gguf_cache_dir(source)
        if (cache / "config.json").is_file():
            name = str(cache)
        else:
            kwargs["gguf_file"] = source.gguf_file
    return AutoTokenizer.from_pretrained(name, **kwargs), backend.model_name


# -- the data --------------------------------------------------------------------------------


def encode(messages: list[dict], tokenizer, max_length: int) -> dict[str, list[int]] | None:
    """Token ids and labels for one conversation: labels only on the last (assistant)
    message and its end-of-turn token. Too long: the prompt is cut from the front (its last
    part and the answer matter most), then the answer at the end. None: nothing to learn."""
    prompt = tokenizer.apply_chat_template(
        messages[:-1], add_generation_prompt=True, tokenize=False
    )
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    start = 0
    for a, b in zip(prompt_ids, ids, strict=False):
        if a != b:
            break
        start += 1
    labels = [IGNORE] * start + ids[start:]
    if len(ids) > max_length:
        answer = len(ids) - start
        keep = max(min(start, max_length - answer), min(start, MIN_PROMPT_TOKENS))
        first = start - keep
        ids, labels = ids[first : first + max_length], labels[first : first + max_length]
    if all(label == IGNORE for label in labels):
        return None
    return {"input_ids": ids, "labels": labels}


class ChatDataset:
    """Encoded examples (a map-style dataset for the Trainer's DataLoader)."""

    def __init__(self, records: list[dict], tokenizer, max_length: int):
        self.items = []
        self.truncated = 0
        for record in records:
            item = encode(record["messages"], tokenizer, max_length)
            if item is None:
                continue
            self.truncated += len(item["input_ids"]) == max_length
            self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.items[index]

    @property
    def tokens(self) -> int:
        return sum(len(item["input_ids"]) for item in self.items)


class Collator:
    """Pads a batch (right) and, where the model can, asks it for logits only from the first
    position that predicts an answer token: the prompt's logits (most of a sequence, over a
    49k vocabulary) cost time and memory and count for nothing."""

    def __init__(self, pad_id: int, logits_to_keep: bool):
        self.pad_id = pad_id
        self.logits_to_keep = logits_to_keep

    def __call__(self, features: list[dict]) -> dict[str, Any]:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), length), dtype=torch.long)
        labels = torch.full((len(features), length), IGNORE, dtype=torch.long)
        for row, feature in enumerate(features):
            n = len(feature["input_ids"])
            ids[row, :n] = torch.tensor(feature["input_ids"])
            mask[row, :n] = 1
            labels[row, :n] = torch.tensor(feature["labels"])
        batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
        if self.logits_to_keep:
            answered = (labels != IGNORE).int().argmax(dim=1)
            first = max(int(answered.min()) - 1, 0)
            if first > 0:
                # Logits from position ``first`` on; the labels cut to match (the model
                # shifts them by one itself), so the loss is exactly the full one.
                batch["logits_to_keep"] = length - first
                batch["labels"] = labels[:, first:]
        return batch


# -- the run ---------------------------------------------------------------------------------


class _Progress:
    """Reports each step, stops at the time limit or when the caller says so."""

    def __init__(self, report, should_stop, deadline: float | None):
        from ..llm.imports import import_name

        TrainerCallback = import_name("transformers", "TrainerCallback")

        progress = self

        class Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                progress.step_end(state, control)

            def on_log(self, args, state, control, logs=None, **kwargs):
                progress.log(state, logs or {})

        self.callback = Callback()
        self.report = report
        self.should_stop = should_stop
        self.deadline = deadline
        self.started = time.monotonic()
        self.stopped = ""
        self.losses: list[tuple[int, float]] = []
        self.step_seconds: list[float] = []
        self._last_step = time.monotonic()

    def step_end(self, state, control) -> None:
        now = time.monotonic()
        self.step_seconds.append(now - self._last_step)
        self._last_step = now
        if self.should_stop is not None and self.should_stop():
            self.stopped = "cancelled"
            control.should_training_stop = True
        elif self.deadline is not None:
            # Stop when one more step would not end before the deadline.
            typical = sorted(self.step_seconds)[len(self.step_seconds) // 2]
            if now + typical > self.deadline:
                self.stopped = "time"
                control.should_training_stop = True
        if control.should_training_stop:
            # The last step: the model is saved (or, cancelled, dropped) right after, so a
            # checkpoint now (the model and the optimiser's state, three times its size)
            # would only be written to be deleted.
            control.should_save = False

    def log(self, state, logs: dict) -> None:
        if "loss" in logs:
            self.losses.append((state.global_step, float(logs["loss"])))
        if self.report is None:
            return
        elapsed = time.monotonic() - self.started
        step, total = state.global_step, state.max_steps or 0
        eta = elapsed / step * (total - step) if step and total else None
        self.report(
            {
                "step": step,
                "max_steps": total,
                "epoch": round(float(state.epoch or 0), 3),
                "loss": self.losses[-1][1] if self.losses else None,
                "elapsed_s": round(elapsed, 1),
                "eta_s": round(eta, 1) if eta is not None else None,
                "percent": round(100 * step / total) if total else 0,
            }
        )


def _accepts_logits_to_keep(model) -> bool:
    return "logits_to_keep" in inspect.signature(model.forward).parameters


def _device(backend) -> str:
    from ..llm.local import pick_device

    return pick_device(backend.config["DEVICE"])


def train(
    dataset_dir: str | Path,
    output_dir: str | Path,
    params: TrainingParams,
    *,
    run_dir: str | Path | None = None,
    resume: bool = True,
    report: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_bar: bool = False,
) -> dict[str, Any]:
    """Fine-tune ``params.base`` on the export in ``dataset_dir``; save to ``output_dir``.

    Returns the run's figures: validation loss before and after, the training losses, steps,
    time, and how it was trained. ``should_stop()`` is asked after each step (a cancelled
    job): then nothing is saved and ``cancelled`` is True. With ``resume``, a run stopped
    half-way continues from its last checkpoint in ``run_dir``.
    """
    import torch

    from ..llm.imports import import_name, import_names, loading
    from ..llm.local import thread_plan

    AutoModelForCausalLM, Trainer, TrainingArguments = import_names(
        "transformers", "AutoModelForCausalLM", "Trainer", "TrainingArguments"
    )
    get_last_checkpoint = import_name("transformers.trainer_utils", "get_last_checkpoint")

    started = time.monotonic()
    deadline = started + params.max_minutes * 60 if params.max_minutes else None
    dataset_dir, output_dir = Path(dataset_dir), Path(output_dir)
    run_dir = Path(run_dir) if run_dir else output_dir.with_name(output_dir.name + "-run")
    checkpoints = run_dir / "checkpoints"
    backend = local_backend(params.base)
    device = _device(backend)
    threads = thread_plan(backend.config["THREADS"])
    if threads:  # training is bulk work: every core "auto" gives
        torch.set_num_threads(threads[1])

    name, kwargs = weights_source(backend)
    tokenizer, _label = load_tokenizer(params.base)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_records = read_examples(dataset_dir / FILES["train"])
    validation_records = read_examples(dataset_dir / FILES["validation"])
    train_set = ChatDataset(train_records, tokenizer, params.max_length)
    validation_set = ChatDataset(validation_records, tokenizer, params.max_length)
    if not len(train_set):
        raise ValueError("The export has no training examples.")

    with loading():
        model = AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32, **kwargs)
    if "gguf_file" in kwargs:  # plain tensors now; the GGUF "quantizer" only marks the origin
        model.hf_quantizer = None
        if getattr(model.config, "quantization_config", None) is not None:
            del model.config.quantization_config
    parameters = sum(p.numel() for p in model.parameters())
    lora = params.lora if params.lora is not None else parameters > params.lora_above
    logits_to_keep = _accepts_logits_to_keep(model)
    if lora:
        LoraConfig, get_peft_model = import_names("peft", "LoraConfig", "get_peft_model")

        with loading():
            model = get_peft_model(
                model,
                LoraConfig(
                    task_type="CAUSAL_LM",
                    r=params.lora_r,
                    lora_alpha=params.lora_alpha,
                    lora_dropout=params.lora_dropout,
                    target_modules="all-linear",
                ),
            )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    cuda = device.startswith("cuda")
    bf16 = cuda and torch.cuda.is_bf16_supported()
    per_epoch = math.ceil(len(train_set) / (params.batch_size * params.gradient_accumulation))
    total = params.max_steps if params.max_steps > 0 else math.ceil(params.epochs * per_epoch)
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=params.batch_size,
        gradient_accumulation_steps=params.gradient_accumulation,
        num_train_epochs=float(params.epochs),
        max_steps=params.max_steps,
        learning_rate=params.rate(lora),
        # The fused AdamW step is several times faster than the per-tensor one on CPUs too.
        optim="adamw_torch_fused",
        lr_scheduler_type="linear",
        # A warm-up's first step learns nothing (its rate is 0): only for longer runs.
        warmup_steps=round(0.05 * total) if total >= 40 else 0,
        weight_decay=0.0,
        logging_steps=1,
        eval_strategy="no",
        prediction_loss_only=True,
        save_strategy="steps",
        save_steps=max(1, params.save_steps),
        save_total_limit=1,
        report_to="none",
        use_cpu=not cuda and device == "cpu",
        bf16=bf16,
        fp16=cuda and not bf16,
        seed=params.seed,
        data_seed=params.seed,
        remove_unused_columns=False,
        disable_tqdm=not progress_bar,
        dataloader_pin_memory=cuda,
        train_sampling_strategy="group_by_length",
        label_names=["labels"],
    )
    progress = _Progress(report, should_stop, None)
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=Collator(tokenizer.pad_token_id, logits_to_keep),
        train_dataset=train_set,
        eval_dataset=validation_set if len(validation_set) else None,
        processing_class=tokenizer,
        callbacks=[progress.callback],
    )

    run_dir.mkdir(parents=True, exist_ok=True)
    before_file = run_dir / "before.json"
    last = get_last_checkpoint(str(checkpoints)) if resume and checkpoints.is_dir() else None
    if last and before_file.is_file():
        before = json.loads(before_file.read_text())
    else:
        evaluated = time.monotonic()
        before = {
            "eval_loss": _loss(trainer, validation_set),
            "seconds": time.monotonic() - evaluated,
        }
        before_file.write_text(json.dumps(before))
    if deadline is not None:
        # Leave time for the loss after (as long as the one before) and for saving.
        progress.deadline = deadline - 1.2 * before["seconds"] - 30
    trained = time.monotonic()
    output = trainer.train(resume_from_checkpoint=last)
    train_seconds = time.monotonic() - trained
    result = {
        "base": params.base,
        "base_model": backend.model_name,
        "device": device,
        "method": "lora" if lora else "full",
        "parameters": parameters,
        "trainable_parameters": trainable,
        "train_examples": len(train_set),
        "validation_examples": len(validation_set),
        "train_tokens": train_set.tokens,
        "truncated": train_set.truncated + validation_set.truncated,
        "steps": output.global_step,
        "planned_steps": total,
        "epochs": round(float(trainer.state.epoch or 0), 3),
        "train_loss": output.training_loss,
        "losses": progress.losses,
        "train_seconds": round(train_seconds, 1),
        "resumed_from": Path(last).name if last else "",
        "stopped": progress.stopped,
        "cancelled": progress.stopped == "cancelled",
        "eval_loss_before": before["eval_loss"],
        "eval_loss_after": None,
        "params": params.as_dict(),
    }
    if result["cancelled"]:
        result["seconds"] = round(time.monotonic() - started, 1)
        return result
    result["eval_loss_after"] = _loss(trainer, validation_set)
    save(trainer.model, tokenizer, output_dir, lora=lora, metadata=result)
    shutil.rmtree(run_dir, ignore_errors=True)  # a finished run is not resumed
    result["seconds"] = round(time.monotonic() - started, 1)
    (output_dir / METADATA_FILE).write_text(json.dumps(result, indent=2))
    return result


def _loss(trainer, dataset) -> float | None:
    if not len(dataset):
        return None
    return float(trainer.evaluate(dataset)["eval_loss"])


def save(model, tokenizer, output_dir: Path, *, lora: bool, metadata: dict) -> None:
    """A plain model folder: LoRA adapters merged into the weights."""
    if lora:
        model = model.merge_and_unload()
    tmp = output_dir.with_name(output_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    shutil.rmtree(output_dir, ignore_errors=True)
    tmp.rename(output_dir)
