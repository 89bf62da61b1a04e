"""hyperword.train.adapters: the LoRA pitfalls, each with a test (tiny models, no data)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("peft")

from peft import PeftModel  # noqa: E402

from hyperword import ConfigError  # noqa: E402
from hyperword.train.adapters import (  # noqa: E402
    BASE,
    LoraSpec,
    active_view,
    adapter_names,
    adapter_tokens,
    adapter_view,
    adapters_enabled,
    add_adapter,
    base_state_dict,
    load_model,
    owner_of,
    parameters_of,
    save_model,
    set_trainable,
)
from hyperword.train.model import build_model  # noqa: E402
from hyperword.train.presets import PRESETS  # noqa: E402
from hyperword.train.trainer import make_optimizer  # noqa: E402

torch.set_num_threads(1)

VOCAB = 97
#: merged and unmerged LoRA logits agree within this (absolute and relative), in fp32
MERGE_TOLERANCE = 1e-5


def tokens(seed: int = 0, batch: int = 2, length: int = 12) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return model(input_ids=x).logits


def perturb_lora(model: torch.nn.Module, name: str, seed: int) -> None:
    """Non-zero B matrices (as after training), so the adapter changes the outputs."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if owner_of(n) == name and ".lora_B." in n:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)


#: the embedding rows ``lang`` owns in the fixture's second form
LANG_TOKENS = [3, 5, 8, 13, 21, 34, 55]


def perturb_tokens(model: torch.nn.Module, name: str, seed: int) -> None:
    """The adapter's own embedding rows moved away from the base rows (as after training)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if owner_of(n) == name and ".trainable_tokens_delta." in n:
                p.add_(torch.randn(p.shape, generator=gen))


@pytest.fixture(params=[None, LANG_TOKENS], ids=["lora", "lora+tokens"])
def two_adapters(request: pytest.FixtureRequest) -> PeftModel:
    """A tiny model with adapters ``mnemo`` (all layers) and ``lang`` (attention only, and in the
    second form owning the embedding rows of :data:`LANG_TOKENS`), both trained-looking;
    ``mnemo`` active."""
    model = add_adapter(build_model("tiny", VOCAB, seed=0), "mnemo", LoraSpec(r=4, alpha=8), seed=1)
    model = add_adapter(
        model, "lang", LoraSpec(r=2, alpha=4, targets=("q_proj", "v_proj")), seed=2, tokens=request.param
    )
    perturb_lora(model, "mnemo", 3)
    perturb_lora(model, "lang", 4)
    perturb_tokens(model, "lang", 5)
    assert isinstance(model, PeftModel) and model.active_adapter == "mnemo"
    assert adapter_tokens(model, "lang") == (request.param or []) and adapter_tokens(model, "mnemo") == []
    return model


def test_owners_come_from_parameter_names() -> None:
    assert owner_of("base_model.model.model.layers.0.self_attn.q_proj.lora_A.mnemo.weight") == "mnemo"
    assert owner_of("base_model.model.model.embed_tokens.lora_embedding_B.lang") == "lang"
    assert owner_of("base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight") == BASE
    assert owner_of("model.embed_tokens.weight") == BASE
    assert owner_of("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta.lang") == "lang"
    assert owner_of("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_original.lang") == "lang"
    assert owner_of("base_model.model.model.embed_tokens.token_adapter.base_layer.weight") == BASE


def test_each_stage_optimizer_holds_exactly_its_parameters_by_name_whatever_set_adapter_did(
    two_adapters: PeftModel,
) -> None:
    model = two_adapters
    model.set_adapter("lang")  # peft switches requires_grad on for 'lang' (and off for 'mnemo')
    by_grad = {n for n, p in model.named_parameters() if p.requires_grad}
    assert by_grad and all(owner_of(n) == "lang" for n in by_grad)
    preset = PRESETS["smoke"]
    plain = {n for n, _ in build_model("tiny", VOCAB, seed=0).named_parameters()}
    own_rows = {n for n, _ in model.named_parameters() if ".trainable_tokens_delta.lang" in n}
    expected = {
        "mnemo": {n for n, _ in model.named_parameters() if ".lora_" in n and ".mnemo." in n},
        "lang": {n for n, _ in model.named_parameters() if ".lora_" in n and ".lang." in n} | own_rows,
        BASE: {n for n, _ in model.named_parameters() if ".lora_" not in n and ".trainable_tokens_" not in n},
    }
    assert len(expected["mnemo"]) == 2 * 7 * 4  # A and B of 7 layers in each of 4 blocks
    assert len(own_rows) == (1 if adapter_tokens(model, "lang") else 0)  # tied: one set of rows for input and output
    unwrapped = {
        n.replace("base_model.model.", "").replace(".token_adapter.base_layer", "").replace(".base_layer", "")
        for n in expected[BASE]
    }
    assert unwrapped == plain
    for owner, names in expected.items():
        named = parameters_of(model, [owner])
        assert {n for n, _ in named} == names
        assert names != by_grad or owner == "lang"
        optimizer = make_optimizer(named, preset, 1e-3)
        held = {id(p) for g in optimizer.param_groups for p in g["params"]}
        assert held == {id(p) for n, p in model.named_parameters() if n in names}
        assert sorted(n for g in optimizer.param_groups for n in g["names"]) == sorted(names)
        set_trainable(model, [owner])
        assert {n for n, p in model.named_parameters() if p.requires_grad} == names


def test_disabling_adapters_in_a_block_restores_the_previous_state_also_after_an_exception(
    two_adapters: PeftModel,
) -> None:
    model = two_adapters
    x = tokens()
    set_trainable(model, ["lang"])  # a state set_adapter would not produce: 'mnemo' active, 'lang' trainable
    before = logits(model, x)
    grads = {n: p.requires_grad for n, p in model.named_parameters()}
    base_out = None
    with pytest.raises(RuntimeError, match="boom"):
        with adapter_view(model, None):
            assert active_view(model) is None and not adapters_enabled(model)
            base_out = logits(model, x)
            raise RuntimeError("boom")
    assert active_view(model) == "mnemo" and adapters_enabled(model)
    assert {n: p.requires_grad for n, p in model.named_parameters()} == grads
    assert torch.equal(logits(model, x), before)
    assert base_out is not None and not torch.allclose(base_out, before)
    with adapter_view(model, "lang"):  # switching to another adapter is undone the same way
        assert active_view(model) == "lang"
    assert active_view(model) == "mnemo" and {n: p.requires_grad for n, p in model.named_parameters()} == grads
    with adapter_view(model, None):  # nested: the inner block restores the outer block's state
        with adapter_view(model, "lang"):
            assert active_view(model) == "lang"
        assert active_view(model) is None
    assert active_view(model) == "mnemo"
    with pytest.raises(ConfigError, match="does not exist"):
        with adapter_view(model, "nope"):
            pass


def test_with_adapters_disabled_the_outputs_equal_the_base_models(two_adapters: PeftModel) -> None:
    model = two_adapters
    plain = build_model("tiny", VOCAB, seed=99)
    plain.load_state_dict(base_state_dict(model))
    x = tokens(1)
    with adapter_view(model, None):
        assert torch.equal(logits(model, x), logits(plain, x))
    for view in ("mnemo", "lang"):
        with adapter_view(model, view):
            assert not torch.allclose(logits(model, x), logits(plain, x), atol=1e-4)


@pytest.mark.filterwarnings("ignore:Already unmerged")  # layers 'lang' does not target have nothing to unmerge
def test_merged_and_unmerged_adapters_give_the_same_logits_within_fp32_tolerance(two_adapters: PeftModel) -> None:
    model = two_adapters
    x = tokens(2)
    q = dict(model.named_parameters())["base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight"]
    original = q.detach().clone()
    for view in ("mnemo", "lang"):
        with adapter_view(model, view):
            unmerged = logits(model, x)
            model.merge_adapter()
            assert not torch.equal(q, original)  # the adapter really is folded into the base weight
            merged = logits(model, x)
            model.unmerge_adapter()
            again = logits(model, x)
        assert torch.allclose(merged, unmerged, atol=MERGE_TOLERANCE, rtol=MERGE_TOLERANCE)
        assert torch.allclose(again, unmerged, atol=MERGE_TOLERANCE, rtol=MERGE_TOLERANCE)
        assert torch.allclose(q, original, atol=1e-6)


def test_switching_an_adapter_off_changes_the_outputs_and_back_on_restores_them(two_adapters: PeftModel) -> None:
    model = two_adapters
    x = tokens(3)
    with adapter_view(model, "mnemo"):
        on = logits(model, x)
        with adapter_view(model, None):
            off = logits(model, x)
        on_again = logits(model, x)
    assert not torch.allclose(on, off, atol=1e-4)
    assert torch.equal(on, on_again)


def test_a_new_adapter_starts_as_a_no_op_and_leaves_the_active_adapter_active() -> None:
    plain = build_model("tiny", VOCAB, seed=0)
    x = tokens(4)
    reference = logits(plain, x)
    model = add_adapter(plain, "mnemo", LoraSpec(r=4, alpha=8), seed=1)
    with adapter_view(model, "mnemo"):
        assert torch.equal(logits(model, x), reference)  # LoRA's B starts at zero
    model = add_adapter(model, "lang", LoraSpec(), seed=2)
    assert model.active_adapter == "mnemo" and adapter_names(model) == ["mnemo", "lang"]
    a = {
        n: p.detach().clone()
        for n, p in add_adapter(build_model("tiny", VOCAB, seed=0), "x", LoraSpec(), seed=7).named_parameters()
    }
    b = {
        n: p.detach().clone()
        for n, p in add_adapter(build_model("tiny", VOCAB, seed=0), "x", LoraSpec(), seed=7).named_parameters()
    }
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)  # seeded
    with pytest.raises(ConfigError, match="exists already"):
        add_adapter(model, "lang", LoraSpec(), seed=3)
    with pytest.raises(ConfigError, match="identifier"):
        add_adapter(model, "base", LoraSpec(), seed=3)


def test_models_with_adapters_save_and_load_with_peft(two_adapters: PeftModel, tmp_path: Path) -> None:
    model = two_adapters
    x = tokens(5)
    expected = {}
    for view in (None, "mnemo", "lang"):
        with adapter_view(model, view):
            expected[view] = logits(model, x)
    save_model(model, tmp_path / "saved")
    assert (tmp_path / "saved" / "adapters" / "lang" / "adapter_config.json").is_file()
    loaded = load_model(tmp_path / "saved", size="tiny", vocab_size=VOCAB)
    assert isinstance(loaded, PeftModel) and adapter_names(loaded) == ["mnemo", "lang"]
    for view, out in expected.items():
        with adapter_view(loaded, view):
            assert torch.equal(logits(loaded, x), out)
    with pytest.raises(ConfigError, match="'small'"):
        load_model(tmp_path / "saved", size="small")
    with pytest.raises(ConfigError, match="97 token ids"):
        load_model(tmp_path / "saved", vocab_size=98)


@pytest.mark.parametrize("first_owns_rows", [True, False])
def test_adapters_with_and_without_own_rows_save_and_load_in_either_order(
    tmp_path: Path, first_owns_rows: bool
) -> None:
    """peft alone raises KeyError saving or loading the adapter without rows here."""
    rows = [[1, 2, 3], None] if first_owns_rows else [None, [1, 2, 3]]
    model = add_adapter(build_model("tiny", VOCAB, seed=0), "mnemo", LoraSpec(r=2, alpha=4), seed=1, tokens=rows[0])
    model = add_adapter(model, "lang", LoraSpec(r=4, alpha=8), seed=2, tokens=rows[1])
    for i, name in enumerate(("mnemo", "lang")):
        perturb_lora(model, name, 10 + i)
        perturb_tokens(model, name, 20 + i)
    x = tokens(6)
    expected = {}
    for view in (None, "mnemo", "lang"):
        with adapter_view(model, view):
            expected[view] = logits(model, x)
    assert not torch.equal(expected["mnemo"], expected["lang"])
    save_model(model, tmp_path / "saved")
    loaded = load_model(tmp_path / "saved")
    assert [adapter_tokens(loaded, n) for n in ("mnemo", "lang")] == [r or [] for r in rows]
    for view, out in expected.items():
        with adapter_view(loaded, view):
            assert torch.equal(logits(loaded, x), out), view


def test_an_adapter_owning_rows_leaves_the_base_rows_and_other_ids_alone_and_starts_as_a_no_op() -> None:
    plain = build_model("tiny", VOCAB, seed=0)
    x = tokens(7)
    reference = logits(plain, x)
    base_rows = plain.get_input_embeddings().weight.detach().clone()
    model = add_adapter(plain, "lang", LoraSpec(), seed=1, tokens=[9, 4, 4])
    assert adapter_tokens(model, "lang") == [4, 9]  # sorted, once each
    with adapter_view(model, "lang"):
        assert torch.equal(logits(model, x), reference)  # the rows start as the base rows
    perturb_tokens(model, "lang", 1)
    with adapter_view(model, "lang"):
        moved = logits(model, x)
        with adapter_view(model, None):
            assert torch.equal(logits(model, x), reference)
    assert not torch.allclose(moved, reference, atol=1e-4)
    # tied: the output projection uses the adapter's rows too, and only for the owned ids
    probe = torch.tensor([[0, 1, 2]])
    with adapter_view(model, "lang"):
        on = logits(model, probe)
    with adapter_view(model, None):
        off = logits(model, probe)
    changed = (on - off).abs().amax(dim=(0, 1)) > 1e-6
    assert changed.nonzero().flatten().tolist() == [4, 9]
    assert torch.equal(base_state_dict(model)["model.embed_tokens.weight"], base_rows)
    with pytest.raises(ConfigError, match="empty"):
        add_adapter(model, "other", LoraSpec(), seed=2, tokens=[])


def test_lora_spec_is_validated() -> None:
    for bad in ({"r": 0}, {"alpha": 0}, {"dropout": 1.0}, {"targets": ()}, {"targets": ("lm_head",)}):
        with pytest.raises(ConfigError):
            LoraSpec(**bad)  # type: ignore[arg-type]
