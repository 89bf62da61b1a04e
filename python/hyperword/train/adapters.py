"""LoRA adapters with ``peft``: adding named adapters, choosing which one the forward pass uses,
naming the parameters each part of the model owns, and saving and loading a model with its
adapters.

Two pitfalls shape this module:

- ``peft``'s ``set_adapter`` (and ``enable_adapter_layers``) switch ``requires_grad`` on for the
  adapter they activate, so ``requires_grad`` says nothing reliable about what a stage trains.
  What a stage trains is decided by parameter *name* (:func:`owner_of`, :func:`parameters_of`);
  :func:`set_trainable` then makes ``requires_grad`` agree.
- switching adapters inside a block must put everything back afterwards, exceptions included:
  :func:`adapter_view` restores the active adapter, whether adapter layers were enabled, and
  every parameter's ``requires_grad``.

An adapter may also own rows of the embedding matrix (``tokens`` of :func:`add_adapter`, peft's
``trainable_token_indices``): while it is on, those token ids use the adapter's own copies of
their rows, trained with it, in the input embedding and (tied) in the output projection; the
base rows stay frozen and come back when it is off. An adapter trained over a model whose
embeddings never saw some ids needs this, or those ids keep their random initial rows.

A saved model is a directory::

    model/            the base weights, ``save_pretrained`` of a plain LlamaForCausalLM
    adapters/NAME/    each LoRA adapter, peft's ``save_pretrained`` (adapter_config.json + weights)
    adapters.json     the adapters in the order they were added

This module is the one place that reaches into ``peft``'s internals (the embedding-row wrapper's
state-dict methods, :func:`_rows_only_of_their_owners`); they set the lower bound on ``peft`` in
``pyproject.toml``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import transformers.utils.logging as hf_logging
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer
from transformers import LlamaConfig, LlamaForCausalLM

from hyperword.errors import ConfigError, HyperwordError, InternalError
from hyperword.train.model import describe_config, get_size, seeded, size_of

__all__ = [
    "BASE",
    "LORA_TARGETS",
    "LoraSpec",
    "adapter_names",
    "adapter_tokens",
    "adapter_view",
    "add_adapter",
    "base_state_dict",
    "load_model",
    "model_config",
    "owner_of",
    "parameters_of",
    "save_model",
    "set_trainable",
    "view_name",
]

#: the owner name of every parameter that belongs to no adapter
BASE = "base"
#: every linear layer of a Llama block
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoraSpec:
    """Rank, scaling (``alpha / r``), dropout and target layers of a LoRA adapter."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    targets: tuple[str, ...] = field(default=LORA_TARGETS)

    def __post_init__(self) -> None:
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise ConfigError(f"LoRA rank must be a positive integer, got {self.r!r}")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, int) or self.alpha < 1:
            raise ConfigError(f"LoRA alpha must be a positive integer (the scale is alpha / r), got {self.alpha!r}")
        if not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ConfigError(f"LoRA dropout must be in [0, 1), got {self.dropout!r}")
        unknown = sorted(set(self.targets) - set(LORA_TARGETS))
        if not self.targets or unknown:
            raise ConfigError(
                f"LoRA targets must be a non-empty subset of {', '.join(LORA_TARGETS)}; got {list(self.targets)}"
            )

    def config(self) -> LoraConfig:
        return LoraConfig(
            r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=list(self.targets), bias="none"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"r": self.r, "alpha": self.alpha, "dropout": self.dropout, "targets": list(self.targets)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoraSpec:
        return cls(r=data["r"], alpha=data["alpha"], dropout=data["dropout"], targets=tuple(data["targets"]))


def check_adapter_name(name: str) -> str:
    """Adapter names become module keys and directory names: a plain identifier, not ``base``."""
    if not isinstance(name, str) or not name.isidentifier() or name == BASE or name.startswith("lora_"):
        raise ConfigError(
            f"adapter name must be a Python identifier other than {BASE!r} and not starting with 'lora_', got {name!r}"
        )
    return name


#: peft's per-adapter containers of an adapter's own embedding rows (besides the ``lora_*`` ones)
_TOKEN_CONTAINERS = ("trainable_tokens_delta", "trainable_tokens_original")


def owner_of(param_name: str) -> str:
    """Who a parameter belongs to, from its name alone: the adapter ``X`` for
    ``...lora_A.X.weight`` (any ``lora_*`` container) or ``...trainable_tokens_delta.X`` (its
    embedding rows), else :data:`BASE`."""
    parts = param_name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part.startswith("lora_") or part in _TOKEN_CONTAINERS:
            return parts[i + 1]
    return BASE


def parameters_of(model: torch.nn.Module, owners: Iterable[str]) -> list[tuple[str, torch.nn.Parameter]]:
    """The parameters owned by ``owners`` (adapter names and/or :data:`BASE`), by name, in the
    model's order; ``requires_grad`` is not consulted."""
    wanted = set(owners)
    return [(n, p) for n, p in model.named_parameters() if owner_of(n) in wanted]


def set_trainable(model: torch.nn.Module, owners: Iterable[str]) -> None:
    """``requires_grad`` on exactly for the parameters of ``owners`` (call after any
    ``set_adapter``, which changes it)."""
    wanted = set(owners)
    for n, p in model.named_parameters():
        p.requires_grad_(owner_of(n) in wanted)


def view_name(view: str | None) -> str:
    """How a view is named in results: the adapter's name, or ``base`` for the base model alone."""
    return BASE if view is None else view


def adapter_names(model: torch.nn.Module) -> list[str]:
    """The adapters a model holds, in the order they were added (``[]`` for a plain model)."""
    return list(model.peft_config) if isinstance(model, PeftModel) else []


def add_adapter(
    model: torch.nn.Module, name: str, spec: LoraSpec, *, seed: int | list[int], tokens: Sequence[int] | None = None
) -> PeftModel:
    """``model`` with a new LoRA adapter ``name`` (wrapped in a ``PeftModel`` the first time).
    LoRA's B matrices start at zero and the adapter's copies of the embedding rows of ``tokens``
    (if any) start equal to the base rows, so the outputs do not change; the A matrices are
    drawn from ``seed`` alone. The previously active adapter stays active."""
    check_adapter_name(name)
    if name in adapter_names(model):
        raise ConfigError(f"adapter {name!r} exists already")
    config = spec.config()
    if tokens is not None:
        ids = sorted({int(t) for t in tokens})
        if not ids:
            raise ConfigError(f"adapter {name!r}: an empty list of token rows to train (pass None for none)")
        config.trainable_token_indices = ids
    with seeded(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft calls a deprecated transformers method
        if isinstance(model, PeftModel):
            active = model.active_adapter
            model.add_adapter(name, config)
            model.set_adapter(active)
            return model
        wrapped = get_peft_model(model, config, adapter_name=name)
    if not isinstance(wrapped, PeftModel):
        raise InternalError(f"peft returned {type(wrapped).__name__}, not a PeftModel")
    return wrapped


def _tuner_layers(model: torch.nn.Module) -> list[BaseTunerLayer]:
    return [m for m in model.modules() if isinstance(m, BaseTunerLayer)]


def adapters_enabled(model: torch.nn.Module) -> bool:
    """Whether adapter layers take part in the forward pass (``False`` for a plain model)."""
    layers = _tuner_layers(model)
    return bool(layers) and not any(layer.disable_adapters for layer in layers)


def active_view(model: torch.nn.Module) -> str | None:
    """The adapter the forward pass uses now, or ``None`` when it is the base model alone."""
    if not isinstance(model, PeftModel) or not adapters_enabled(model):
        return None
    return str(model.active_adapter)


@contextmanager
def adapter_view(model: torch.nn.Module, view: str | None) -> Iterator[None]:
    """Inside the block, the forward pass uses adapter ``view`` over the base weights, or the base
    model alone for ``None``. On exit (also by an exception) the previously active adapter, the
    enabled/disabled state of the adapter layers and every ``requires_grad`` are put back."""
    if not isinstance(model, PeftModel):
        if view is not None:
            raise ConfigError(f"adapter {view!r} does not exist (the model has no adapters)")
        yield
        return
    if view is not None and view not in model.peft_config:
        raise ConfigError(f"adapter {view!r} does not exist (the model has {', '.join(adapter_names(model))})")
    previous_active = str(model.active_adapter)
    previous_enabled = adapters_enabled(model)
    grads = {n: p.requires_grad for n, p in model.named_parameters()}
    try:
        _switch(model, view)
        yield
    finally:
        model.set_adapter(previous_active)
        _enable_layers(model, previous_enabled)
        for n, p in model.named_parameters():
            p.requires_grad_(grads[n])


def _enable_layers(model: torch.nn.Module, enabled: bool) -> None:
    """Adapter layers on or off (what peft's ``enable/disable_adapter_layers`` do, for LoRA
    without bias terms; turning them on also sets ``requires_grad`` of the active adapter)."""
    for layer in _tuner_layers(model):
        layer.enable_adapters(enabled)


def _switch(model: PeftModel, view: str | None) -> None:
    if view is None:
        _enable_layers(model, False)
        return
    model.set_adapter(view)
    _enable_layers(model, True)


def base_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The base model's weights under a plain ``LlamaForCausalLM``'s names (adapter weights
    dropped, peft's ``.base_layer`` and ``.token_adapter.base_layer`` unwrapped), for
    ``save_pretrained(state_dict=...)``."""
    base = model.get_base_model() if isinstance(model, PeftModel) else model
    if not isinstance(base, torch.nn.Module):
        raise InternalError("peft's base model is not a torch module")
    out: dict[str, torch.Tensor] = {}
    for name, tensor in base.state_dict().items():
        if owner_of(name) != BASE:
            continue
        out[name.replace(".token_adapter.base_layer.", ".").replace(".base_layer.", ".")] = tensor
    return out


def adapter_tokens(model: torch.nn.Module, name: str) -> list[int]:
    """The token ids whose embedding rows adapter ``name`` owns (``[]``: none)."""
    if not isinstance(model, PeftModel) or name not in model.peft_config:
        raise ConfigError(f"adapter {name!r} does not exist")
    ids = getattr(model.peft_config[name], "trainable_token_indices", None)
    if isinstance(ids, dict):
        ids = sorted({i for v in ids.values() for i in v})
    return list(ids or [])


def adapter_specs(model: torch.nn.Module) -> dict[str, LoraSpec]:
    """Each adapter's :class:`LoraSpec`, read back from peft's configs, in the order added."""
    specs: dict[str, LoraSpec] = {}
    if isinstance(model, PeftModel):
        for name, cfg in model.peft_config.items():
            if not isinstance(cfg, LoraConfig):
                raise InternalError(f"adapter {name!r} is not a LoRA adapter")
            targets = cfg.target_modules
            names: Sequence[str] = [targets] if isinstance(targets, str) else sorted(targets or [])
            specs[name] = LoraSpec(
                r=cfg.r,
                alpha=cfg.lora_alpha,
                dropout=cfg.lora_dropout,
                targets=tuple(t for t in LORA_TARGETS if t in names),
            )
    return specs


# --- a saved model: base weights and adapters ---------------------------------------------------
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
    """peft (0.21 as of this writing) raises ``KeyError`` saving or loading an adapter that owns
    no embedding rows while another adapter does: the embedding wrapper looks up rows for every
    adapter. In the block the wrapper saves and expects rows only for the adapters that own some.

    This wraps peft internals: ``TrainableTokensWrapper`` (peft 0.15.0, with LoRA's
    ``trainable_token_indices``) and its ``adapter_state_dict(name, state_dict)`` and
    ``adapter_state_dict_load_map(name)`` in the form they have had since peft 0.15.1
    (huggingface/peft#2456); hence ``peft>=0.15.1`` in ``pyproject.toml``."""
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
