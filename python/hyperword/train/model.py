"""The model: a Llama-style decoder (``transformers.LlamaForCausalLM``) built from scratch at a
named size, never downloaded.

Every size ties the input embedding to the output projection, uses SwiGLU feed-forward
blocks, RMSNorm, rotary positions (no position parameters) and as many key/value heads as
query heads. Attention is PyTorch's ``scaled_dot_product_attention`` (``sdpa``, named
explicitly): training batches carry no padding mask, so it runs with ``is_causal`` and takes
the flash kernel in bf16 on a GPU. The parameter count is ``V*h + L*(4*h*h + 3*h*i + 2*h) + h`` for vocabulary ``V``,
hidden size ``h``, ``L`` layers and feed-forward size ``i``; at the documented vocabulary of
8,192 ids (:data:`DOCUMENTED_VOCAB`):

========  ======  ======  =====  ============  ==============  ======================
size      hidden  layers  heads  feed-forward  parameters @8k  meant for
========  ======  ======  =====  ============  ==============  ======================
``tiny``  128     4       4      384           1.90M           the CPU (~6k tokens/s
                                                               on 2 cores, seq 128)
``small`` 512     6       8      1536          24.6M           a small GPU
``base``  768     12      12     3072          119.6M          a GPU
========  ======  ======  =====  ============  ==============  ======================

(:func:`parameter_count` gives the exact number for any vocabulary.)

The loss is computed here, not by ``transformers``: a batch is ``int64 [B, seq_len + 1]`` token
ids, inputs ``tokens[:, :-1]`` and targets ``tokens[:, 1:]`` already shifted (``transformers``
would shift a second time). On a GPU the forward pass runs in bf16 autocast; on the CPU in fp32,
where runs are exactly reproducible (:func:`autocast`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from hyperword.errors import ConfigError

__all__ = [
    "DOCUMENTED_VOCAB",
    "SIZES",
    "ModelSize",
    "autocast",
    "build_model",
    "derive_seed",
    "describe_config",
    "get_size",
    "lm_loss",
    "parameter_count",
    "reinit_embedding_rows",
    "seeded",
    "size_of",
]

#: the vocabulary size the parameter counts in the docs are stated for
DOCUMENTED_VOCAB = 8192
#: long enough for every preset; rotary positions have no parameters, so this costs nothing
MAX_POSITIONS = 4096


@dataclass(frozen=True)
class ModelSize:
    """The shape of one named size (everything but the vocabulary, which the tokenizer fixes)."""

    name: str
    hidden: int
    layers: int
    heads: int
    intermediate: int

    def config(self, vocab_size: int, eos_id: int | None = None) -> LlamaConfig:
        """The ``LlamaConfig`` of this size over ``vocab_size`` ids (eos recorded for generation)."""
        if vocab_size < 2:
            raise ConfigError(f"vocabulary of {vocab_size} ids is too small for a language model")
        return LlamaConfig(  # type: ignore[call-arg]  # (attn_implementation is a PretrainedConfig keyword the stub omits)
            vocab_size=vocab_size,
            hidden_size=self.hidden,
            intermediate_size=self.intermediate,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.heads,
            max_position_embeddings=MAX_POSITIONS,
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=eos_id,
            pad_token_id=None,
            use_cache=False,
            attn_implementation="sdpa",  # PyTorch's scaled_dot_product_attention with is_causal: flash in bf16 on a GPU
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SIZES: dict[str, ModelSize] = {
    "tiny": ModelSize("tiny", hidden=128, layers=4, heads=4, intermediate=384),
    "small": ModelSize("small", hidden=512, layers=6, heads=8, intermediate=1536),
    "base": ModelSize("base", hidden=768, layers=12, heads=12, intermediate=3072),
}


def get_size(name: str) -> ModelSize:
    """The named size; ``ConfigError`` naming the known ones otherwise."""
    try:
        return SIZES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown model size {name!r}: expected one of {', '.join(SIZES)}") from None


def parameter_count(size: str | ModelSize, vocab_size: int) -> int:
    """Exact number of parameters of ``size`` over ``vocab_size`` ids (tied embeddings counted once)."""
    s = get_size(size) if isinstance(size, str) else size
    h, i = s.hidden, s.intermediate
    return vocab_size * h + s.layers * (4 * h * h + 3 * h * i + 2 * h) + h


def size_of(config: Any) -> str | None:
    """The name of the size a model config has (``None`` when it is none of :data:`SIZES`)."""
    shape = (
        getattr(config, "hidden_size", None),
        getattr(config, "num_hidden_layers", None),
        getattr(config, "num_attention_heads", None),
        getattr(config, "intermediate_size", None),
    )
    for s in SIZES.values():
        if shape == (s.hidden, s.layers, s.heads, s.intermediate):
            return s.name
    return None


def describe_config(config: Any) -> str:
    """``hidden 128, 4 layers, 4 heads, feed-forward 384`` (for error messages)."""
    return (
        f"hidden {getattr(config, 'hidden_size', '?')}, {getattr(config, 'num_hidden_layers', '?')} layers, "
        f"{getattr(config, 'num_attention_heads', '?')} heads, feed-forward {getattr(config, 'intermediate_size', '?')}"
    )


def derive_seed(*words: int) -> int:
    """One 63-bit seed from several integers (a fixed mix, not Python's salted ``hash``, so every
    machine and process derives the same seed)."""
    value = 0
    for w in words:
        value = (value * 1_000_003 + int(w) + 0x9E3779B9) % (1 << 63)
    return value


@contextmanager
def seeded(seed: int | list[int]) -> Iterator[torch.Generator]:
    """Run the body with torch's global CPU generator seeded from ``seed`` (a list is mixed
    into one seed by :func:`derive_seed`), restoring the generator's previous state on exit: what
    happens inside is a function of ``seed`` alone and leaves the training RNG stream untouched.
    Yields a generator seeded the same way, for code that takes one explicitly."""
    value = derive_seed(*([seed] if isinstance(seed, int) else seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(value)
        gen = torch.Generator().manual_seed(value)
        yield gen


def build_model(size: str | ModelSize, vocab_size: int, *, seed: int, eos_id: int | None = None) -> LlamaForCausalLM:
    """A freshly initialised model of ``size`` (fp32, on the CPU); the initial weights depend on
    ``seed`` only."""
    s = get_size(size) if isinstance(size, str) else size
    config = s.config(vocab_size, eos_id)
    with seeded([seed, 0x11]):
        model = LlamaForCausalLM(config)
    return model


def reinit_embedding_rows(model: torch.nn.Module, rows: torch.Tensor | None, *, seed: int | list[int]) -> int:
    """Draw the embedding rows ``rows`` (a boolean mask over the vocabulary; ``None`` for all of
    them) afresh from the model's initial distribution, N(0, initializer_range). With tied
    embeddings this is also the output projection. Returns how many rows were drawn."""
    embeddings = getattr(model, "get_input_embeddings")()  # noqa: B009  (mypy types nn.Module attributes as Tensor)
    if not isinstance(embeddings, torch.nn.Embedding):
        raise ConfigError(f"the model's input embeddings are a {type(embeddings).__name__}, not an Embedding")
    weight = embeddings.weight
    std = float(getattr(model.config, "initializer_range", 0.02))
    with seeded(seed) as gen, torch.no_grad():
        fresh = torch.empty(weight.shape, dtype=torch.float32).normal_(0.0, std, generator=gen)
        if rows is None:
            weight.copy_(fresh.to(weight.dtype))
            return int(weight.shape[0])
        mask = rows.to(device=weight.device, dtype=torch.bool)
        weight[mask] = fresh.to(device=weight.device, dtype=weight.dtype)[mask]
        return int(mask.sum())


def lm_loss(model: torch.nn.Module, tokens: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Next-token cross-entropy of ``model`` on a token batch ``[B, L + 1]`` (fp32 logits)."""
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = model(input_ids=inputs).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """bf16 autocast on a GPU; fp32 (no autocast) on the CPU, where runs are exactly reproducible."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()
