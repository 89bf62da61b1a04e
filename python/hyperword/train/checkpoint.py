"""Saving and loading models and training checkpoints.

A saved model is a directory::

    model/            the base weights, ``save_pretrained`` of a plain LlamaForCausalLM
    adapters/NAME/    each LoRA adapter, peft's ``save_pretrained`` (adapter_config.json + weights)
    adapters.json     the adapters in the order they were added

A checkpoint (``OUT/checkpoint/``) is a saved model plus ``trainer.pt``: optimizer, scheduler,
RNG and data-loader state and the trainer's progress. It is written as ``checkpoint.tmp`` and
swapped in by renames (the previous one kept as ``checkpoint.old`` until the new one is in
place), so a crash at any moment leaves a complete checkpoint behind. ``trainer.pt`` is a
pickle (the loader's state is whatever ``hyperword.torch`` keeps): load only checkpoints you wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import transformers.utils.logging as hf_logging
from peft import PeftModel
from transformers import LlamaConfig, LlamaForCausalLM

from hyperword.errors import ConfigError, HyperwordError
from hyperword.train.adapters import adapter_names, base_state_dict

__all__ = [
    "CHECKPOINT",
    "find_checkpoint",
    "load_model",
    "model_config",
    "read_trainer_state",
    "save_checkpoint",
    "save_model",
]

CHECKPOINT = "checkpoint"
TRAINER_STATE = "trainer.pt"
ADAPTERS_FILE = "adapters.json"


@contextmanager
def _quiet() -> Iterator[None]:
    """No transformers progress bars while saving or loading (they would break the run's own)."""
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers leaves it unannotated
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]  # transformers leaves it unannotated


@contextmanager
def _rows_only_of_their_owners(model: torch.nn.Module) -> Iterator[None]:
    """peft (0.21) raises ``KeyError`` saving or loading an adapter that owns no embedding rows
    while another adapter does: the embedding wrapper looks up rows for every adapter. In the
    block the wrapper saves and expects rows only for the adapters that own some."""
    from peft.utils.other import TrainableTokensWrapper

    wrappers = [m for m in model.modules() if isinstance(m, TrainableTokensWrapper)]
    for m in wrappers:
        save, load = m.adapter_state_dict, m.adapter_state_dict_load_map

        def owns(name: str, _m: Any = m) -> bool:
            return name in _m.token_adapter.trainable_tokens_delta

        def saved(name: str, state_dict: dict[str, Any], _save: Any = save, _owns: Any = owns) -> dict[str, Any]:
            return _save(name, state_dict) if _owns(name) else {}

        def expected(name: str, _load: Any = load, _owns: Any = owns) -> dict[str, str]:
            return _load(name) if _owns(name) else {}

        m.adapter_state_dict, m.adapter_state_dict_load_map = saved, expected  # type: ignore[method-assign]
    try:
        yield
    finally:
        for m in wrappers:
            del m.adapter_state_dict, m.adapter_state_dict_load_map


def save_model(model: torch.nn.Module, directory: str | os.PathLike[str]) -> Path:
    """Write ``model`` (a plain model or one with peft adapters) to ``directory`` (see the module doc)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    base = model.get_base_model() if isinstance(model, PeftModel) else model
    if not isinstance(base, LlamaForCausalLM):
        raise ConfigError(f"can only save a LlamaForCausalLM (with or without adapters), got {type(base).__name__}")
    with _quiet():
        base.save_pretrained(str(out / "model"), state_dict=dict(base_state_dict(model)))
        names = adapter_names(model)
        if isinstance(model, PeftModel):
            with _rows_only_of_their_owners(model):
                for name in names:
                    model.save_pretrained(str(out / "adapters"), selected_adapters=[name], save_embedding_layers=False)
    (out / ADAPTERS_FILE).write_text(json.dumps({"adapters": names}) + "\n", encoding="utf-8")
    return out


def model_config(directory: str | os.PathLike[str]) -> LlamaConfig:
    """The model config of a saved model directory; ``ConfigError`` when there is none."""
    path = Path(directory) / "model"
    if not (path / "config.json").is_file():
        raise ConfigError(f"{str(directory)!r} holds no saved model (no model/config.json)")
    config = LlamaConfig.from_pretrained(str(path))
    return config


def load_model(
    directory: str | os.PathLike[str], *, size: str | None = None, vocab_size: int | None = None, trainable: bool = True
) -> torch.nn.Module:
    """A saved model back (its adapters too, trainable when ``trainable``). With ``size`` /
    ``vocab_size``, a model of another size or vocabulary is a ``ConfigError`` before any weight
    is read."""
    from hyperword.train.model import describe_config, get_size, size_of

    path = Path(directory)
    config = model_config(path)
    if size is not None:
        expected = get_size(size)
        found = size_of(config)
        if found != expected.name:
            raise ConfigError(
                f"{str(path)!r} holds a model of size {found or 'unknown'!r} ({describe_config(config)}), "
                f"not {expected.name!r} ({describe_config(expected.config(config.vocab_size))})"
            )
    if vocab_size is not None and config.vocab_size != vocab_size:
        raise ConfigError(
            f"{str(path)!r} holds a model over {config.vocab_size} token ids, the tokenizer has {vocab_size}"
        )
    try:
        names = list(json.loads((path / ADAPTERS_FILE).read_text(encoding="utf-8"))["adapters"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise HyperwordError(f"{str(path)!r}: {ADAPTERS_FILE} is missing or unreadable ({e})") from None
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft calls a deprecated transformers method
        base = LlamaForCausalLM.from_pretrained(str(path / "model"), dtype=torch.float32)
        if not names:
            return base
        model = PeftModel.from_pretrained(
            base, str(path / "adapters" / names[0]), adapter_name=names[0], is_trainable=trainable
        )
        for name in names[1:]:
            with _rows_only_of_their_owners(model):
                model.load_adapter(str(path / "adapters" / name), adapter_name=name, is_trainable=trainable)
        model.set_adapter(names[0])
    return model


def save_checkpoint(out_dir: str | os.PathLike[str], model: torch.nn.Module, state: dict[str, Any]) -> Path:
    """Write ``OUT/checkpoint`` (model + ``state`` as ``trainer.pt``) atomically; see the module doc."""
    out = Path(out_dir)
    final, tmp, old = out / CHECKPOINT, out / f"{CHECKPOINT}.tmp", out / f"{CHECKPOINT}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    save_model(model, tmp)
    torch.save(state, tmp / TRAINER_STATE)
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def find_checkpoint(out_dir: str | os.PathLike[str]) -> Path | None:
    """``OUT/checkpoint`` if complete, else ``OUT/checkpoint.old`` if a crash left only that."""
    out = Path(out_dir)
    for candidate in (out / CHECKPOINT, out / f"{CHECKPOINT}.old"):
        if (candidate / TRAINER_STATE).is_file():
            return candidate
    return None


def read_trainer_state(checkpoint: str | os.PathLike[str]) -> dict[str, Any]:
    """``trainer.pt`` of a checkpoint (a pickle this trainer wrote: the loader state is arbitrary)."""
    state = torch.load(Path(checkpoint) / TRAINER_STATE, map_location="cpu", weights_only=False)
    if not isinstance(state, dict):
        raise HyperwordError(f"{str(checkpoint)!r}: {TRAINER_STATE} is not a trainer state")
    return state
